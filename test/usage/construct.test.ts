/** The UsageExport construct: its template (job, buckets, Glue, Athena, stream) and cdk-nag. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KeyProtectedApi, UsageExport } from '../../lib';
import { USAGE_QUERIES } from '../../lib/shared/usage-export';
import { mock } from '../support/keygate-fixtures';

function app(env?: { account: string; region: string }, stream = true) {
  const a = new App();
  const stack = new Stack(a, 'Shop', { env });
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  api.addTier('Basic', { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: apigw.Period.MONTH } });
  const usage = new UsageExport(stack, 'Usage', { api, reExportDays: 5, quotaAlertPercent: 90, requestLogGroup: stream ? api.accessLogGroupOf(api.stages[0]) : undefined });
  // A tier added after the export: still exported (Lazy).
  api.addTier('Pro', { throttle: { rateLimit: 100, burstLimit: 200 } });
  return { a, stack, api, usage };
}

test('the daily job: a rate(1 day) rule with the API, every tier, the bucket, the re-export days and the default bus', () => {
  const { stack } = app();
  const t = Template.fromStack(stack);
  const rule = Object.values(t.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 day)' } }));
  expect(rule).toHaveLength(1);
  const input = JSON.stringify(rule[0].Properties.Targets[0].Input);
  expect(input).toMatch(/\\"days\\":5/);
  expect(input).toMatch(/\\"prefix\\":\\"usage\\"/);
  expect(input).toMatch(/\\"eventBusName\\":\\"default\\"/);
  expect(input.match(/"Ref":"Api(Basic|Pro)[0-9A-F]{8}"/g) ?? []).toHaveLength(2);
  t.hasResourceProperties('AWS::Lambda::Function', { Description: 'keygate: exports daily usage per API key to S3', Timeout: 900, MemorySize: 1024 });
  // The job may put objects under usage/ and events on the bus, and read plans and keys (GET only).
  const policies = JSON.stringify(t.findResources('AWS::IAM::Policy'));
  expect(policies).toMatch(/"events:PutEvents"/);
  expect(policies).toMatch(/\/usage\/\*/);
  expect(policies).toMatch(/::\/apikeys"/);
  expect(policies).not.toMatch(/apigateway:(POST|PATCH|DELETE|PUT)/);
});

test('buckets: encrypted, public access blocked, TLS only, expiring; retained by default', () => {
  const t = Template.fromStack(app().stack);
  const buckets = t.findResources('AWS::S3::Bucket');
  expect(Object.keys(buckets)).toHaveLength(2);
  for (const b of Object.values(buckets)) {
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(b.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(b.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } });
  }
  expect(Object.values(buckets).map((b) => b.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).sort()).toEqual([30, 731]);
  const tls = Object.values(t.findResources('AWS::S3::BucketPolicy')).filter((p) => JSON.stringify(p).includes('"aws:SecureTransport":"false"'));
  expect(tls).toHaveLength(2);
});

