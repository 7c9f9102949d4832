/*
 * Unit tests of the key-lifecycle jobs' own logic, with the AWS SDK mocked
 * (aws-sdk-client-mock). The jobs run end to end against the local gateway in e2e-local.test.ts.
 */
import 'aws-sdk-client-mock-jest';
import {
  APIGatewayClient, GetApiKeyCommand, GetApiKeysCommand, GetUsageCommand, GetUsagePlanCommand, GetUsagePlanKeysCommand, UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { disableUnusedKeys } from '../../lib/handlers/disable-unused-keys';
import { expireKeys, handler as expireKeysHandler } from '../../lib/handlers/expire-keys';
import { publishQuotaUsage } from '../../lib/handlers/publish-quota-usage';

const apigwMock = mockClient(APIGatewayClient);
const snsMock = mockClient(SNSClient);
const cloudwatchMock = mockClient(CloudWatchClient);
const NOW = Date.parse('2026-12-20T12:00:00Z');
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:owner';
const DAY = 86_400_000;

beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  apigwMock.reset();
  snsMock.reset();
  cloudwatchMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm1' });
  apigwMock.on(UpdateApiKeyCommand).resolves({});
});

function deps() {
  return { apigw: new APIGatewayClient({ region: 'us-east-1' }), sns: new SNSClient({ region: 'us-east-1' }), cloudwatch: new CloudWatchClient({ region: 'us-east-1' }), topicArn: TOPIC, now: () => NOW };
}

