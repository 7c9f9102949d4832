/** `keygate usage export` as a user runs it (a process) against the local gateway: help, bad input, stdout formats. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Stack } from 'aws-cdk-lib';
import { KeyProtectedApi } from '../../lib';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { mock } from '../support/keygate-fixtures';
import { runCli } from '../support/run-cli';

jest.setTimeout(120_000);

const DAY = '2026-05-10';
let now = Date.parse(`${DAY}T10:00:00Z`);
let workDir: string;
let gateway: LocalGateway;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-usage-cli-'));
  const app = new App({ outdir: path.join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const basic = api.addTier('Basic', { throttle: { rateLimit: 100, burstLimit: 100 }, quota: { limit: 50, period: apigw.Period.WEEK, offset: 1 } });
  api.addClient('acme, "the first"', { tiers: [basic] });
  gateway = await startLocalGateway({ assemblyDir: app.synth().directory, clock: () => now, showValues: true, log: () => undefined });
  const key = gateway.info.keys[0];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${gateway.info.apis[0].stages[0].url}/pets`, { headers: { 'x-api-key': key.value ?? '' } });
    await res.text();
    expect(res.status).toBe(200);
  }
  now += 86_400_000;
});

afterAll(async () => {
  await gateway?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('--help names the options and the exit codes', async () => {
  const r = await runCli(['usage', 'export', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/--from <date>/);
  expect(r.stdout).toMatch(/--format <format>\s+row format \(choices: "jsonl", "csv", default: "jsonl"\)/);
  expect(r.stdout).toMatch(/Exit codes: 0 exported \(also when there was no traffic\), 1 failure \(AWS error\), 2 bad usage\./);
});

test.each([
  [['--from', '2026-02-30', '--to', DAY], '--from must be a day like 2026-01-31, not "2026-02-30".'],
  [['--from', DAY, '--to', '2026-05-01'], `--from ${DAY} is after --to 2026-05-01.`],
  [['--to', DAY], 'Give the range: --from YYYY-MM-DD --to YYYY-MM-DD (UTC days, both included).'],
])('bad usage %j: exit 2 before any call', async (args, message) => {
  const r = await runCli(['usage', 'export', ...args, '--endpoint', 'http://127.0.0.1:9']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stdout).toBe('');
});

test('--json without --out: exit 2, the error as JSON on stdout', async () => {
  const r = await runCli(['usage', 'export', '--from', DAY, '--to', DAY, '--json', '--endpoint', 'http://127.0.0.1:9']);
  expect(r.code).toBe(2);
  expect(JSON.parse(r.stdout)).toMatchObject({ error: '--json prints a summary on stdout: write the rows to a folder with --out DIR.', exitCode: 2 });
});

test('jsonl and csv on stdout: the rows, a key name with a comma and quotes quoted in CSV', async () => {
  const base = ['usage', 'export', '--from', '2026-05-09', '--to', DAY, '--endpoint', gateway.info.controlPlane];
  const jsonl = await runCli(base);
  expect(jsonl.code).toBe(0);
  const rows = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as { date: string; used: number; remaining: number; keyName: string });
  expect(rows.map((r) => [r.date, r.used, r.remaining])).toEqual([['2026-05-09', 0, 50], [DAY, 3, 47]]);
  expect(jsonl.stderr).toMatch(/exported 2 rows \(1 keys, 3 requests\) from 2026-05-09 to 2026-05-10; 1 GetUsage call\(s\) in 1 window\(s\)/);
  const csv = await runCli([...base, '--format', 'csv']);
  expect(csv.code).toBe(0);
  const lines = csv.stdout.trim().split('\n');
  expect(lines[0]).toBe('date,apiId,stage,planId,keyId,keyName,customerId,used,remaining,quotaLimit');
  expect(lines[2]).toContain(',"acme, ""the first""",,3,47,50');
});

test('an unknown plan exits 2 (bad input), an unreachable endpoint 1', async () => {
  const r = await runCli(['usage', 'export', '--from', DAY, '--to', DAY, '--plan', 'nosuchplan', '--endpoint', gateway.info.controlPlane]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^keygate: Not found \(HTTP 404 from GetUsagePlan\): /m);
  const down = await runCli(['usage', 'export', '--from', DAY, '--to', DAY, '--endpoint', 'http://127.0.0.1:9']);
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/^keygate: /m);
});
