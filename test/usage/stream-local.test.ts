/**
 * The per-request stream on the local gateway: the stage's access log, through the app's
 * subscription filter and Firehose stream, lands in the local S3 as gzip JSON lines under
 * requests/dt=YYYY-MM-DD/ when the buffer interval passes, every request once.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Stack } from 'aws-cdk-lib';
import { KeyProtectedApi, UsageExport } from '../../lib';
import { LocalFirehose, expandPrefix } from '../../lib/local/firehose/service';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { mock } from '../support/keygate-fixtures';

jest.setTimeout(120_000);

let now = Date.parse('2026-06-01T23:58:00Z');
let workDir: string;
let gateway: LocalGateway;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-usage-stream-'));
  const app = new App({ outdir: path.join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const basic = api.addTier('Basic', { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 100, period: apigw.Period.DAY } });
  api.addClient('acme', { tiers: [basic] });
  new UsageExport(stack, 'Usage', { api, requestLogGroup: api.accessLogGroupOf(api.stages[0]) });
  gateway = await startLocalGateway({ assemblyDir: app.synth().directory, clock: () => now, showValues: true, log: () => undefined });
});

afterAll(async () => {
  await gateway?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('every request once, buffered for the stream\'s interval, in the day it was delivered', async () => {
  expect(gateway.unsupported.filter((u) => u.type.includes('SubscriptionFilter') || u.type.includes('Firehose'))).toEqual([]);
  const url = `${gateway.info.apis[0].stages[0].url}/pets`;
  const key = gateway.info.keys[0].value ?? '';
  const statuses: number[] = [];
  for (const headers of [{ 'x-api-key': key }, { 'x-api-key': key }, { 'x-api-key': key }, {}] as Record<string, string>[]) {
    const res = await fetch(url, { headers });
    await res.text();
    statuses.push(res.status);
  }
  expect(statuses).toEqual([200, 200, 429, 403]);
  const bucket = gateway.s3.bucketNames.find((b) => b.includes('UsageBucket')) ?? '';
  // Within the interval (300 s): nothing delivered yet
  now += 60_000;
  gateway.firehose.flushDue();
  expect(gateway.s3.keys(bucket, 'requests/')).toEqual([]);
  // After it: one file, in the day Firehose delivered it (after midnight)
  now += 300_000;
  gateway.firehose.flushDue();
  const keys = gateway.s3.keys(bucket, 'requests/');
  expect(keys).toHaveLength(1);
  expect(keys[0]).toMatch(/^requests\/dt=2026-06-02\/.+-1-2026-06-02-00-04-00-[0-9a-f-]{36}\.gz$/);
  const lines = gunzipSync(gateway.s3.object(bucket, keys[0])!).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { requestId: string; status: string | number; apiKeyId: string });
  expect(lines.map((l) => Number(l.status))).toEqual([200, 200, 429, 403]);
  expect(new Set(lines.map((l) => l.requestId)).size).toBe(4);
  expect(lines[0].apiKeyId).toBe(gateway.info.keys[0].id);
  expect(gateway.firehose.delivered).toBe(4);
});

test('size or time, whichever first; prefixes expand in UTC', () => {
  const put: { key: string; body: Buffer }[] = [];
  let t = Date.parse('2026-01-31T23:59:59Z');
  const fh = new LocalFirehose([{ streamName: 's', stages: [{ apiId: 'a', stage: 'prod' }], bucket: 'b', prefix: 'r/dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH}/', bufferMs: 60_000, bufferBytes: 100, gzip: false }],
    { clock: () => t, put: (_b, key, body) => put.push({ key, body }) });
  const line = JSON.stringify({ apiId: 'a', stage: 'prod', pad: 'x'.repeat(40) });
  fh.record(line);
  fh.record(JSON.stringify({ apiId: 'other', stage: 'prod' }));
  expect(put).toHaveLength(0);
  fh.record(line); // > 100 bytes: delivered at once
  expect(put.map((p) => [p.key.replace(/-[0-9a-f-]{36}$/, ''), p.body.toString()])).toEqual([['r/dt=2026-01-31/h=23/s-1-2026-01-31-23-59-59', `${line}\n${line}\n`]]);
  fh.record(line);
  t += 60_000;
  fh.flushDue();
  expect(put[1].key).toMatch(/^r\/dt=2026-02-01\/h=00\/s-1-2026-02-01-00-00-59-/);
  expect(expandPrefix('x/!{timestamp:yyyy}/!{timestamp:MM}/', Date.parse('2026-12-31T23:00:00Z'))).toBe('x/2026/12/');
});
