/** AWS::SNS::Topic → a topic of the local SNS slice (the app's jobs publish to it; nothing is delivered). */
import { TopicSeed } from './service';
import { ResourceHandler } from '../cloudformation/context';

export const snsTopicHandler: ResourceHandler = {
  type: 'AWS::SNS::Topic',
  build(ctx, resources) {
    for (const { logicalId, props } of resources) {
      const arn = ctx.ref(logicalId);
      if (!arn) continue;
      const topic: TopicSeed = { arn, name: arn.slice(arn.lastIndexOf(':') + 1), fifo: props.FifoTopic === true || props.FifoTopic === 'true' };
      ctx.topics.push(topic);
    }
  },
};
