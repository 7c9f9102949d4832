/**
 * The usage export end to end on the local gateway: traffic across a UTC day boundary with
 * throttled and quota-exceeded requests; the daily job runs as the bundled Lambda on the
 * gateway's clock and writes to the local S3 (read back with the real S3 SDK) and puts its
 * events; a re-run writes the same bytes; `keygate usage export` (a process, as a user runs it)
 * writes the same files; the docs' named queries run in DuckDB over those files.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { APIGatewayClient, UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { App, Stack } from 'aws-cdk-lib';
import { KeyProtectedApi, UsageExport } from '../../lib';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { USAGE_EVENT_DETAIL_TYPE, USAGE_QUERIES, UsageExportRow } from '../../lib/shared/usage-export';
import { mock } from '../support/keygate-fixtures';
import { runCli } from '../support/run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(180_000);

const D0 = '2026-03-30';
const D1 = '2026-03-31';
const D2 = '2026-04-01';
const at = (day: string, time: string) => Date.parse(`${day}T${time}Z`);

let now = at(D0, '23:59:00');
let workDir: string;
let gateway: LocalGateway;
let apigwClient: APIGatewayClient;
let s3: S3Client;
let bucket: string;
let stageUrl: string;
const accessLog: string[] = [];
const values: Record<string, string> = {};
const ids: Record<string, string> = {};
/** 2xx answers per key and UTC day, as the clients saw them. */
const ok: Record<string, number> = {};

