/**
 * The usage rows (lib/sdk/usage-export.ts) through the real AWS SDK against the local control
 * plane: more than 500 keys (two GetUsage pages), a 200-day range read in three windows, and
 * the exact counts of the requests sent through the gateway on those days.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { App, Stack } from 'aws-cdk-lib';
import { KeyProtectedApi } from '../../lib';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { readUsageRows, validateUsageRange } from '../../lib/sdk/usage-export';
import { usageWindows } from '../../lib/shared/usage-export';
import { mock } from '../support/keygate-fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

const TO = '2026-03-31';
const FROM = '2025-09-13'; // 200 days
const at = (day: string, hour = 12) => Date.parse(`${day}T${String(hour).padStart(2, '0')}:00:00Z`);

let now = at(FROM);
let workDir: string;
let gateway: LocalGateway;
let client: APIGatewayClient;
let stageUrl: string;
let planId: string;
const extra: { id: string; value: string }[] = [];

async function send(value: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${stageUrl}/pets`, { headers: { 'x-api-key': value } });
    await res.text();
    out.push(res.status);
  }
  return out;
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-usage-sdk-'));
  const app = new App({ outdir: path.join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const basic = api.addTier('Basic', { throttle: { rateLimit: 1000, burstLimit: 1000 }, quota: { limit: 100000, period: apigw.Period.MONTH } });
  api.addClient('acme', { tiers: [basic] });
  gateway = await startLocalGateway({ assemblyDir: app.synth().directory, clock: () => now, showValues: true, log: () => undefined });
  client = new APIGatewayClient({ endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  stageUrl = gateway.info.apis[0].stages[0].url.replace(/\/$/, '');
  planId = [...gateway.model.plans.values()][0].id;
  for (let i = 0; i < 505; i++) {
    const k = await client.send(new CreateApiKeyCommand({ name: `bulk-${String(i).padStart(3, '0')}`, enabled: true, customerId: i % 2 === 0 ? `cust-${i % 7}` : undefined }));
    await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: k.id, keyType: 'API_KEY' }));
    extra.push({ id: k.id ?? '', value: k.value ?? '' });
  }
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  client?.destroy();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('the range is split into windows of at most 90 days', () => {
  expect(usageWindows(FROM, TO)).toEqual([
    { from: '2025-09-13', to: '2025-12-11' }, { from: '2025-12-12', to: '2026-03-11' }, { from: '2026-03-12', to: '2026-03-31' },
  ]);
  expect(usageWindows('2026-01-01', '2026-01-01')).toEqual([{ from: '2026-01-01', to: '2026-01-01' }]);
  expect(() => validateUsageRange('2026-02-30', TO)).toThrow('from must be a day like 2026-01-31, not "2026-02-30"');
  expect(() => validateUsageRange(TO, FROM)).toThrow(`from ${TO} is after to ${FROM}`);
});

test('505 keys over 200 days: every page of every window, exact counts on the right days', async () => {
  // GIVEN traffic on the first day, in the middle window and on the last day
  const acme = gateway.info.keys.find((k) => k.name === 'acme')!;
  now = at(FROM, 0);
  expect(await send(extra[0].value, 3)).toEqual([200, 200, 200]);
  now = at('2025-12-12', 23);
  expect(await send(extra[504].value, 2)).toEqual([200, 200]);
  now = at(TO, 1);
  expect(await send(acme.value ?? '', 4)).toEqual([200, 200, 200, 200]);
  await client.send(new UpdateApiKeyCommand({ apiKey: extra[4].id, patchOperations: [{ op: 'replace', path: '/customerId', value: 'marketplace-cust' }] }));

  // WHEN
  const progress: string[] = [];
  const read = await readUsageRows(client, { from: FROM, to: TO, apiId: gateway.info.apis[0].id, onProgress: (d, t) => progress.push(`${d}/${t}`) });

  // THEN 506 keys × 200 days, read in 3 windows × 2 pages (500 keys a page)
  expect(read.windows).toBe(3);
  expect(read.calls.getUsage).toBe(6);
  expect(progress).toEqual(['1/3', '2/3', '3/3']);
  expect(read.rows).toHaveLength(506 * 200);
  const used = read.rows.filter((r) => r.used > 0).map((r) => ({ date: r.date, keyId: r.keyId, used: r.used, remaining: r.remaining }));
  expect(used).toEqual([
    { date: FROM, keyId: extra[0].id, used: 3, remaining: 99997 },
    { date: '2025-12-12', keyId: extra[504].id, used: 2, remaining: 99998 },
    { date: TO, keyId: acme.id, used: 4, remaining: 99996 },
  ].sort((a, b) => a.date.localeCompare(b.date)));
  const row = read.rows.find((r) => r.keyId === extra[4].id && r.date === TO)!;
  expect(row).toEqual({
    date: TO, apiId: gateway.info.apis[0].id, stage: 'prod', planId, keyId: extra[4].id, keyName: 'bulk-004',
    customerId: 'marketplace-cust', used: 0, remaining: 100000, quotaLimit: 100000,
  });
  // AND rows come in one order: date, plan, key id
  const order = read.rows.slice(0, 600).map((r) => `${r.date}|${r.keyId}`);
  expect(order).toEqual([...order].sort());
});
