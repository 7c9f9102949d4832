/**
 * The expiry and unused-key jobs end to end on a simulated clock: a keygate app synthesized
 * in-process and served by the local gateway, the jobs run in-process with the real AWS SDK
 * against its control plane (SNS and CloudWatch, which the gateway doesn't serve, are mocked),
 * and `keygate keys unused` run as a process, as a user would.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Expiration, KeyProtectedApi } from '../../lib';
import { disableUnusedKeys } from '../../lib/lifecycle/disable-unused-keys';
import { expireKeys } from '../../lib/lifecycle/expire-keys';
import { publishQuotaUsage } from '../../lib/lifecycle/publish-quota-usage';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { mock } from '../support/keygate-fixtures';
import { runCli } from '../support/run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

const DAY = 86_400_000;
const REAL_NOW = Date.now();
/** The simulated "deploy": 120 days ago, so that the CLI (on the real clock) sees 120 days of history. */
const T0 = REAL_NOW - 120 * DAY;
const PARTNER_EXPIRES = new Date(Math.ceil((REAL_NOW + 30 * DAY) / 1000) * 1000);

const snsMock = mockClient(SNSClient);
const cloudwatchMock = mockClient(CloudWatchClient);
let now = T0;
let workDir: string;
let gateway: LocalGateway;
let apigwClient: APIGatewayClient;
let stageUrl: string;
let planId: string;
const ids: Record<string, string> = {};
const values: Record<string, string> = {};

async function get(name: string): Promise<number> {
  const res = await fetch(`${stageUrl}/pets`, { headers: { 'x-api-key': values[name] } });
  await res.text();
  return res.status;
}

const jobDeps = () => ({ apigw: apigwClient, sns: new SNSClient({ region: 'us-east-1' }), cloudwatch: new CloudWatchClient({ region: 'us-east-1' }), topicArn: 'arn:aws:sns:us-east-1:123456789012:owner', now: () => now });
const enabled = async (name: string) => (await apigwClient.send(new GetApiKeyCommand({ apiKey: ids[name] }))).enabled;

