import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CfnResource, Duration, Token, Validations } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { KeygateError } from '../errors';
import { keygateLogGroup } from '../common/function-logs';
import { acknowledgeNag, LAMBDA_BASIC_EXECUTION_REASON, LAMBDA_BASIC_EXECUTION_ROLE } from '../common/nag';
import { bundledHandlerCode } from '../common/handler-code';
import { LOCAL_EMULATION_METADATA } from '../shared/local-emulation';

/** What one of keygate's key-lifecycle jobs runs, and how often. */
export interface ScheduledJobProps {
  /** The handler's name in handlers.json. */
  readonly handlerName: string;
  readonly description: string;
  /** Time between runs. */
  readonly every: Duration;
  /** The event each run receives. */
  readonly input: events.RuleTargetInput;
  readonly environment?: { [name: string]: string };
  /** @default Duration.minutes(5) */
  readonly timeout?: Duration;
  /** A topic the job publishes to (it gets TOPIC_ARN and the right to publish). @default - none */
  readonly notifies?: sns.ITopic;
}

/**
 * A pre-bundled Lambda handler run on a schedule (an EventBridge rule). A failed run is
 * retried twice by EventBridge and shows in the function's Errors metric.
 */
export class ScheduledJob extends Construct {
  public readonly handler: lambda.Function;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    this.input = props.input;
    this.handler = new lambda.Function(this, 'Handler', {
      code: bundledHandlerCode(props.handlerName),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      memorySize: 256,
      timeout: props.timeout ?? Duration.minutes(5),
      description: props.description,
      logGroup: keygateLogGroup(this, 'HandlerLogs'),
      environment: props.notifies ? { ...props.environment, TOPIC_ARN: props.notifies.topicArn } : props.environment,
    });
    if (props.notifies) this.grantPublish(props.notifies);
    acknowledgeNag(this, LAMBDA_BASIC_EXECUTION_ROLE, LAMBDA_BASIC_EXECUTION_REASON);
    this.rule = new events.Rule(this, 'Schedule', {
      description: `Runs: ${props.description}`,
      schedule: events.Schedule.rate(props.every),
    });
    this.addTrigger(this.rule);
  }

  private readonly input: events.RuleTargetInput;

  /** Lets the job publish to `topic` (TOPIC_ARN in its environment), for a topic known only after construction. */
  public notify(topic: sns.ITopic): void {
    this.handler.addEnvironment('TOPIC_ARN', topic.topicArn);
    this.grantPublish(topic);
  }

  /** sns:Publish on `topic`, and use of its KMS key (aws-cdk's grant names `kms:GenerateDataKey*`). */
  private grantPublish(topic: sns.ITopic): void {
    topic.grantPublish(this.handler);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'aws-cdk\'s grantPublish on a KMS-encrypted topic: GenerateDataKey and GenerateDataKeyWithoutPlaintext on the topic\'s own key only, which publishing to it needs.',
    });
  }

  /** Runs the job also when `rule` matches (with the same input). */
  public addTrigger(rule: events.Rule): void {
    rule.addTarget(new targets.LambdaFunction(this.handler, { event: this.input, retryAttempts: 2 }));
  }
}

/** A schedule interval: whole minutes, from `min` to `max`. */
export function validateInterval(scope: IConstruct, property: string, every: Duration, min: Duration, max: Duration): void {
  const seconds = every.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) return;
  if (seconds % 60 !== 0 || seconds < min.toSeconds() || seconds > max.toSeconds()) {
    throw KeygateError.of(scope, property, `must be whole minutes from ${min.toHumanString()} to ${max.toHumanString()}`, every.toHumanString());
  }
}

/** Notes on every CloudFormation resource under `scope` how the local gateway stands in for it. */
export function markEmulatedLocally(scope: IConstruct, note: string): void {
  for (const child of scope.node.findAll()) {
    if (CfnResource.isCfnResource(child)) child.addMetadata(LOCAL_EMULATION_METADATA, note);
  }
}
