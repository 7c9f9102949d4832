import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Properties of a KeygateAlertTopic. */
export interface KeygateAlertTopicProps {
  /**
   * Display name of the topic (the sender name of e-mail notifications).
   * @default 'keygate alerts'
   */
  readonly displayName?: string;
}

/**
 * The SNS topic that keygate's alarms and audit trail notify. It is encrypted with a
 * customer-managed KMS key (rotated yearly) that CloudWatch and EventBridge may use, since
 * the AWS-managed SNS key can't be used by them, and it accepts TLS requests only.
 */
export class KeygateAlertTopic extends Construct {
  /** The topic. */
  public readonly topic: sns.Topic;
  /** The key that encrypts the topic's messages at rest. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: KeygateAlertTopicProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'keygate: encrypts the alert topic',
      enableKeyRotation: true,
    });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      // Publishing to an encrypted topic needs the publisher to use the key.
      this.key.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName ?? 'keygate alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
  }
}
