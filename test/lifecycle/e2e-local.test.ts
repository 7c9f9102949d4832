/**
 * The expiry, unused-key and quota jobs end to end on a simulated clock: a keygate app
 * synthesized in-process and served by the local gateway; the jobs run in-process with the real
 * AWS SDK against its API Gateway control plane, SNS and CloudWatch, then as the bundled Lambda
 * functions the gateway's schedules invoke; `keygate keys unused` runs as a process, as a user
 * would.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetApiKeyCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Expiration, KeyProtectedApi } from '../../lib';
import { disableUnusedKeys } from '../../lib/handlers/disable-unused-keys';
import { expireKeys } from '../../lib/handlers/expire-keys';
import { publishQuotaUsage } from '../../lib/handlers/publish-quota-usage';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { mock } from '../support/keygate-fixtures';
import { runCli, startCli } from '../support/run-cli';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(120_000);

const DAY = 86_400_000;
const REAL_NOW = Date.now();
/** The simulated "deploy": 120 days ago, so that the CLI (on the real clock) sees 120 days of history. */
const T0 = REAL_NOW - 120 * DAY;
const PARTNER_EXPIRES = new Date(Math.ceil((REAL_NOW + 30 * DAY) / 1000) * 1000);

let now = T0;
let workDir: string;
let gateway: LocalGateway;
let apigwClient: APIGatewayClient;
let stageUrl: string;
let planId: string;
/** The owner topics of the expiry and hygiene jobs, as the local SNS lists them. */
let expiryTopic: string;
let hygieneTopic: string;
const ids: Record<string, string> = {};
const values: Record<string, string> = {};

async function get(name: string): Promise<number> {
  const res = await fetch(`${stageUrl}/pets`, { headers: { 'x-api-key': values[name] } });
  await res.text();
  return res.status;
}

