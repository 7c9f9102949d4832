/** AWS::SNS::Subscription → a subscription of the local SNS (delivery.ts says what each protocol gets). */
import { PROTOCOLS } from './subscriptions';
import { ResourceHandler, StackContext } from '../cloudformation/context';
import { str } from '../cloudformation/values';
import { marketplaceTopicProductCode } from '../../shared/marketplace';

/** Adds a subscription (an AWS::SNS::Subscription, or an entry of a topic's `Subscription`), reporting a bad one. */
export function addSubscription(ctx: StackContext, logicalId: string, type: string, topicArn: string | undefined, protocol: string | undefined, endpoint: string | undefined, raw = false): void {
  if (!topicArn || !protocol || !endpoint || !PROTOCOLS.has(protocol)) {
    ctx.report(logicalId, type, `subscription needs a topic, a known Protocol and an Endpoint (got ${protocol ?? '-'} ${endpoint ?? '-'})`);
    return;
  }
  ctx.subscriptions.push({ topicArn, protocol, endpoint, rawMessageDelivery: raw });
  // AWS Marketplace's subscription topic for a product is AWS's, not the app's: the local Marketplace publishes on it.
  if (marketplaceTopicProductCode(topicArn) && !ctx.topics.some((t) => t.arn === topicArn)) {
    ctx.topics.push({ arn: topicArn, name: topicArn.slice(topicArn.lastIndexOf(':') + 1), fifo: false });
  }
}

export const snsSubscriptionHandler: ResourceHandler = {
  type: 'AWS::SNS::Subscription',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      addSubscription(ctx, logicalId, this.type, str(p.TopicArn), str(p.Protocol), str(p.Endpoint), p.RawMessageDelivery === true || p.RawMessageDelivery === 'true');
    }
  },
};
