/*
 * The usage export at 10,000 keys × 30 days (`npm run bench:usage`, also printed by `npm run
 * bench`): the real reader (lib/sdk/usage-export.ts) against the local control plane with
 * 10,000 keys in one tier (imported with ImportApiKeys), every API Gateway call counted; the
 * seconds those calls take at API Gateway's documented rate (10 requests/s shared by GET
 * calls); the bytes of the 30 daily files, written by the job's own gzip with every key
 * making a different number of requests each day (counts from a fixed pseudo-random
 * sequence, so the figure is reproducible).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { APIGatewayClient, ImportApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { App, Stack } from 'aws-cdk-lib';
import { KeyProtectedApi } from '../lib';
import { startLocalGateway } from '../lib/local';
import { dayFile, readUsageRows, rowsByDay } from '../lib/sdk/usage-export';
import { daysBetween } from '../lib/shared/usage-export';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface UsageExportBench {
  readonly keys: number;
  readonly days: number;
  readonly rows: number;
  readonly callsByOperation: Record<string, number>;
  readonly calls: number;
  /** At 10 GET requests/s (API Gateway's shared control-plane rate). */
  readonly secondsAtAwsRates: number;
  readonly localSeconds: number;
  readonly bytes: number;
  readonly largestDayBytes: number;
}

const KEYS = 10_000;
const FROM = '2026-01-01';
const TO = '2026-01-30';

export async function benchUsageExport(): Promise<UsageExportBench> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-bench-usage-'));
  const app = new App({ outdir: path.join(work, 'cdk.out') });
  const stack = new Stack(app, 'Bench');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode": 200}' }, integrationResponses: [{ statusCode: '200' }] }));
  api.addTier('Basic', { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 100_000, period: apigw.Period.MONTH } });
  const gateway = await startLocalGateway({ assemblyDir: app.synth().directory, clock: () => Date.parse(`${TO}T12:00:00Z`), log: () => undefined });
  const client = new APIGatewayClient({ endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  const calls: Record<string, number> = {};
  try {
    const planId = [...gateway.model.plans.values()][0].id;
    const csv = ['Name,Key,Enabled,UsagePlanIds', ...Array.from({ length: KEYS }, (_, i) => `bench-${i},benchkey${String(i).padStart(12, '0')}x,true,${planId}`)].join('\n');
    await client.send(new ImportApiKeysCommand({ format: 'csv', body: Buffer.from(csv), failOnWarnings: true }));
    client.middlewareStack.add((next, context) => async (args) => {
      calls[context.commandName ?? '?'] = (calls[context.commandName ?? '?'] ?? 0) + 1;
      return next(args);
    }, { step: 'initialize', name: 'countCalls' });
    const started = process.hrtime.bigint();
    const read = await readUsageRows(client, { from: FROM, to: TO, apiId: gateway.info.apis[0].id });
    const localSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Every key uses the API differently every day (a fixed LCG, so the bytes are reproducible).
    let seed = 12345;
    const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
    const rows = read.rows.map((r) => ({ ...r, used: rand() % 3000, remaining: rand() % 100_000 }));
    let bytes = 0;
    let largest = 0;
    for (const dayRows of rowsByDay(rows, daysBetween(FROM, TO)).values()) {
      const size = dayFile(dayRows).length;
      bytes += size;
      largest = Math.max(largest, size);
    }
    const total = Object.values(calls).reduce((s, n) => s + n, 0);
    return { keys: KEYS, days: 30, rows: rows.length, callsByOperation: calls, calls: total, secondsAtAwsRates: total / 10, localSeconds, bytes, largestDayBytes: largest };
  } finally {
    client.destroy();
    await gateway.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function formatUsageExportBench(b: UsageExportBench): string {
  return `Usage export, ${b.keys.toLocaleString('en-US')} keys × ${b.days} days (one tier): ${b.rows.toLocaleString('en-US')} rows; `
    + `${b.calls} API Gateway calls (${Object.entries(b.callsByOperation).map(([op, n]) => `${op.replace(/Command$/, '')} ${n}`).join(', ')}) = `
    + `${b.secondsAtAwsRates.toFixed(1)} s at API Gateway's 10 requests/s (${b.localSeconds.toFixed(1)} s against the local gateway); `
    + `${(b.bytes / 2 ** 20).toFixed(2)} MiB of gzip JSON lines written (largest day ${(b.largestDayBytes / 1024).toFixed(0)} KiB). `
    + `${b.secondsAtAwsRates < 900 ? 'PASS' : 'FAIL'}: within one 15-minute Lambda run.`;
}

if (require.main === module) {
  benchUsageExport().then((b) => {
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(b, null, 2)}\n`);
    else process.stdout.write(`${formatUsageExportBench(b)}\n`);
  }).catch((e: unknown) => { console.error(e); process.exit(1); });
}
