import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** API Gateway calls that create, change or delete keys and their plan associations. */
export const AUDITED_KEY_CHANGES = [
  'CreateApiKey', 'UpdateApiKey', 'DeleteApiKey', 'ImportApiKeys', 'CreateUsagePlanKey', 'DeleteUsagePlanKey',
];

/** Options of a KeygateAuditTrail. */
export interface KeygateAuditTrailOptions {
  /**
   * Topic notified of each audited call.
   * @default - with addAuditTrail, the API's alertTopic; with the constructor, none
   */
  readonly topic?: sns.ITopic;

  /**
   * How long the audit log keeps its entries.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly retention?: logs.RetentionDays;

  /**
   * What happens to the audit log when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An EventBridge rule on CloudTrail's record of API Gateway key management: keys created,
 * changed, imported or deleted, keys added to or removed from usage plans, and key values
 * revealed (GetApiKey with includeValue, GetApiKeys with includeValues). Each call is written
 * to a log group and sent to an SNS topic.
 *
 * Keys are account-wide, so one audit trail per account and region is enough. It fires only
 * where a CloudTrail trail logs management events (read and write) in the region; the rule
 * itself receives read-only events (GetApiKey) because its state is
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS. Notifications carry the call, the caller and
 * the ids, never request or response bodies, which could hold a key value.
 */
export class KeygateAuditTrail extends Construct {
  /**
   * The event pattern: management calls on API Gateway keys and usage-plan keys, and reads
   * that asked for the key value.
   */
  public static eventPattern(): events.EventPattern {
    const asked = [true, 'true'];
    return {
      source: ['aws.apigateway'],
      detailType: ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['apigateway.amazonaws.com'],
        $or: [
          { eventName: AUDITED_KEY_CHANGES },
          { eventName: ['GetApiKey'], requestParameters: { includeValue: asked } },
          { eventName: ['GetApiKeys'], requestParameters: { includeValues: asked } },
        ],
      },
    };
  }

  /** The EventBridge rule. */
  public readonly rule: events.Rule;
  /** The log group that keeps the audited calls. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: KeygateAuditTrailOptions = {}) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Log', {
      retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.rule = new events.Rule(this, 'Rule', {
      description: 'keygate: API Gateway keys created, changed, deleted or revealed (CloudTrail)',
      eventPattern: KeygateAuditTrail.eventPattern(),
    });
    // GetApiKey and GetApiKeys are read-only management events: a rule receives them only in this state.
    (this.rule.node.defaultChild as events.CfnRule).state = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

    const summary = auditSummary();
    this.rule.addTarget(new AuditLogTarget(this.logGroup, summary));
    if (props.topic) this.rule.addTarget(new targets.SnsTopic(props.topic, { message: events.RuleTargetInput.fromText(summary) }));
  }
}

/** One line per audited call: what, on which key or plan, by whom, from where, and whether it failed. */
function auditSummary(): string {
  const field = (path: string) => events.EventField.fromPath(path);
  return [
    `keygate audit: ${field('$.detail.eventName')}`,
    `apiKey=${field('$.detail.requestParameters.apiKey')}`,
    `keyId=${field('$.detail.requestParameters.keyId')}`,
    `usagePlanId=${field('$.detail.requestParameters.usagePlanId')}`,
    `createdKeyId=${field('$.detail.responseElements.id')}`,
    `by=${field('$.detail.userIdentity.arn')}`,
    `from=${field('$.detail.sourceIPAddress')}`,
    `region=${field('$.detail.awsRegion')}`,
    `error=${field('$.detail.errorCode')}`,
    `eventId=${field('$.detail.eventID')}`,
  ].join(' ');
}

/**
 * Delivers to a CloudWatch Logs group. aws-cdk-lib's CloudWatchLogGroup target writes the
 * log group's resource policy through a Lambda-backed custom resource; CloudFormation's
 * AWS::Logs::ResourcePolicy does the same without a function to run and secure.
 */
class AuditLogTarget implements events.IRuleTarget {
  constructor(private readonly logGroup: logs.LogGroup, private readonly message: string) {}

  public bind(rule: events.IRule): events.RuleTargetConfig {
    const stack = Stack.of(this.logGroup);
    this.logGroup.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
      resources: [this.logGroup.logGroupArn],
      conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
    }));
    return {
      arn: stack.formatArn({ service: 'logs', resource: 'log-group', arnFormat: ArnFormat.COLON_RESOURCE_NAME, resourceName: this.logGroup.logGroupName }),
      // CloudWatch Logs targets take exactly { timestamp, message }.
      input: events.RuleTargetInput.fromObject({ timestamp: events.EventField.time, message: this.message }),
      targetResource: this.logGroup,
    };
  }
}