async function send(name: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${stageUrl}/pets`, { headers: { 'x-api-key': values[name] } });
    await res.text();
    if (res.status === 200) ok[`${name}|${new Date(now).toISOString().slice(0, 10)}`] = (ok[`${name}|${new Date(now).toISOString().slice(0, 10)}`] ?? 0) + 1;
    out.push(res.status);
  }
  return out;
}

const local = () => ({ endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

async function getObject(key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-usage-e2e-'));
  const app = new App({ outdir: path.join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const basic = api.addTier('Basic', { throttle: { rateLimit: 1, burstLimit: 4 }, quota: { limit: 5, period: apigw.Period.DAY } });
  const pro = api.addTier('Pro', { throttle: { rateLimit: 1000, burstLimit: 1000 } });
  api.addClient('acme', { tiers: [basic] });
  api.addClient('globex', { tiers: [pro] });
  new UsageExport(stack, 'Usage', { api, reExportDays: 3 });
  gateway = await startLocalGateway({
    assemblyDir: app.synth().directory, clock: () => now, showValues: true, log: () => undefined, accessLog: (line) => accessLog.push(line),
    statePath: path.join(workDir, 'state.json'),
  });
  apigwClient = new APIGatewayClient(local());
  s3 = new S3Client({ ...local(), forcePathStyle: true });
  stageUrl = gateway.info.apis[0].stages[0].url.replace(/\/$/, '');
  for (const k of gateway.info.keys) { values[k.name] = k.value ?? ''; ids[k.name] = k.id; }
  await apigwClient.send(new UpdateApiKeyCommand({ apiKey: ids.acme, patchOperations: [{ op: 'replace', path: '/customerId', value: 'cust-acme' }] }));
  await apigwClient.send(new UpdateApiKeyCommand({ apiKey: ids.globex, patchOperations: [{ op: 'replace', path: '/customerId', value: 'cust-globex' }] }));
  bucket = gateway.s3.bucketNames.find((b) => b.includes('UsageBucket')) ?? '';
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  apigwClient?.destroy();
  s3?.destroy();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('traffic across midnight with throttles and quotas: the job exports exactly the counted requests, the same bytes on a re-run', async () => {
  // GIVEN on D0 at 23:59 (the clock stands still: the bucket doesn't refill) acme bursts 6: 4 pass, 2 throttled
  expect(await send('acme', 6)).toEqual([200, 200, 200, 200, 429, 429]);
  expect(await send('globex', 3)).toEqual([200, 200, 200]);
  // AND on D1 after midnight acme's daily quota (5) runs out: 5 pass, 2 "Limit Exceeded"
  now = at(D1, '00:00:30');
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) { now += 2000; statuses.push(...await send('acme', 1)); }
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  now = at(D1, '13:00:00');
  expect(await send('globex', 2)).toEqual([200, 200]);

  // WHEN the gateway's clock reaches D2 and the daily job is due (a day after the deploy)
  now = at(D2, '00:05:00');
  const runs = await gateway.runDueJobs();
  expect(runs.filter((r) => r.job.includes('UsageJob')).map((r) => r.error)).toEqual([undefined]);

  // THEN one file per day for the last 3 complete days, listed and read with the real S3 SDK
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'usage/' }));
  expect(listed.Contents?.map((c) => c.Key)).toEqual(['2026-03-29', D0, D1].map((d) => `usage/dt=${d}/part-0.json.gz`));
  const dayRows = async (d: string): Promise<UsageExportRow[]> => gunzipSync(await getObject(`usage/dt=${d}/part-0.json.gz`)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as UsageExportRow);
  const used = async (d: string) => Object.fromEntries((await dayRows(d)).map((r) => [`${r.keyName}|${r.date}`, r.used]));
  // Exactly the 2xx answers: throttled and quota-exceeded requests don't count.
  expect({ ...(await used(D0)), ...(await used(D1)) }).toEqual({ [`acme|${D0}`]: 4, [`globex|${D0}`]: 3, [`acme|${D1}`]: 5, [`globex|${D1}`]: 2 });
  expect(ok).toEqual({ [`acme|${D0}`]: 4, [`globex|${D0}`]: 3, [`acme|${D1}`]: 5, [`globex|${D1}`]: 2 });
  const acmeD1 = (await dayRows(D1)).find((r) => r.keyName === 'acme')!;
  expect(acmeD1).toEqual({
    date: D1, apiId: gateway.info.apis[0].id, stage: 'prod', planId: acmeD1.planId, keyId: ids.acme, keyName: 'acme', customerId: 'cust-acme', used: 5, remaining: 0, quotaLimit: 5,
  });
  expect((await dayRows(D1)).find((r) => r.keyName === 'globex')).toMatchObject({ remaining: null, quotaLimit: null, customerId: 'cust-globex' });
  // AND the events: one per day with its totals and location
  const events = gateway.eventBus.events.filter((e) => e.detailType === USAGE_EVENT_DETAIL_TYPE);
  expect(events.map((e) => e.detail)).toEqual([
    { date: '2026-03-29', apiId: gateway.info.apis[0].id, keys: 2, requests: 0, rows: 2, location: `s3://${bucket}/usage/dt=2026-03-29/part-0.json.gz`, bytes: expect.any(Number) },
    { date: D0, apiId: gateway.info.apis[0].id, keys: 2, requests: 7, rows: 2, location: `s3://${bucket}/usage/dt=${D0}/part-0.json.gz`, bytes: expect.any(Number) },
    { date: D1, apiId: gateway.info.apis[0].id, keys: 2, requests: 7, rows: 2, location: `s3://${bucket}/usage/dt=${D1}/part-0.json.gz`, bytes: expect.any(Number) },
  ]);

  // WHEN the job runs again (a retry, or the next day's re-export of the same days)
  const before = await getObject(`usage/dt=${D1}/part-0.json.gz`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `usage/dt=${D1}/part-0.json.gz` }));
  expect(head.ContentLength).toBe(before.length);
  const job = gateway.scheduledJobs.find((j) => j.job.name.includes('UsageJob'))!.job;
  await job.run();
  // THEN the same bytes
  expect((await getObject(`usage/dt=${D1}/part-0.json.gz`)).equals(before)).toBe(true);
  expect(gateway.eventBus.events.filter((e) => e.detailType === USAGE_EVENT_DETAIL_TYPE)).toHaveLength(6);
  // AND the files sit under the state folder, where DuckDB or any tool can read them
  expect(fs.readFileSync(path.join(workDir, 'state.json.s3', bucket, 'usage', `dt=${D1}`, 'part-0.json.gz')).equals(before)).toBe(true);
});

