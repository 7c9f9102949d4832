/** AWS::SNS::Topic → a topic of the local SNS slice (the app's jobs and alarms publish to it), with its `Subscription` entries. */
import { TopicSeed } from './service';
import { addSubscription } from './cfn-subscription';
import { ResourceHandler } from '../cloudformation/context';
import { obj, str } from '../cloudformation/values';

export const snsTopicHandler: ResourceHandler = {
  type: 'AWS::SNS::Topic',
  build(ctx, resources) {
    for (const { logicalId, props } of resources) {
      const arn = ctx.ref(logicalId);
      if (!arn) continue;
      const topic: TopicSeed = { arn, name: arn.slice(arn.lastIndexOf(':') + 1), fifo: props.FifoTopic === true || props.FifoTopic === 'true' };
      ctx.topics.push(topic);
      for (const s of Array.isArray(props.Subscription) ? props.Subscription.map(obj) : []) addSubscription(ctx, logicalId, this.type, arn, str(s.Protocol), str(s.Endpoint));
    }
  },
};