const local = () => ({ endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const jobDeps = (topicArn = expiryTopic) => ({ apigw: apigwClient, sns: new SNSClient(local()), cloudwatch: new CloudWatchClient(local()), topicArn, now: () => now });
/** What the local SNS got on a topic: the notices, parsed. */
const noticesOn = (topicArn: string): Record<string, unknown>[] => gateway.sns.messages.filter((m) => m.topicArn === topicArn).map((m) => ({ subject: m.subject, ...JSON.parse(m.message) as Record<string, string>, attributes: m.attributes }));
const enabled = async (name: string) => (await apigwClient.send(new GetApiKeyCommand({ apiKey: ids[name] }))).enabled;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-lifecycle-e2e-'));
  const app = new App({ outdir: path.join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const basic = api.addTier('Basic', { throttle: { rateLimit: 100, burstLimit: 200 }, quota: { limit: 1000, period: apigw.Period.MONTH } });
  api.addClient('trial', { tiers: [basic], expires: Expiration.after(Duration.days(14)) });
  api.addClient('partner', { tiers: [basic], expires: Expiration.atDate(PARTNER_EXPIRES) });
  api.addClient('steady', { tiers: [basic] });
  api.addKeyHygiene({ disableUnusedAfter: Duration.days(90) });
  api.addQuotaWarnings();
  const assembly = app.synth();

  gateway = await startLocalGateway({ assemblyDir: assembly.directory, port: 0, clock: () => now, showValues: true, log: () => undefined });
  apigwClient = new APIGatewayClient(local());
  const sns = new SNSClient(local());
  const topics = ((await sns.send(new ListTopicsCommand({}))).Topics ?? []).map((t) => t.TopicArn ?? '');
  sns.destroy();
  // Every job of the API notifies its one alert topic.
  expiryTopic = topics.find((t) => t.includes('ApiAlertTopic')) ?? '';
  hygieneTopic = expiryTopic;
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
  expect(noticesOn(expiryTopic).filter((n) => n.event === 'keygate.key.expired')).toEqual([{
    subject: 'keygate: API key trial expired and was disabled', event: 'keygate.key.expired', keyId: ids.trial, keyName: 'trial',
    expiresAt: new Date(Math.floor(T0 / 1000) * 1000 + 14 * DAY).toISOString(), disabledAt: new Date(now).toISOString(),
    attributes: { keyId: { dataType: 'String', value: ids.trial } },
  }]);

  // WHEN it runs again: nothing more to do, no second message
  const again = await expireKeys(jobDeps(), watched);
  expect(again.keys[0].outcome).toBe('expired, already disabled');
  expect(noticesOn(expiryTopic).filter((n) => n.event === 'keygate.key.expired')).toHaveLength(1);
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
  const report = await disableUnusedKeys(jobDeps(hygieneTopic), { usagePlanIds: [planId], days: 90 });

  // THEN only idle is disabled, and the owner heard of it; partner belongs to the stack and stays
  expect(report).toMatchObject({ disabled: [ids.idle], skippedManaged: [ids.partner], failures: [] });
  expect(noticesOn(hygieneTopic).filter((n) => n.event !== 'keygate.key.expired').map((n) => [n.subject, n.keyId])).toEqual([['keygate: API key idle unused for 90 days, disabled', ids.idle]]);
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
  // and the local CloudWatch holds the data points
  const points = gateway.cloudwatch.dataPoints.filter((p) => p.dimensions.ApiKeyId === ids.steady);
  expect(points.map((p) => [p.namespace, p.metricName, p.value, p.unit, p.timestamp])).toEqual([
    ['Keygate/Quota', 'QuotaUsed', expected, 'Count', REAL_NOW], ['Keygate/Quota', 'QuotaRemaining', 1000 - expected, 'Count', REAL_NOW],
    ['Keygate/Quota', 'QuotaUsedPercent', expected / 10, 'Percent', REAL_NOW],
  ]);
  expect(points[0].dimensions).toEqual({ ApiId: gateway.info.apis[0].id, UsagePlanId: planId, ApiKeyId: ids.steady });
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

test('the schedules run the bundled jobs as Lambda functions on the gateway\'s clock: hygiene disables an idle key no stack owns, quota use reaches CloudWatch', async () => {
  // GIVEN a key made out of band 40 days after the partner's expiry test, never used
  now = REAL_NOW + 40 * DAY;
  const dormant = await apigwClient.send(new CreateApiKeyCommand({ name: 'dormant', enabled: true }));
  await apigwClient.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: dormant.id, keyType: 'API_KEY' }));
  ids.dormant = dormant.id ?? '';
  values.dormant = dormant.value ?? '';
  // and 100 days later, steady makes 3 requests (the first of a new quota month)
  now = REAL_NOW + 140 * DAY;
  for (let i = 0; i < 3; i++) expect(await get('steady')).toBe(200);
  const messagesBefore = gateway.sns.publishedCount;

  // WHEN the gateway runs the schedules that are due on its clock (all of them: the clock moved months)
  const runs = await gateway.runDueJobs();

  // THEN each job ran once as the app's Lambda function, without failure
  expect(runs.map((r) => [r.job.replace(/[0-9A-F]{8}$/, ''), r.error])).toEqual([
    ['Shop/ApiKeyHygieneJobSchedule', undefined], ['Shop/ApiQuotaWarningsJobSchedule', undefined], ['Shop/KeygateKeyExpiryJobSchedule', undefined],
  ]);
  // the hygiene run (in the Lambda, on the moved clock) disabled dormant and told the owner on the local topic
  expect(runs[0].result).toMatchObject({ disabled: [ids.dormant], failures: [] });
  expect(await enabled('dormant')).toBe(false);
  expect(await get('dormant')).toBe(403);
  expect(await get('steady')).toBe(200);
  const news = gateway.sns.messages.slice(gateway.sns.messages.length - (gateway.sns.publishedCount - messagesBefore));
  expect(news.map((m) => [m.topicArn, m.subject, m.attributes.keyId?.value])).toEqual([[hygieneTopic, 'keygate: API key dormant unused for 90 days, disabled', ids.dormant]]);
  // the quota run published steady's 3 requests of this month, stamped with the moved clock
  const used = gateway.cloudwatch.dataPoints.filter((p) => p.metricName === 'QuotaUsed' && p.dimensions.ApiKeyId === ids.steady).at(-1);
  expect(used).toMatchObject({ namespace: 'Keygate/Quota', value: 3, unit: 'Count' });
  expect(Math.abs((used?.timestamp ?? 0) - now)).toBeLessThan(60_000);
  // nothing is due again until the next period
  expect(await gateway.runDueJobs()).toEqual([]);
  // the dashboard shows the message's subject (not its body) and the data points
  const token = new URL(gateway.info.dashboard).searchParams.get('token');
  const state = await (await fetch(`${gateway.info.controlPlane}/_keygate/dashboard/state.json?token=${token}`)).json() as {
    messages: { topic: string; subject: string }[]; dataPoints: { metricName: string; dimensions: Record<string, string>; value: number }[];
  };
  expect(state.messages[0]).toMatchObject({ topic: hygieneTopic.split(':').pop(), subject: 'keygate: API key dormant unused for 90 days, disabled' });
  expect(JSON.stringify(state)).not.toMatch(/unusedFrom/);
  expect(state.dataPoints.find((d) => d.metricName === 'QuotaUsed' && d.dimensions.ApiKeyId === ids.steady)).toMatchObject({ value: 3 });
});

test('keygate local --clock +100d runs the jobs that are due at start: an idle key no stack owns is disabled, the owner told on the local topic', async () => {
  // GIVEN a state file in which a key made out of band (never used) sits in the tier
  const statePath = path.join(workDir, 'state.json');
  const assemblyDir = path.join(workDir, 'cdk.out');
  const first = await startCli(['local', '--app', assemblyDir, '--port', '0', '--json', '--state', statePath]);
  const firstInfo = JSON.parse(first.firstLine) as { controlPlane: string; scheduledJobs: { name: string; every: string; nextRunAt: string }[] };
  const endpoint = firstInfo.controlPlane;
  // --json lists the jobs too
  expect(firstInfo.scheduledJobs.map((j) => [j.name.replace(/[0-9A-F]{8}$/, ''), j.every])).toEqual([
    ['Shop/ApiKeyHygieneJobSchedule', 'every day'], ['Shop/ApiQuotaWarningsJobSchedule', 'every 15 minutes'], ['Shop/KeygateKeyExpiryJobSchedule', 'every hour'],
  ]);
  let client = new APIGatewayClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  const tier = (await client.send(new GetUsagePlansCommand({}))).items?.[0].id;
  const idle = await client.send(new CreateApiKeyCommand({ name: 'idle-cli', enabled: true }));
  await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: tier, keyId: idle.id, keyType: 'API_KEY' }));
  client.destroy();
  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);

  // WHEN the gateway starts 100 days on
  const second = await startCli(['local', '--app', assemblyDir, '--port', '0', '--state', statePath, '--clock', '+100d']);
  try {
    const ran = /scheduled job Shop\/ApiKeyHygieneJobSchedule[0-9A-F]{8} ran/;
    for (let waited = 0; !ran.test(second.stderr()) && waited < 60_000; waited += 100) await new Promise((r) => setTimeout(r, 100));

    // THEN its start output lists the jobs it runs
    expect(second.stdout()).toMatch(/Scheduled jobs \(3\), run on the gateway's clock/);
    expect(second.stdout()).toMatch(/keygate: disables unused API keys \(Shop\/ApiKeyHygieneJobSchedule[0-9A-F]{8}\): every day, next /);
    expect(second.stdout()).not.toMatch(/Not emulated/);
    // the hygiene job ran and the owner's topic got the notice (logged without the key's value)
    expect(second.stderr()).toMatch(ran);
    expect(second.stderr()).toMatch(/keygate local: SNS Shop-ApiAlertTopic[0-9A-F]{8}-[0-9A-Z]{12} got message [0-9a-f-]{36} "keygate: API key idle-cli unused for 90 days, disabled"/);
    expect(second.stderr()).not.toContain(idle.value);
    const endpoint2 = /control plane \(AWS SDK endpoint\): (\S+)/.exec(second.stdout())?.[1];
    client = new APIGatewayClient({ endpoint: endpoint2, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    expect((await client.send(new GetApiKeyCommand({ apiKey: idle.id }))).enabled).toBe(false);
    client.destroy();
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