describe('expiry job', () => {
  test('disables an enabled key past its expiry and tells the owner, with the key id and customer id as attributes', async () => {
    // GIVEN a trial key created 15 days ago that expires after 14
    apigwMock.on(GetApiKeyCommand, { apiKey: 'k1' }).resolves({
      id: 'k1', name: 'trial', customerId: 'cust-7', enabled: true, createdDate: new Date(NOW - 15 * DAY), tags: { 'keygate:expires-after-seconds': String(14 * 86_400) },
    });

    // WHEN
    const report = await expireKeys(deps(), ['k1']);

    // THEN
    expect(report).toEqual({ keys: [{ id: 'k1', outcome: 'disabled', expiresAt: new Date(NOW - DAY).toISOString() }], failures: [] });
    expect(apigwMock).toHaveReceivedCommandWith(UpdateApiKeyCommand, { apiKey: 'k1', patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] });
    expect(apigwMock).toHaveReceivedCommandWith(GetApiKeyCommand, { apiKey: 'k1', includeValue: false });
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: TOPIC,
      Subject: 'keygate: API key trial expired and was disabled',
      MessageAttributes: { keyId: { DataType: 'String', StringValue: 'k1' }, customerId: { DataType: 'String', StringValue: 'cust-7' } },
    });
    const message = JSON.parse(snsMock.commandCalls(PublishCommand)[0].args[0].input.Message ?? '{}');
    expect(message).toMatchObject({ event: 'keygate.key.expired', keyId: 'k1', keyName: 'trial', disabledAt: new Date(NOW).toISOString() });
  });

  test('leaves alone a key not yet expired, an expired key already disabled, a key without expiry and a deleted key', async () => {
    // GIVEN
    apigwMock.on(GetApiKeyCommand, { apiKey: 'young' }).resolves({ id: 'young', enabled: true, createdDate: new Date(NOW - DAY), tags: { 'keygate:expires-after-seconds': String(14 * 86_400) } });
    apigwMock.on(GetApiKeyCommand, { apiKey: 'done' }).resolves({ id: 'done', enabled: false, createdDate: new Date(NOW - 30 * DAY), tags: { 'keygate:expires-at': '2026-12-01T00:00:00.000Z' } });
    apigwMock.on(GetApiKeyCommand, { apiKey: 'plain' }).resolves({ id: 'plain', enabled: true, createdDate: new Date(NOW - 30 * DAY), tags: {} });
    apigwMock.on(GetApiKeyCommand, { apiKey: 'gone' }).rejects(Object.assign(new Error('Invalid API Key identifier specified'), { name: 'NotFoundException' }));

    // WHEN
    const report = await expireKeys(deps(), ['young', 'done', 'plain', 'gone']);

    // THEN
    expect(report.keys.map((k) => [k.id, k.outcome])).toEqual([['young', 'not expired'], ['done', 'expired, already disabled'], ['plain', 'no expiry'], ['gone', 'deleted']]);
    expect(apigwMock).not.toHaveReceivedCommand(UpdateApiKeyCommand);
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  test('leaves a developer portal\'s key to the portal, even past its expiry (the portal\'s job disables it and marks the subscription expired)', async () => {
    // GIVEN a portal key past the expiry the portal wrote on it
    apigwMock.on(GetApiKeyCommand, { apiKey: 'pk' }).resolves({
      id: 'pk', enabled: true, createdDate: new Date(NOW - 30 * DAY), tags: { 'keygate:portal': 'ShopPortal', 'keygate:portal-status': 'active', 'keygate:expires-at': '2026-12-01T00:00:00.000Z' },
    });

    // WHEN
    const report = await expireKeys(deps(), ['pk']);

    // THEN
    expect(report).toEqual({ keys: [{ id: 'pk', outcome: 'left to its portal' }], failures: [] });
    expect(apigwMock).not.toHaveReceivedCommand(UpdateApiKeyCommand);
  });

  test('one failing key doesn\'t hold up the others; the run then fails so that it shows and is retried', async () => {
    // GIVEN
    process.env.TOPIC_ARN = TOPIC;
    const expired = { enabled: true, createdDate: new Date(NOW - 30 * DAY), tags: { 'keygate:expires-at': '2026-01-01T00:00:00.000Z' } };
    apigwMock.on(GetApiKeyCommand, { apiKey: 'a' }).resolves({ id: 'a', ...expired });
    apigwMock.on(GetApiKeyCommand, { apiKey: 'b' }).resolves({ id: 'b', ...expired });
    apigwMock.on(UpdateApiKeyCommand, { apiKey: 'a' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    // WHEN / THEN
    await expect(expireKeysHandler({ keyIds: ['a', 'b'] })).rejects.toThrow(/keygate expiry job: 1 key\(s\) failed: a: TooManyRequestsException: Rate exceeded/);
    expect(apigwMock).toHaveReceivedCommandWith(UpdateApiKeyCommand, { apiKey: 'b' });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });
});

describe('hygiene job', () => {
  const old = new Date(NOW - 400 * DAY);
  beforeEach(() => {
    apigwMock.on(GetUsagePlanCommand, { usagePlanId: 'p1' }).resolves({ id: 'p1', name: 'Basic' });
    apigwMock.on(GetUsagePlanKeysCommand, { usagePlanId: 'p1' }).resolves({ items: ['used', 'idle', 'stack', 'new'].map((id) => ({ id, name: id, type: 'API_KEY' })) });
    apigwMock.on(GetUsageCommand).resolves({ items: { used: [[0, 0], [3, 0]], idle: [[0, 0]], stack: [[0, 0]] } });
    apigwMock.on(GetApiKeysCommand).resolves({
      items: [
        { id: 'used', name: 'used', enabled: true, createdDate: old, tags: {} },
        { id: 'idle', name: 'idle', enabled: true, createdDate: old, customerId: 'c-idle', tags: {} },
        { id: 'stack', name: 'stack', enabled: true, createdDate: old, tags: { 'aws:cloudformation:stack-name': 'Shop', 'aws:cloudformation:logical-id': 'Key1' } },
        { id: 'new', name: 'new', enabled: true, createdDate: new Date(NOW - 3 * DAY), tags: {} },
        { id: 'elsewhere', name: 'elsewhere', enabled: true, createdDate: old, tags: {} },
      ],
    });
  });

  test('disables unused keys of the plans, not stack-owned ones, not keys younger than the window, not keys of other plans', async () => {
    // WHEN
    const report = await disableUnusedKeys(deps(), { usagePlanIds: ['p1'], days: 90 });

    // THEN
    expect(report).toEqual({ from: '2026-09-22', to: '2026-12-20', disabled: ['idle'], skippedManaged: ['stack'], leftToPortal: [], failures: [] });
    expect(apigwMock).toHaveReceivedCommandTimes(UpdateApiKeyCommand, 1);
    expect(apigwMock).toHaveReceivedCommandWith(UpdateApiKeyCommand, { apiKey: 'idle', patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] });
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, { Subject: 'keygate: API key idle unused for 90 days, disabled', MessageAttributes: expect.objectContaining({ customerId: { DataType: 'String', StringValue: 'c-idle' } }) });
  });

  test('with includeManagedKeys it disables stack-owned keys too', async () => {
    const report = await disableUnusedKeys(deps(), { usagePlanIds: ['p1'], days: 90, includeManagedKeys: true });
    expect(report.disabled).toEqual(['idle', 'stack']);
  });

  test('never disables a key that a rotation schedule owns, even with includeManagedKeys (the schedule retires it)', async () => {
    // GIVEN the idle key was created by a secret's rotation schedule
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:soylent-AbCdEf';
    apigwMock.on(GetApiKeysCommand).resolves({
      items: [{ id: 'idle', name: 'soylent-rotated', enabled: true, createdDate: old, tags: { 'keygate:rotation-secret': secretArn } }],
    });

    // WHEN
    const report = await disableUnusedKeys(deps(), { usagePlanIds: ['p1'], days: 90, includeManagedKeys: true });

    // THEN it is left alone and counted as managed
    expect(report).toMatchObject({ disabled: [], skippedManaged: ['idle'], failures: [] });
    expect(apigwMock).not.toHaveReceivedCommand(UpdateApiKeyCommand);
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  test('leaves a developer portal\'s unused key to the portal, even with includeManagedKeys (the portal applies its own disableUnusedAfter)', async () => {
    // GIVEN the idle key was made by a developer portal
    apigwMock.on(GetApiKeysCommand).resolves({
      items: [{ id: 'idle', name: 'ShopPortal.sub-1.1', enabled: true, createdDate: old, tags: { 'keygate:portal': 'ShopPortal', 'keygate:portal-consumer': 'sub-1' } }],
    });

    // WHEN
    const report = await disableUnusedKeys(deps(), { usagePlanIds: ['p1'], days: 90, includeManagedKeys: true });

    // THEN
    expect(report).toMatchObject({ disabled: [], skippedManaged: [], leftToPortal: ['idle'], failures: [] });
    expect(apigwMock).not.toHaveReceivedCommand(UpdateApiKeyCommand);
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  test('a window longer than GetUsage\'s 90 days is read in parts', async () => {
    await disableUnusedKeys(deps(), { usagePlanIds: ['p1'], days: 120 });
    const ranges = apigwMock.commandCalls(GetUsageCommand).map((c) => [c.args[0].input.startDate, c.args[0].input.endDate]);
    expect(ranges).toEqual([['2026-08-23', '2026-11-20'], ['2026-11-21', '2026-12-20']]);
  });
});

describe('quota usage job', () => {
  test('publishes used, remaining and percent per key and plan for the current period; idle keys and plans without quota publish nothing', async () => {
    // GIVEN a monthly quota starting on the 1st, and a plan without quota
    apigwMock.on(GetUsagePlanCommand, { usagePlanId: 'p1' }).resolves({ id: 'p1', quota: { limit: 1000, period: 'MONTH', offset: 0 } });
    apigwMock.on(GetUsagePlanCommand, { usagePlanId: 'p2' }).resolves({ id: 'p2' });
    apigwMock.on(GetUsagePlanKeysCommand, { usagePlanId: 'p1' }).resolves({ items: [{ id: 'k1' }, { id: 'k2' }] });
    apigwMock.on(GetUsageCommand, { usagePlanId: 'p1' }).resolves({ items: { k1: [[100, 900], [700, 200]], k2: [[0, 1000], [0, 1000]] } });

    // WHEN
    const usage = await publishQuotaUsage(deps(), { apiId: 'api1', usagePlanIds: ['p1', 'p2'] });

    // THEN
    expect(usage).toEqual([{ usagePlanId: 'p1', apiKeyId: 'k1', used: 800, remaining: 200, limit: 1000, usedPercent: 80 }]);
    expect(apigwMock).toHaveReceivedCommandWith(GetUsageCommand, { usagePlanId: 'p1', startDate: '2026-12-01', endDate: '2026-12-20' });
    expect(apigwMock).not.toHaveReceivedCommandWith(GetUsageCommand, { usagePlanId: 'p2' });
    const dimensions = [{ Name: 'ApiId', Value: 'api1' }, { Name: 'UsagePlanId', Value: 'p1' }, { Name: 'ApiKeyId', Value: 'k1' }];
    expect(cloudwatchMock).toHaveReceivedCommandWith(PutMetricDataCommand, {
      Namespace: 'Keygate/Quota',
      MetricData: [
        expect.objectContaining({ MetricName: 'QuotaUsed', Dimensions: dimensions, Value: 800, Unit: 'Count' }),
        expect.objectContaining({ MetricName: 'QuotaRemaining', Dimensions: dimensions, Value: 200, Unit: 'Count' }),
        expect.objectContaining({ MetricName: 'QuotaUsedPercent', Dimensions: dimensions, Value: 80, Unit: 'Percent' }),
      ],
    });
  });

  test('a weekly quota counts from the period\'s first day (offset 1 = Monday)', async () => {
    apigwMock.on(GetUsagePlanCommand).resolves({ id: 'p1', quota: { limit: 10, period: 'WEEK', offset: 1 } });
    apigwMock.on(GetUsagePlanKeysCommand).resolves({ items: [] });
    apigwMock.on(GetUsageCommand).resolves({ items: {} });
    await publishQuotaUsage(deps(), { apiId: 'api1', usagePlanIds: ['p1'] });
    // 2026-12-20 is a Sunday: the week began on Monday the 14th.
    expect(apigwMock).toHaveReceivedCommandWith(GetUsageCommand, { startDate: '2026-12-14', endDate: '2026-12-20' });
    expect(cloudwatchMock).not.toHaveReceivedCommand(PutMetricDataCommand);
  });
});