beforeAll(async () => {
  snsMock.on(PublishCommand).resolves({ MessageId: 'm' });
  cloudwatchMock.on(PutMetricDataCommand).resolves({});
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-lifecycle-e2e-'));
  const app = new App({ outdir: path.join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const basic = api.addTier('Basic', { throttle: { rateLimit: 100, burstLimit: 200 }, quota: { limit: 1000, period: apigw.Period.MONTH } });
  api.addClient('trial', { tiers: [basic], expires: Expiration.after(Duration.days(14)) });
  api.addClient('partner', { tiers: [basic], expires: Expiration.atDate(PARTNER_EXPIRES) });
  api.addClient('steady', { tiers: [basic] });
  const assembly = app.synth();

  gateway = await startLocalGateway({ assemblyDir: assembly.directory, port: 0, clock: () => now, showValues: true, log: () => undefined });
  apigwClient = new APIGatewayClient({ endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  stageUrl = gateway.info.apis[0].stages[0].url.replace(/\/$/, '');
  for (const k of gateway.info.keys) {
    ids[k.name] = k.id;
    values[k.name] = k.value ?? '';
  }
  planId = [...gateway.model.plans.values()][0].id;
  // A key made out of band (ops CLI, console): no stack owns it.
  const idle = await apigwClient.send(new CreateApiKeyCommand({ name: 'idle', enabled: true }));
  await apigwClient.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: idle.id, keyType: 'API_KEY' }));
  ids.idle = idle.id ?? '';
  values.idle = idle.value ?? '';
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  apigwClient?.destroy();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('expiry: the gateway refuses a key past its expiry; the job disables it (not deletes) and tells the owner, once', async () => {
  // GIVEN the day of the deploy: every key works
  now = T0;
  expect(await Promise.all(['trial', 'partner', 'steady', 'idle'].map(get))).toEqual([200, 200, 200, 200]);

  // WHEN 15 days pass: the trial (14 days) has expired
  now = T0 + 15 * DAY;

  // THEN the gateway answers 403 at once, as API Gateway does once the job has run
  expect(await get('trial')).toBe(403);
  expect(await get('steady')).toBe(200);

  // WHEN the job runs
  const watched = [ids.trial, ids.partner, ids.steady];
  const report = await expireKeys(jobDeps(), watched);

  // THEN the trial key is disabled, still there, and the owner heard of it; the others are untouched
  expect(report.failures).toEqual([]);
  expect(report.keys.map((k) => k.outcome)).toEqual(['disabled', 'not expired', 'no expiry']);
  expect(report.keys[1].expiresAt).toBe(PARTNER_EXPIRES.toISOString());
  expect(await enabled('trial')).toBe(false);
  expect(await enabled('partner')).toBe(true);
  expect(snsMock.commandCalls(PublishCommand).map((c) => JSON.parse(c.args[0].input.Message ?? '{}').keyName)).toEqual(['trial']);

  // WHEN it runs again: nothing more to do, no second message
  const again = await expireKeys(jobDeps(), watched);
  expect(again.keys[0].outcome).toBe('expired, already disabled');
  expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
});

test('unused keys: the CLI lists them across plans; the hygiene job disables only the one no stack owns', async () => {
  // GIVEN steady is used again on day 110; it is now day 120 (the real clock, which the CLI process uses)
  now = T0 + 110 * DAY;
  expect(await get('steady')).toBe(200);
  now = REAL_NOW;

  // WHEN
  const cli = await runCli(['keys', 'unused', '--days', '90', '--json', '--endpoint', gateway.info.controlPlane], { timeoutMs: 90_000 });

  // THEN trial (last used on day 0), partner (never) and idle (day 0) are unused; steady is not
  expect(cli.stderr).toBe('');
  expect(cli.code).toBe(0);
  const listed = JSON.parse(cli.stdout) as { days: number; unused: { name: string; enabled: boolean; managed?: string; plans: { name: string }[] }[] };
  expect(listed.days).toBe(90);
  expect(listed.unused.map((k) => [k.name, k.enabled, k.managed === undefined ? 'unmanaged' : 'stack'])).toEqual([
    ['idle', true, 'unmanaged'], ['partner', true, 'stack'], ['trial', false, 'stack'],
  ]);
  expect(listed.unused[0].plans.map((p) => p.name)).toEqual(['Basic']);
  expect(cli.stdout).not.toContain(values.idle);

  // WHEN the hygiene job runs (window 90 days) over the tier
  const report = await disableUnusedKeys(jobDeps(), { usagePlanIds: [planId], days: 90 });

  // THEN only idle is disabled; partner belongs to the stack and stays
  expect(report).toMatchObject({ disabled: [ids.idle], skippedManaged: [ids.partner], failures: [] });
  expect(await get('idle')).toBe(403);
  expect(await get('partner')).toBe(200);
  expect(await get('steady')).toBe(200);
});

test('quota usage: the job publishes what the gateway counted in the current period', async () => {
  // GIVEN steady makes requests today (now = the real clock); earlier months don't count
  now = REAL_NOW;
  for (let i = 0; i < 4; i++) expect(await get('steady')).toBe(200);

  // WHEN
  const usage = await publishQuotaUsage(jobDeps(), { apiId: gateway.info.apis[0].id, usagePlanIds: [planId] });

  // THEN: the requests of this month (the day-110 request if it fell in this month, plus today's 4 and the hygiene test's)
  const steady = usage.find((u) => u.apiKeyId === ids.steady);
  const monthStart = Date.parse(new Date(REAL_NOW).toISOString().slice(0, 8) + '01T00:00:00Z');
  const expected = 4 + 1 + (T0 + 110 * DAY >= monthStart ? 1 : 0);
  expect(steady).toEqual({ usagePlanId: planId, apiKeyId: ids.steady, used: expected, remaining: 1000 - expected, limit: 1000, usedPercent: expected / 10 });
});

test('an atDate expiry: 31 days on, partner expires and the job disables it', async () => {
  now = REAL_NOW + 31 * DAY;
  expect(await get('partner')).toBe(403);
  const report = await expireKeys(jobDeps(), [ids.partner]);
  expect(report.keys).toEqual([{ id: ids.partner, outcome: 'disabled', expiresAt: PARTNER_EXPIRES.toISOString() }]);
  expect(await enabled('partner')).toBe(false);
});

test('keys unused: --help documents it; a bad --days is bad usage (exit 2)', async () => {
  const [help, bad] = await Promise.all([
    runCli(['keys', 'unused', '--help']),
    runCli(['keys', 'unused', '--days', '0', '--endpoint', gateway.info.controlPlane]),
  ]);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/--days <n>/);
  expect(help.stdout).toMatch(/Exit codes: 0 listed \(also when none is unused\), 1 failure, 2 bad usage/);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/expected a whole number of days ≥ 1/);
});
