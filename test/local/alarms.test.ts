/**
 * The example app's alarms, locally: a key pushed to 80 % of its quota makes the quota-warning
 * alarm fire once the quota job has run, its message is printed (the alert topic's email
 * subscription) and reaches a loopback HTTP subscriber in SNS's signed envelope; the local
 * CloudWatch answers DescribeAlarms with the state. All through the real SDKs and HTTP.
 */
import { verify, X509Certificate } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { stringToSign } from '../../lib/local/sns/signing';
import { exampleAppAssembly } from '../support/example-app';
import { AlarmSeed, AlarmStatus, evaluateAlarm } from '../../lib/local/cloudwatch/alarms';
import { MetricDataPoint } from '../../lib/local/cloudwatch/service';
import { evaluateMath, parseMath } from '../../lib/local/cloudwatch/metric-math';
import { compileFilterPattern } from '../../lib/local/logs/filter-pattern';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };

/** A loopback HTTP server that records what SNS POSTs to it. */
async function subscriber(): Promise<{ url: string; received: { headers: http.IncomingHttpHeaders; body: Record<string, string> }[]; close: () => Promise<void> }> {
  const received: { headers: http.IncomingHttpHeaders; body: Record<string, string> }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string> });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sns`;
  return { url, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function verifyEnvelope(envelope: Record<string, string>): Promise<boolean> {
  const pem = await (await fetch(envelope.SigningCertURL)).text();
  const cert = new X509Certificate(pem);
  return verify('sha1', Buffer.from(stringToSign(envelope), 'utf8'), cert.publicKey, Buffer.from(envelope.Signature, 'base64'));
}

describe('alarms of the example app', () => {
  let asm: string;
  let gw: LocalGateway;
  let now: number;
  const lines: string[] = [];

  beforeAll(async () => {
    asm = await exampleAppAssembly();
  }, 120_000);

  beforeEach(async () => {
    now = Date.UTC(2026, 11, 1, 10, 0, 0);
    lines.length = 0;
    gw = await startLocalGateway({ assemblyDir: asm, port: 0, clock: () => now, deployedAt: now, log: (l) => lines.push(l) });
  });
  afterEach(async () => {
    await gw.close();
  });

  test('every alarm of the app is evaluated', () => {
    const names = gw.alarms.alarms.map((a) => a.seed.name);
    expect(names).toEqual(expect.arrayContaining([
      'KeygatePetStore-Alarms-ProdServerErrorRate-A760D7D4', 'KeygatePetStore-Alarms-ProdTooManyRequestsRate-A4519E24',
    ]));
    expect(names.filter((n) => n.includes('QuotaWarningsThreshold'))).toHaveLength(2);
    expect(names).toHaveLength(6);
    expect(gw.ignored.filter((i) => /Alarm|InsightRule|MetricFilter/.test(i.type))).toEqual([]);
    // Missing data treated as not breaching: OK from the first evaluation; the quota alarms ignore missing data.
    const byName = Object.fromEntries(gw.alarms.alarms.map((a) => [a.seed.name, a.state]));
    expect(byName['KeygatePetStore-Alarms-ProdServerErrorRate-A760D7D4']).toBe('OK');
    expect(gw.alarms.alarms.filter((a) => a.seed.name.includes('QuotaWarnings')).map((a) => a.state)).toEqual(['INSUFFICIENT_DATA', 'INSUFFICIENT_DATA']);
  });

  test('a key at 80 % of its quota: the quota job runs, the 80 % alarm fires, the owner\'s mail is printed and a loopback subscriber gets the signed envelope', async () => {
    const base = gw.info.controlPlane;
    const sub = await subscriber();
    try {
      // GIVEN a loopback HTTP subscription to the alert topic, confirmed through its SubscribeURL
      const topicArn = [...new Set(gw.alarms.alarms.flatMap((a) => a.seed.alarmActions))][0];
      const sns = new SNSClient({ endpoint: base, region: 'us-east-1', credentials });
      expect((await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: sub.url }))).SubscriptionArn).toBe('pending confirmation');
      await gw.sns.subscriptions?.idle();
      const confirmation = sub.received[0];
      expect(confirmation.headers['x-amz-sns-message-type']).toBe('SubscriptionConfirmation');
      expect(await verifyEnvelope(confirmation.body)).toBe(true);
      expect((await fetch(confirmation.body.SubscribeURL)).status).toBe(200);

      // WHEN the Free client (quota 100 a day) makes 80 requests, and the quota job's time comes
      const initech = [...gw.model.keys.values()].find((k) => k.name.includes('initech'))!;
      const stage = gw.info.apis[0].stages[0].url;
      // (a request a second on the gateway's clock: the Free tier throttles at 1 rps)
      for (let i = 0; i < 80; i++, now += 1000) expect((await fetch(`${stage}/pets/types`, { headers: { 'x-api-key': initech.value } })).status).toBe(200);
      now += 14 * 60_000;
      const runs = await gw.runDueJobs();
      expect(runs.find((r) => r.job.includes('QuotaWarnings'))?.error).toBeUndefined();
      await gw.sns.subscriptions?.idle();

      // THEN the 80 % alarm is in ALARM (DescribeAlarms through the SDK), naming the key as contributor; the 100 % one is OK
      const cw = new CloudWatchClient({ endpoint: base, region: 'us-east-1', credentials });
      const described = await cw.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
      expect(described.MetricAlarms?.map((a) => a.AlarmName)).toEqual([expect.stringContaining('QuotaWarningsThreshold80')]);
      expect(described.MetricAlarms?.[0].StateReason).toContain(`ApiKeyId=${initech.id}`);
      expect(gw.alarms.alarms.find((a) => a.seed.name.includes('Threshold100'))?.state).toBe('OK');

      // AND the owner's mail is printed on one line, with CloudWatch's subject and message
      const mail = lines.find((l) => l.startsWith('keygate local: SNS email to api-owner@example.com: "ALARM: '));
      // (SNS subjects stop at 100 characters: CloudWatch's `ALARM: "name" in US East (N. Virginia)` is cut short)
      expect(mail).toMatch(/^keygate local: SNS email to api-owner@example\.com: "ALARM: "KeygatePetStore-PetStoreQuotaWarningsThreshold80\w+-\w+" in US East/);
      // (CloudWatch's text for email: the JSON goes to the other protocols)
      expect(mail).toContain('You are receiving this email because your Amazon CloudWatch Alarm "KeygatePetStore-PetStoreQuotaWarningsThreshold80');
      expect(mail).toContain('has entered the ALARM state, because "Threshold Crossed: 1 out of the last 1 datapoints [80]');
      // (the terminal shows the mail's start; the whole mail is kept for the dashboard)
      expect(mail).toMatch(/more characters: the whole message is on the dashboard\)$/);
      const kept = gw.sns.subscriptions!.deliveries.find((d) => d.protocol === 'email' && d.subject?.startsWith('ALARM'));
      expect(kept?.message).toContain('- State Change:               INSUFFICIENT_DATA -> ALARM');

      // AND the subscriber got the Notification: CloudWatch's alarm JSON, signed with the local certificate
      const note = sub.received.find((r) => r.headers['x-amz-sns-message-type'] === 'Notification' && r.body.Subject?.startsWith('ALARM'));
      expect(note).toBeDefined();
      expect(note!.headers['x-amz-sns-topic-arn']).toBe(topicArn);
      expect(note!.body).toMatchObject({ Type: 'Notification', TopicArn: topicArn, SignatureVersion: '1' });
      expect(note!.body.UnsubscribeURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_sns\/unsubscribe\?/);
      expect(await verifyEnvelope(note!.body)).toBe(true);
      expect(await verifyEnvelope({ ...note!.body, Message: note!.body.Message + ' ' })).toBe(false);
      // AND the dashboard shows the alarm first, in ALARM, and the deliveries
      const token = new URL(gw.info.dashboard).searchParams.get('token')!;
      const dash = await (await fetch(`${base}/_keygate/dashboard/state.json?token=${token}`)).json() as { alarms: { name: string; state: string }[]; deliveries: { protocol: string; delivered: boolean }[] };
      expect(dash.alarms[0]).toMatchObject({ name: expect.stringContaining('QuotaWarningsThreshold80'), state: 'ALARM' });
      expect(dash.deliveries.filter((d) => d.delivered).map((d) => d.protocol)).toEqual(expect.arrayContaining(['email', 'http']));
      const message = JSON.parse(note!.body.Message) as Record<string, unknown>;
      expect(message).toMatchObject({
        NewStateValue: 'ALARM', OldStateValue: 'INSUFFICIENT_DATA', Region: 'US East (N. Virginia)', AWSAccountId: gw.model.accountId,
        Trigger: { Threshold: 80, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, Period: 900 },
      });
    } finally {
      await sub.close();
    }
  }, 60_000);

  test('the dominant-key alarm reads the Contributor Insights rule on the access log: one key with 95 % of 105 keyed requests, in 2 periods of 3', async () => {
    const key = (name: string): string => [...gw.model.keys.values()].find((k) => k.name.includes(name))!.value;
    const stage = gw.info.apis[0].stages[0].url;
    const name = 'KeygatePetStore-Alarms-ProdDominantKeyShare-C189350A';
    const batch = async (): Promise<void> => {
      for (let i = 0; i < 100; i++, now += 1000) await fetch(`${stage}/pets/types`, { headers: { 'x-api-key': key('acme') } });
      for (let i = 0; i < 5; i++, now += 1000) await fetch(`${stage}/pets/types`, { headers: { 'x-api-key': key('initech') } });
    };
    await batch();
    expect(gw.evaluateAlarms().filter((t) => t.alarm === name)).toEqual([]);
    now += 195_000;
    await batch();
    const [t] = gw.evaluateAlarms().filter((x) => x.alarm === name);
    expect(t).toMatchObject({ from: 'OK', to: 'ALARM' });
    expect(t.reason).toMatch(/^Threshold Crossed: 2 out of the last 3 datapoints \[95\.2381, 95\.2381\]/);
  }, 60_000);

  test('429s through the access log\'s metric filters and API Gateway\'s Count drive the 429-rate alarm (2 of 3 periods)', async () => {
    const initech = [...gw.model.keys.values()].find((k) => k.name.includes('initech'))!;
    const stage = gw.info.apis[0].stages[0].url;
    const name = 'KeygatePetStore-Alarms-ProdTooManyRequestsRate-A4519E24';
    // 100 allowed, then 20 over quota: 20 of 120 requests (17 %) in one period is only 1 of the 2 breaching periods needed
    for (let i = 0; i < 120; i++, now += 1000) await fetch(`${stage}/pets/types`, { headers: { 'x-api-key': initech.value } });
    gw.evaluateAlarms();
    expect(gw.alarms.alarms.find((a) => a.seed.name === name)?.state).toBe('OK');
    now += 5 * 60_000;
    for (let i = 0; i < 30; i++, now += 1000) expect((await fetch(`${stage}/pets/types`, { headers: { 'x-api-key': initech.value } })).status).toBe(429);
    const [t] = gw.evaluateAlarms().filter((x) => x.alarm === name);
    expect(t).toMatchObject({ from: 'OK', to: 'ALARM' });
    expect(t.reason).toMatch(/^Threshold Crossed: 2 out of the last 3 datapoints \[100, 16\.6667\]/);
  }, 60_000);
});

describe('alarm evaluation, piece by piece', () => {
  const T = Date.UTC(2026, 11, 1, 12);
  const seed = (over: Partial<AlarmSeed>): AlarmSeed => ({
    stack: 'S', logicalId: 'A', name: 'a', arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:a', comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 10, evaluationPeriods: 3, datapointsToAlarm: 2, treatMissingData: 'missing', periodSec: 60, actionsEnabled: true,
    alarmActions: [], okActions: [], insufficientDataActions: [],
    queries: [{ id: 'm1', returnData: true, stat: { namespace: 'N', metricName: 'M', dimensions: { D: 'x' }, stat: 'Sum', periodSec: 60 } }], ...over,
  });
  const point = (minutesAgo: number, value: number, dimensions: Record<string, string> = { D: 'x' }): MetricDataPoint => ({
    namespace: 'N', metricName: 'M', dimensions, timestamp: T - minutesAgo * 60_000 + 1000, value, unit: 'Count',
  });
  const state = (s: AlarmSeed, points: MetricDataPoint[], current: AlarmStatus['state'] = 'OK'): string =>
    evaluateAlarm({ seed: s, state: current, reason: '', updatedAt: 0, contributors: [] }, points, T).state;

  test('M of N on sums of the periods; only the alarm\'s exact dimensions count', () => {
    expect(state(seed({}), [point(1, 6), point(1, 5), point(2, 12)])).toBe('ALARM');
    expect(state(seed({}), [point(1, 11), point(2, 3), point(3, 2)])).toBe('OK');
    expect(state(seed({}), [point(1, 11), point(2, 11, { D: 'x', E: 'y' })])).toBe('OK');
    expect(state(seed({ queries: [{ id: 'm1', returnData: true, stat: { namespace: 'N', metricName: 'M', dimensions: { D: 'x' }, stat: 'Average', periodSec: 60 } }] }), [point(1, 6), point(1, 20), point(2, 10)])).toBe('ALARM');
  });

  test('missing data: all missing by TreatMissingData; among present points, breaching counts them, missing and ignore skip them', () => {
    expect(['missing', 'notBreaching', 'breaching', 'ignore'].map((t) => state(seed({ treatMissingData: t as AlarmSeed['treatMissingData'] }), [], 'ALARM')))
      .toEqual(['INSUFFICIENT_DATA', 'OK', 'ALARM', 'ALARM']);
    expect(state(seed({ treatMissingData: 'breaching' }), [point(1, 11)])).toBe('ALARM');
    expect(state(seed({ treatMissingData: 'notBreaching' }), [point(1, 11)])).toBe('OK');
    expect(state(seed({ treatMissingData: 'missing' }), [point(1, 11)])).toBe('OK');
  });

  test('metric math as keygate\'s rate alarms write it: IF, FILL, arithmetic; missing stays missing; division by zero is missing', () => {
    const env = (v: Record<string, number | undefined>) => (id: string): number | undefined => v[id];
    const rate = parseMath('IF(requests >= 20, 100 * (FILL(throttled, 0) + FILL(overQuota, 0)) / requests, 0)');
    expect(evaluateMath(rate, env({ requests: 40, throttled: 4 }))).toBe(10);
    expect(evaluateMath(rate, env({ requests: 19, throttled: 19 }))).toBe(0);
    expect(evaluateMath(rate, env({}))).toBeUndefined();
    expect(evaluateMath(parseMath('a / b'), env({ a: 1, b: 0 }))).toBeUndefined();
    expect(evaluateMath(parseMath('2 ^ 3 ^ 2 - -1'), env({}))).toBe(513);
    expect(() => parseMath("SEARCH('{AWS/ApiGateway} Count', 'Sum', 300)")).toThrow(/SEARCH\(\) is not emulated/);
  });

  test('access-log filter patterns: JSON comparisons, || and &&, wildcards, IS NULL, NOT EXISTS; term patterns', () => {
    const p = compileFilterPattern('{ ($.errorResponseType = "ACCESS_DENIED") || ($.errorResponseType = "AUTHORIZER_*") }');
    expect(['ACCESS_DENIED', 'AUTHORIZER_FAILURE', 'THROTTLED'].map((t) => p.matches(JSON.stringify({ errorResponseType: t })))).toEqual([true, true, false]);
    expect(p.matches('not json')).toBe(false);
    const n = compileFilterPattern('{ $.status >= 500 && $.latency < 1000.5 && $.key IS NULL && $.gone NOT EXISTS }');
    expect(n.matches('{"status":"502","latency":12,"key":null}')).toBe(true);
    expect(n.matches('{"status":502,"latency":12,"key":null,"gone":1}')).toBe(false);
    expect(compileFilterPattern('ERROR -DEBUG "two words"').matches('ERROR: two words')).toBe(true);
    expect(() => compileFilterPattern('[ip, user, status=5*]')).toThrow(/space-delimited/);
  });
});
