/**
 * AWS::Logs::SubscriptionFilter on a stage's access-log group with a Firehose delivery stream
 * (ExtendedS3 destination on one of the app's buckets) as its destination → a local stream
 * that delivers the stage's access-log lines into the local S3. The links are followed by
 * logical id in the template (the filter's LogGroupName `Ref`, the stage's AccessLogSetting
 * `Fn::GetAtt`, the stream's BucketARN `Fn::GetAtt`); anything else is reported.
 */
import { ResourceHandler, StackContext } from '../cloudformation/context';
import { obj, str } from '../cloudformation/values';
import { FirehoseSeed } from './service';

/** The logical id a `Ref` or `Fn::GetAtt` names. */
function targetOf(value: unknown): string | undefined {
  const o = obj(value);
  if (typeof o.Ref === 'string') return o.Ref;
  const att = o['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string') return att[0];
  if (typeof att === 'string') return att.split('.')[0];
  return undefined;
}

function stagesLoggingTo(ctx: StackContext, logGroupId: string): { apiId: string; stage: string }[] {
  const out: { apiId: string; stage: string }[] = [];
  for (const [logicalId, raw] of Object.entries(ctx.resources)) {
    const r = obj(raw);
    const p = obj(r.Properties);
    if (r.Type !== 'AWS::ApiGateway::Stage' || targetOf(obj(p.AccessLogSetting).DestinationArn) !== logGroupId) continue;
    const apiId = ctx.ref(targetOf(p.RestApiId) ?? '');
    const stage = str(p.StageName) ?? ctx.ref(logicalId);
    if (apiId && stage) out.push({ apiId, stage });
  }
  return out;
}

function seedOf(ctx: StackContext, logicalId: string): FirehoseSeed | string {
  const p = obj(obj(ctx.resources[logicalId]).Properties);
  const logGroupId = targetOf(p.LogGroupName);
  const streamId = targetOf(p.DestinationArn);
  const stream = obj(ctx.resources[streamId ?? '']);
  if (!logGroupId || !streamId || stream.Type !== 'AWS::KinesisFirehose::DeliveryStream') return 'only filters from an access-log group of the app to a Firehose stream of the app are delivered locally';
  const dest = obj(obj(stream.Properties).ExtendedS3DestinationConfiguration);
  const bucket = ctx.ref(targetOf(dest.BucketARN) ?? '');
  if (!bucket || obj(ctx.resources[targetOf(dest.BucketARN) ?? '']).Type !== 'AWS::S3::Bucket') return 'the stream\'s destination is not a bucket of the app';
  const hints = obj(dest.BufferingHints);
  return {
    streamName: str(obj(stream.Properties).DeliveryStreamName) ?? `${ctx.stackName}-${streamId}`,
    stages: stagesLoggingTo(ctx, logGroupId),
    bucket,
    prefix: str(dest.Prefix) ?? '',
    bufferMs: (Number(hints.IntervalInSeconds) || 300) * 1000,
    bufferBytes: (Number(hints.SizeInMBs) || 5) * 1024 * 1024,
    gzip: str(dest.CompressionFormat) === 'GZIP',
  };
}

export const subscriptionFilterHandler: ResourceHandler = {
  type: 'AWS::Logs::SubscriptionFilter',
  build(ctx, resources) {
    for (const { logicalId } of resources) {
      const seed = seedOf(ctx, logicalId);
      if (typeof seed === 'string') ctx.report(logicalId, this.type, seed);
      else ctx.streams.push(seed);
    }
  },
};
