import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { markEmulatedLocally } from '../lifecycle/scheduled-job';
import { USAGE_PARTITION } from '../shared/usage-export';

/** Properties of RequestStream. */
export interface RequestStreamProps {
  /** The stage's access log group (keygate's JSON format: one object per request with apiKeyId, status, route, latency). */
  readonly logGroup: logs.ILogGroup;
  readonly bucket: s3.IBucket;
  /**
   * Firehose writes a file when this much time passed since the first record, or `bufferSize` arrived, whichever first.
   * @default Duration.minutes(5)
   */
  readonly bufferInterval?: Duration;
  /** @default Size.mebibytes(64) */
  readonly bufferSize?: Size;
}

/**
 * Every request of a stage, once: the access log's subscription filter sends each line to a
 * Firehose stream, which decompresses CloudWatch Logs' batches, keeps the log messages only
 * (one JSON object per line) and writes gzip files to `requests/dt=YYYY-MM-DD/` (the UTC day
 * Firehose received them).
 */
export class RequestStream extends Construct {
  /** The key prefix of the files in the bucket. */
  public readonly prefix = 'requests';
  public readonly deliveryStream: firehose.CfnDeliveryStream;

  constructor(scope: Construct, id: string, props: RequestStreamProps) {
    super(scope, id);
    const role = new iam.Role(this, 'DeliveryRole', { assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:AbortMultipartUpload', 's3:PutObject'],
      resources: [props.bucket.arnForObjects(`${this.prefix}/*`), props.bucket.arnForObjects(`${this.prefix}-errors/*`)],
    }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [props.bucket.bucketArn] }));
    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'Stream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: props.bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: `${this.prefix}/${USAGE_PARTITION}=!{timestamp:yyyy-MM-dd}/`,
        errorOutputPrefix: `${this.prefix}-errors/!{firehose:error-output-type}/${USAGE_PARTITION}=!{timestamp:yyyy-MM-dd}/`,
        compressionFormat: 'GZIP',
        bufferingHints: { intervalInSeconds: (props.bufferInterval ?? Duration.minutes(5)).toSeconds(), sizeInMBs: (props.bufferSize ?? Size.mebibytes(64)).toMebibytes() },
        processingConfiguration: {
          enabled: true,
          processors: [
            { type: 'Decompression', parameters: [{ parameterName: 'CompressionFormat', parameterValue: 'GZIP' }] },
            { type: 'CloudWatchLogProcessing', parameters: [{ parameterName: 'DataMessageExtraction', parameterValue: 'true' }] },
          ],
        },
      },
    });
    this.deliveryStream.node.addDependency(role);
    this.subscribe(props.logGroup);
    markEmulatedLocally(this, 'delivered locally: the stage\'s access-log lines go into the local S3 as Firehose writes them (buffer size or interval, whichever first)');
    const bucketId = Stack.of(this).getLogicalId(props.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${this.prefix}/*]`,
      reason: 'Firehose writes objects with generated names under the requests/ prefix only (the wildcard is the object key).',
    }, {
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${this.prefix}-errors/*]`,
      reason: 'Firehose writes records it could not process under the requests-errors/ prefix only (the wildcard is the object key).',
    });
  }

  /** CloudWatch Logs puts the log group's events into the stream, with a role that may do only that. */
  private subscribe(logGroup: logs.ILogGroup): void {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'SubscriptionRole', { assumedBy: new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`) });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: [this.deliveryStream.attrArn] }));
    const filter = new logs.CfnSubscriptionFilter(this, 'Subscription', {
      logGroupName: logGroup.logGroupName, destinationArn: this.deliveryStream.attrArn, filterPattern: '', roleArn: role.roleArn,
    });
    filter.node.addDependency(role);
  }
}
