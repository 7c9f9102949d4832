import * as athena from 'aws-cdk-lib/aws-athena';
import * as events from 'aws-cdk-lib/aws-events';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IKeyProtectedApi } from '../api-contract';
import { KeygateError } from '../errors';
import { lazyUsagePlanIds, readUsagePlansStatement } from '../lifecycle/api-tiers';
import { ScheduledJob } from '../lifecycle/scheduled-job';
import { RequestStream } from './request-stream';
import { secureBucket } from './secure-bucket';
import { UsageQuery } from './usage-query';
import { REQUEST_STREAM_COLUMNS, USAGE_EXPORT_COLUMNS, USAGE_EXPORT_PREFIX } from '../shared/usage-export';

/** Options of the usage export. */
export interface UsageExportOptions {
  /**
   * Complete UTC days each daily run (re-)exports, yesterday included, so that late counts land;
   * re-exporting a day replaces its file. From 1 to 90.
   * @default 3
   */
  readonly reExportDays?: number;

  /**
   * How long the daily files are kept.
   * @default Duration.days(731)
   */
  readonly retention?: Duration;

  /**
   * The bus the "Usage day exported" events go to (source `keygate.usage-export`).
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * The stage's access log group (keygate's JSON format): with it, every request is streamed
   * through a subscription filter and Firehose to the bucket (`requests/dt=YYYY-MM-DD/`),
   * and the `usage_requests` table and the billable-requests query exist.
   * @default - no per-request stream
   */
  readonly requestLogGroup?: logs.ILogGroup;

  /**
   * The "keys over N % of quota" named query's N, above 0 and at most 100.
   * @default 80
   */
  readonly quotaAlertPercent?: number;

  /**
   * The first day Athena's partition projection covers (YYYY-MM-DD).
   * @default "2024-01-01"
   */
  readonly firstDay?: string;

  /**
   * What happens to the buckets when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Properties of UsageExport. */
export interface UsageExportProps extends UsageExportOptions {
  /** The API whose tiers (usage plans) are exported, also tiers added later. */
  readonly api: IKeyProtectedApi;
}

/**
 * Usage you can bill: a daily job writes one row per key, tier and UTC day from GetUsage
 * (date, API id, stage, plan id, key id, key name, customer id, used, remaining, quota limit)
 * as gzip JSON lines to `s3://bucket/usage/dt=YYYY-MM-DD/part-0.json.gz`, re-exports the last
 * days, then puts a "Usage day exported" event per day. Glue tables with partition projection,
 * an Athena workgroup and named queries read it; optionally every request is streamed too.
 */
export class UsageExport extends Construct {
  /** The bucket the daily files (and the per-request stream) land in. */
  public readonly bucket: s3.Bucket;
  /** The daily job's function (its Errors metric shows failed runs). */
  public readonly handler: lambda.IFunction;
  /** The Glue database with the `usage_daily` (and `usage_requests`) tables. */
  public readonly databaseName: string;
  /** The Athena workgroup of the named queries. */
  public readonly workGroupName: string;
  /** Where Athena writes query results. */
  public readonly resultsBucket: s3.IBucket;
  /** The named queries, by id (RequestsPerCustomerPerMonth, KeysOverQuota, BillableRequestsPerKeyPerDay). */
  public readonly namedQueries: { [id: string]: athena.CfnNamedQuery };
  /** The per-request stream's Firehose delivery stream, when `requestLogGroup` is set. */
  public readonly deliveryStream?: firehose.CfnDeliveryStream;

  constructor(scope: Construct, id: string, props: UsageExportProps) {
    super(scope, id);
    const days = validateProps(this, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = secureBucket(this, 'Bucket', { expireAfter: props.retention ?? Duration.days(731), removalPolicy });
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const job = new ScheduledJob(this, 'Job', {
      handlerName: 'export-usage',
      description: 'keygate: exports daily usage per API key to S3',
      every: Duration.days(1),
      timeout: Duration.minutes(15),
      input: events.RuleTargetInput.fromObject({
        apiId: props.api.restApi.restApiId, usagePlanIds: lazyUsagePlanIds(props.api), bucket: this.bucket.bucketName,
        prefix: USAGE_EXPORT_PREFIX, days, eventBusName: eventBus.eventBusName,
      }),
    });
    (job.handler.node.defaultChild as lambda.CfnFunction).memorySize = 1024;
    this.handler = job.handler;
    job.handler.addToRolePolicy(readUsagePlansStatement(props.api));
    job.handler.addToRolePolicy(readApiKeysStatement(this));
    job.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${USAGE_EXPORT_PREFIX}/*`)] }));
    eventBus.grantPutEventsTo(job.handler);

    const stream = props.requestLogGroup ? new RequestStream(this, 'RequestStream', { logGroup: props.requestLogGroup, bucket: this.bucket }) : undefined;
    this.deliveryStream = stream?.deliveryStream;
    const query = new UsageQuery(this, 'Query', {
      daily: { bucket: this.bucket, prefix: USAGE_EXPORT_PREFIX, columns: USAGE_EXPORT_COLUMNS },
      requests: stream ? { bucket: this.bucket, prefix: stream.prefix, columns: REQUEST_STREAM_COLUMNS } : undefined,
      quotaAlertPercent: props.quotaAlertPercent ?? 80,
      firstDay: props.firstDay ?? '2024-01-01',
      removalPolicy,
    });
    this.databaseName = query.databaseName;
    this.workGroupName = query.workGroupName;
    this.resultsBucket = query.resultsBucket;
    this.namedQueries = query.namedQueries;
    acknowledgeNag(this, Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket));
  }
}

function validateProps(scope: Construct, props: UsageExportProps): number {
  const days = props.reExportDays ?? 3;
  if (!Token.isUnresolved(days) && (!Number.isInteger(days) || days < 1 || days > 90)) {
    throw KeygateError.of(scope, 'reExportDays', 'must be a whole number of days from 1 to 90', days);
  }
  const percent = props.quotaAlertPercent;
  if (percent !== undefined && !Token.isUnresolved(percent) && !(percent > 0 && percent <= 100)) {
    throw KeygateError.of(scope, 'quotaAlertPercent', 'must be a percentage above 0 and at most 100', percent);
  }
  const first = props.firstDay;
  if (first !== undefined && !(/^\d{4}-\d{2}-\d{2}$/.test(first) && new Date(`${first}T00:00:00Z`).toISOString().startsWith(first))) {
    throw KeygateError.of(scope, 'firstDay', 'must be a day written YYYY-MM-DD', first);
  }
  return days;
}

/** GET /apikeys: the keys' names and customer ids (never their values: the job doesn't ask for them). */
function readApiKeysStatement(scope: Construct): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['apigateway:GET'],
    resources: [Stack.of(scope).formatArn({ service: 'apigateway', account: '', resource: '/apikeys', arnFormat: ArnFormat.NO_RESOURCE_NAME })],
  });
}

function acknowledgeNag(scope: Construct, bucketLogicalId: string): void {
  const v = Validations.of(scope);
  v.acknowledge({
    id: 'AwsSolutions::AwsSolutions-S1',
    reason: 'The usage buckets hold derived billing data written only by keygate\'s job and Firehose; S3 data events in CloudTrail record access where an owner needs it, a server access log bucket would only log these writes.',
  });
  v.acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${USAGE_EXPORT_PREFIX}/*]`,
    reason: 'The export job writes the daily files under the usage/ prefix only (the wildcard is the object key: dt=YYYY-MM-DD/part-0.json.gz).',
  });
}