test('Glue tables with partition projection on dt (no crawler), an Athena workgroup with encrypted results, the named queries', () => {
  const t = Template.fromStack(app().stack);
  t.resourceCountIs('AWS::Glue::Crawler', 0);
  t.hasResourceProperties('AWS::Glue::Table', {
    TableInput: Match.objectLike({
      Name: 'usage_daily',
      PartitionKeys: [{ Name: 'dt', Type: 'string' }],
      Parameters: Match.objectLike({ 'projection.enabled': 'true', 'projection.dt.type': 'date', 'projection.dt.format': 'yyyy-MM-dd', 'projection.dt.range': '2024-01-01,NOW' }),
      StorageDescriptor: Match.objectLike({ SerdeInfo: Match.objectLike({ SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' }) }),
    }),
  });
  t.hasResourceProperties('AWS::Glue::Table', { TableInput: Match.objectLike({ Name: 'usage_requests' }) });
  t.hasResourceProperties('AWS::Athena::WorkGroup', {
    WorkGroupConfiguration: Match.objectLike({ EnforceWorkGroupConfiguration: true, ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } }) }),
  });
  const queries = Object.values(t.findResources('AWS::Athena::NamedQuery')).map((q) => q.Properties.QueryString).sort();
  expect(queries).toEqual([
    USAGE_QUERIES.billableRequestsPerKeyPerDay('usage_requests'), USAGE_QUERIES.keysOverQuotaPercent('usage_daily', 90), USAGE_QUERIES.requestsPerCustomerPerMonth('usage_daily'),
  ].sort());
});

test('the per-request stream: the access log\'s subscription filter into Firehose, decompressed, messages only, by day', () => {
  const t = Template.fromStack(app().stack);
  t.resourceCountIs('AWS::Logs::SubscriptionFilter', 1);
  t.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
    DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
    ExtendedS3DestinationConfiguration: Match.objectLike({
      Prefix: 'requests/dt=!{timestamp:yyyy-MM-dd}/',
      CompressionFormat: 'GZIP',
      ProcessingConfiguration: { Enabled: true, Processors: Match.arrayWith([Match.objectLike({ Type: 'Decompression' }), Match.objectLike({ Type: 'CloudWatchLogProcessing' })]) },
    }),
  });
  // Without a log group: no stream, no per-request table or query.
  const t2 = Template.fromStack(app(undefined, false).stack);
  t2.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
  t2.resourceCountIs('AWS::Athena::NamedQuery', 2);
});

test.each([
  [{ reExportDays: 0 }, /reExportDays: must be a whole number of days from 1 to 90 \(got 0\)|reExportDays.*must be a whole number of days from 1 to 90/],
  [{ reExportDays: 91 }, /reExportDays.*must be a whole number of days from 1 to 90/],
  [{ quotaAlertPercent: 120 }, /quotaAlertPercent.*must be a percentage above 0 and at most 100/],
  [{ firstDay: '2024-02-30' }, /firstDay.*must be a day written YYYY-MM-DD/],
])('validation: %j', (bad, message) => {
  const a = new App();
  const stack = new Stack(a, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  expect(() => new UsageExport(stack, 'Usage', { api, ...bad })).toThrow(message);
});

test.each([[undefined], [{ account: '123456789012', region: 'eu-west-1' }]])('cdk-nag AwsSolutions (env %j): nothing left on the usage export (keygate acknowledges the basic role of its own functions); acknowledgements have reasons', (env) => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-usage-nag-'));
  try {
    const a = new App({ outdir });
    const stack = new Stack(a, 'Shop', { env });
    const api = new KeyProtectedApi(stack, 'Api');
    api.addRoute('GET /pets', mock());
    api.addTier('Basic', { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: apigw.Period.MONTH } });
    new UsageExport(stack, 'Usage', { api, requestLogGroup: api.accessLogGroupOf(api.stages[0]) });
    Validations.of(a).addPlugins(new AwsSolutionsChecks(a));
    try { a.synth(); } catch { /* findings of the rest of the app fail the synth; ours are read below */ }
    const report = (JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; violations: { ruleName: string; reason?: string; violatingConstructs: { constructPath: string }[] }[]; suppressedViolations?: { ruleName: string; reason?: string; violatingConstructs: { constructPath: string }[] }[] }[] })
      .pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    const ours = /^Shop\/Usage\//;
    const findings = (report?.violations ?? []).flatMap((v) => v.violatingConstructs.filter((c) => ours.test(c.constructPath)).map((c) => `${v.ruleName} ${c.constructPath}`));
    expect(findings).toEqual([]);
    const acknowledged = (report?.suppressedViolations ?? []).filter((v) => v.violatingConstructs.some((c) => ours.test(c.constructPath)));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const v of acknowledged) expect(v.reason?.length ?? 0).toBeGreaterThan(40);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