test('keygate usage export writes the same files as the job, and the named queries give the totals in DuckDB', async () => {
  // WHEN (a process on the real clock, against the local control plane)
  const out = path.join(workDir, 'export');
  const cli = await runCli(['usage', 'export', '--from', D0, '--to', D1, '--out', out, '--json', '--endpoint', gateway.info.controlPlane], { timeoutMs: 90_000 });
  expect(cli.stderr).toBe('');
  expect(cli.code).toBe(0);
  const summary = JSON.parse(cli.stdout) as { rows: number; requests: number; keys: number; windows: number; files: { path: string }[] };
  expect(summary).toMatchObject({ rows: 4, requests: 14, keys: 2, windows: 1 });
  // THEN byte for byte the job's files
  for (const d of [D0, D1]) {
    expect(fs.readFileSync(path.join(out, `usage/dt=${d}/part-0.json.gz`)).equals(gateway.s3.object(bucket, `usage/dt=${d}/part-0.json.gz`)!)).toBe(true);
  }

  // AND the docs' queries, as written, over those files (usage_daily is a view, as the Glue table is in Athena)
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(`CREATE VIEW usage_daily AS SELECT * FROM read_json('${out}/usage/*/*.json.gz', format = 'newline_delimited', hive_partitioning = true,
    columns = {date: 'VARCHAR', apiId: 'VARCHAR', stage: 'VARCHAR', planId: 'VARCHAR', keyId: 'VARCHAR', keyName: 'VARCHAR', customerId: 'VARCHAR', used: 'BIGINT', remaining: 'BIGINT', quotaLimit: 'BIGINT'})`);
  const perCustomer = (await con.runAndReadAll(USAGE_QUERIES.requestsPerCustomerPerMonth('usage_daily'))).getRowObjectsJson();
  expect(perCustomer).toEqual([{ customerId: 'cust-acme', month: '2026-03', requests: '9' }, { customerId: 'cust-globex', month: '2026-03', requests: '5' }]);
  const over = (await con.runAndReadAll(USAGE_QUERIES.keysOverQuotaPercent('usage_daily', 80))).getRowObjectsJson();
  expect(over.map((r) => [r.date, r.keyName, r.used, r.remaining, r.percentOfQuota])).toEqual([[D0, 'acme', '4', '1', 80], [D1, 'acme', '5', '0', 100]]);

  // AND the billable query over the access log's lines, laid out as the per-request stream delivers them
  const byDay = new Map<string, string[]>();
  for (const line of accessLog) {
    const day = new Date(Date.parse(String((JSON.parse(line) as { requestTime: string }).requestTime).replace(/^(\d+)\/(\w+)\/(\d+):(\d+:\d+:\d+) /, '$2 $1 $3 $4 '))).toISOString().slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), line]);
  }
  for (const [day, lines] of byDay) {
    fs.mkdirSync(path.join(out, 'requests', `dt=${day}`), { recursive: true });
    fs.writeFileSync(path.join(out, 'requests', `dt=${day}`, 'part-0.json'), lines.join('\n') + '\n');
  }
  expect(accessLog).toHaveLength(6 + 3 + 7 + 2);
  await con.run(`CREATE VIEW usage_requests AS SELECT * FROM read_json_auto('${out}/requests/*/*.json', format = 'newline_delimited', hive_partitioning = true)`);
  const billable = (await con.runAndReadAll(USAGE_QUERIES.billableRequestsPerKeyPerDay('usage_requests'))).getRowObjectsJson();
  expect(billable).toEqual([
    { keyId: ids.acme, date: D0, billable: '4' }, { keyId: ids.globex, date: D0, billable: '3' },
    { keyId: ids.acme, date: D1, billable: '5' }, { keyId: ids.globex, date: D1, billable: '2' },
  ].sort((a, b) => a.date.localeCompare(b.date) || a.keyId.localeCompare(b.keyId)));
  con.closeSync();
});
