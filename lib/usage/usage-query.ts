import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Aws, Duration, Fn, Names, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { secureBucket } from './secure-bucket';
import { markEmulatedLocally } from '../lifecycle/scheduled-job';
import { USAGE_PARTITION, USAGE_QUERIES, USAGE_TABLES } from '../shared/usage-export';

/** A table's files: `s3://bucket/prefix/dt=YYYY-MM-DD/…`, gzip JSON lines. */
export interface UsageTableSource {
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

export interface UsageQueryProps {
  readonly daily: UsageTableSource;
  /** The per-request stream's files, if the stream is on. */
  readonly requests?: UsageTableSource;
  readonly quotaAlertPercent: number;
  /** The first day partition projection covers (YYYY-MM-DD). */
  readonly firstDay: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Athena over the usage export: a Glue database, a table per source with partition projection
 * on `dt` (no crawler: every day is a partition as soon as its file exists), a workgroup that
 * writes encrypted results to its own bucket, and the named queries.
 */
export class UsageQuery extends Construct {
  public readonly databaseName: string;
  public readonly workGroupName: string;
  public readonly resultsBucket: s3.Bucket;
  public readonly namedQueries: { [name: string]: athena.CfnNamedQuery } = {};

  constructor(scope: Construct, id: string, props: UsageQueryProps) {
    super(scope, id);
    this.databaseName = Names.uniqueResourceName(this, { maxLength: 200, separator: '_' }).toLowerCase();
    const db = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'keygate usage export: daily usage per API key (and the per-request stream)' },
    });
    const tables = [this.table(db, USAGE_TABLES.daily, props.daily, props.firstDay)];
    if (props.requests) tables.push(this.table(db, USAGE_TABLES.requests, props.requests, props.firstDay));

    this.resultsBucket = secureBucket(this, 'Results', { expireAfter: Duration.days(30), removalPolicy: props.removalPolicy });
    this.workGroupName = Names.uniqueResourceName(this, { maxLength: 128 });
    const wg = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'keygate usage export queries',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: this.resultsBucket.s3UrlForObject('athena/'),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    const queries: [string, string, string][] = [
      ['RequestsPerCustomerPerMonth', 'Requests per customer (customerId) per month', USAGE_QUERIES.requestsPerCustomerPerMonth(USAGE_TABLES.daily)],
      ['KeysOverQuota', `Keys over ${props.quotaAlertPercent} % of their quota, per day`, USAGE_QUERIES.keysOverQuotaPercent(USAGE_TABLES.daily, props.quotaAlertPercent)],
    ];
    if (props.requests) queries.push(['BillableRequestsPerKeyPerDay', 'Billable (2xx) requests per key per day, from the per-request stream', USAGE_QUERIES.billableRequestsPerKeyPerDay(USAGE_TABLES.requests)]);
    for (const [qid, description, sql] of queries) {
      const q = new athena.CfnNamedQuery(this, qid, { name: `keygate ${description}`, description, database: this.databaseName, workGroup: wg.ref, queryString: sql });
      for (const t of tables) q.addResourceDependency(t);
      this.namedQueries[qid] = q;
    }
    markEmulatedLocally(this, 'Athena and Glue are not emulated: query the exported files in the local S3 folder with DuckDB (docs/usage-and-billing.md)');
  }

  private table(db: glue.CfnDatabase, name: string, source: UsageTableSource, firstDay: string): glue.CfnTable {
    const location = Fn.join('', ['s3://', source.bucket.bucketName, `/${source.prefix}/`]);
    const table = new glue.CfnTable(this, name === USAGE_TABLES.daily ? 'DailyTable' : 'RequestsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          'classification': 'json',
          'compressionType': 'gzip',
          'projection.enabled': 'true',
          [`projection.${USAGE_PARTITION}.type`]: 'date',
          [`projection.${USAGE_PARTITION}.format`]: 'yyyy-MM-dd',
          [`projection.${USAGE_PARTITION}.range`]: `${firstDay},NOW`,
          [`projection.${USAGE_PARTITION}.interval`]: '1',
          [`projection.${USAGE_PARTITION}.interval.unit`]: 'DAYS',
          'storage.location.template': Fn.join('', [location, `${USAGE_PARTITION}=\${${USAGE_PARTITION}}/`]),
        },
        partitionKeys: [{ name: USAGE_PARTITION, type: 'string' }],
        storageDescriptor: {
          location,
          columns: source.columns.map((c) => ({ name: c.name.toLowerCase(), type: c.type })),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', parameters: { 'case.insensitive': 'true', 'ignore.malformed.json': 'false' } },
        },
      },
    });
    table.addResourceDependency(db);
    return table;
  }
}

