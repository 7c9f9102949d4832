/** The local CloudWatch slice through the real `@aws-sdk/client-cloudwatch` (JSON 1.0, query compatible), and its request guard. */
import * as http from 'http';
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { LocalCloudWatch, MAX_KEPT_DATA_POINTS } from '../../lib/local/cloudwatch/service';
import { synthTopicApp } from './fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const NOW = Date.parse('2026-12-01T12:00:00Z');
let gw: LocalGateway;
let client: CloudWatchClient;
const log: string[] = [];

beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthTopicApp(), clock: () => NOW, log: (line) => log.push(line) });
  client = new CloudWatchClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await gw.close();
});

const datum = (extra: Partial<MetricDatum> = {}): MetricDatum => ({ MetricName: 'QuotaUsed', Dimensions: [{ Name: 'ApiKeyId', Value: 'k1' }], Value: 7, Unit: 'Count', ...extra });

describe('local CloudWatch', () => {
  test('PutMetricData keeps every data point with its dimensions, timestamp and unit, and logs the call', async () => {
    // WHEN
    await client.send(new PutMetricDataCommand({
      Namespace: 'Keygate/Quota',
      MetricData: [
        datum({ Timestamp: new Date(NOW - 60_000) }),
        { MetricName: 'Latency', Values: [1, 2], Counts: [3, 1], Unit: 'Milliseconds' },
        { MetricName: 'Size', StatisticValues: { SampleCount: 2, Sum: 10, Minimum: 4, Maximum: 6 } },
      ],
    }));

    // THEN
    expect(gw.cloudwatch.dataPoints.slice(-3)).toEqual([
      { namespace: 'Keygate/Quota', metricName: 'QuotaUsed', dimensions: { ApiKeyId: 'k1' }, timestamp: NOW - 60_000, value: 7, unit: 'Count' },
      { namespace: 'Keygate/Quota', metricName: 'Latency', dimensions: {}, timestamp: NOW, values: { values: [1, 2], counts: [3, 1] }, unit: 'Milliseconds' },
      { namespace: 'Keygate/Quota', metricName: 'Size', dimensions: {}, timestamp: NOW, statistics: { sampleCount: 2, sum: 10, minimum: 4, maximum: 6 }, unit: 'None' },
    ]);
    expect(log.at(-1)).toBe('keygate local: CloudWatch Keygate/Quota got 3 data points (QuotaUsed, Latency, Size)');
  });

  test('a call of 1,000 data points, which the SDK sends gzipped, is taken whole', async () => {
    const before = gw.cloudwatch.receivedCount;
    await client.send(new PutMetricDataCommand({ Namespace: 'App', MetricData: Array.from({ length: 1000 }, (_, i) => datum({ Value: i })) }));
    expect(gw.cloudwatch.receivedCount).toBe(before + 1000);
    expect(gw.cloudwatch.dataPoints.at(-1)?.value).toBe(999);
  });

  test.each([
    ['more than 1,000 data points', { Namespace: 'App', MetricData: Array.from({ length: 1001 }, () => datum()) }, 'InvalidParameterValueException', /The collection MetricData must not have a size greater than 1000\./],
    ['an AWS/ namespace', { Namespace: 'AWS/ApiGateway', MetricData: [datum()] }, 'InvalidParameterValueException', /The value AWS\/ApiGateway for parameter Namespace is invalid/],
    ['Value and StatisticValues together', { Namespace: 'App', MetricData: [datum({ StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } })] }, 'InvalidParameterCombinationException', /MetricData\.member\.1\.Value and MetricData\.member\.1\.StatisticValues are mutually exclusive/],
    ['a timestamp three weeks old', { Namespace: 'App', MetricData: [datum(), datum({ Timestamp: new Date(NOW - 21 * 86_400_000) })] }, 'InvalidParameterValueException', /MetricData\.member\.2\.Timestamp must specify a time no more than two weeks in the past/],
    ['a timestamp three hours ahead', { Namespace: 'App', MetricData: [datum({ Timestamp: new Date(NOW + 3 * 3_600_000) })] }, 'InvalidParameterValueException', /no more than two hours in the future/],
    ['a NaN value', { Namespace: 'App', MetricData: [datum({ Value: Number.NaN })] }, 'InvalidParameterValueException', /The value NaN for parameter MetricData\.member\.1\.Value is invalid/],
    ['an unknown unit', { Namespace: 'App', MetricData: [datum({ Unit: 'Parsecs' as MetricDatum['Unit'] })] }, 'InvalidParameterValueException', /The value Parsecs for parameter MetricData\.member\.1\.Unit is invalid/],
    ['31 dimensions', { Namespace: 'App', MetricData: [datum({ Dimensions: Array.from({ length: 31 }, (_, i) => ({ Name: `d${i}`, Value: 'v' })) })] }, 'InvalidParameterValueException', /Dimensions must not have a size greater than 30/],
    ['no metric name', { Namespace: 'App', MetricData: [datum({ MetricName: undefined })] }, 'MissingRequiredParameterException', /The parameter MetricData\.member\.1\.MetricName is required/],
    ['no namespace', { MetricData: [datum()] }, 'MissingRequiredParameterException', /The parameter Namespace is required/],
  ])('PutMetricData with %s fails as CloudWatch does and keeps none of the call\'s data points', async (_what, input, name, message) => {
    const before = gw.cloudwatch.receivedCount;
    const err = await client.send(new PutMetricDataCommand(input as never)).catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ name });
    expect((err as Error).message).toMatch(message);
    expect(gw.cloudwatch.receivedCount).toBe(before);
  });

  test('keeps only the newest data points', () => {
    const local = new LocalCloudWatch({ clock: () => NOW });
    const call = (n: number) => Buffer.from(JSON.stringify({ Namespace: 'App', MetricData: Array.from({ length: 1000 }, (_, i) => ({ MetricName: 'm', Value: n * 1000 + i })) }));
    for (let n = 0; n < MAX_KEPT_DATA_POINTS / 1000 + 1; n++) expect(local.handle({ target: 'GraniteServiceVersion20100801.PutMetricData', body: call(n) }).status).toBe(200);
    expect(local.dataPoints).toHaveLength(MAX_KEPT_DATA_POINTS);
    expect(local.dataPoints[0].value).toBe(1000);
    expect(local.receivedCount).toBe(MAX_KEPT_DATA_POINTS + 1000);
  });

  describe('the request guard', () => {
    const body = JSON.stringify({ Namespace: 'App', MetricData: [{ MetricName: 'planted', Value: 1 }] });
    const signed = `AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(64)}`;

    test.each([
      ['unsigned', {}, /Missing Authentication Token/],
      ['a cross-site fetch', { authorization: signed, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, /cross-site/],
      ['a foreign Host (DNS rebinding)', { authorization: signed, host: 'evil.example' }, /loopback Host/],
    ])('refuses %s with 403 and keeps nothing', async (_what, headers, message) => {
      const before = gw.cloudwatch.receivedCount;
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1', port: gw.port, method: 'POST', path: '/',
          headers: { host: `127.0.0.1:${gw.port}`, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData', 'content-length': String(body.length), ...headers },
        }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(res.status).toBe(403);
      expect(res.body).toMatch(message);
      expect(gw.cloudwatch.receivedCount).toBe(before);
    });
  });
});
