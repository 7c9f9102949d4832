import * as s3 from 'aws-cdk-lib/aws-s3';
import { CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LOCAL_EMULATION_METADATA } from '../shared/local-emulation';

/** What one of the usage export's buckets keeps, and for how long. */
export interface SecureBucketProps {
  /** Objects expire this long after they were written. */
  readonly expireAfter: Duration;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A bucket of the usage export: S3-managed encryption, public access blocked, TLS-only bucket
 * policy, owner-enforced object ownership, a lifecycle rule that expires objects and aborts
 * incomplete uploads.
 */
export function secureBucket(scope: Construct, id: string, props: SecureBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: props.removalPolicy,
    lifecycleRules: [{ id: 'expire', expiration: props.expireAfter, abortIncompleteMultipartUploadAfter: Duration.days(7) }],
  });
  (bucket.policy?.node.defaultChild as CfnResource | undefined)?.addMetadata(LOCAL_EMULATION_METADATA, 'TLS only: the local S3 serves plain HTTP on 127.0.0.1 and accepts only signed loopback requests');
  return bucket;
}
