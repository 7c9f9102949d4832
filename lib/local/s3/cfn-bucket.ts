/** AWS::S3::Bucket → a bucket of the local S3 slice (its Ref, the bucket name, as the template's other resources see it). */
import { ResourceHandler } from '../cloudformation/context';

export const s3BucketHandler: ResourceHandler = {
  type: 'AWS::S3::Bucket',
  build(ctx, resources) {
    for (const { logicalId } of resources) {
      const name = ctx.ref(logicalId);
      if (name) ctx.buckets.push(name);
    }
  },
};
