import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ArnFormat, Aspects, Duration, Fn, Lazy, Stack, Tags, Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { formatProblem, KeygateError } from '../errors';
import { keygateLogGroup } from '../common/function-logs';
import { bundledHandlerCode } from '../common/handler-code';
import { registryOf } from '../registry';
import { acknowledgeNag, LAMBDA_BASIC_EXECUTION_REASON, LAMBDA_BASIC_EXECUTION_ROLE, nagArn, nagRef } from '../common/nag';
import { SECRET_TAG_OVERLAP_SECONDS, SECRET_TAG_USAGE_PLANS } from '../shared/rotation-tags';
import type { IKeyProtectedApi } from '../api-contract';
import { ITier } from '../tier';

/** Options of a key rotation schedule. */
export interface KeyRotationOptions {
  /**
   * How long the predecessor keeps working after AWSCURRENT moved to the new key. Must be
   * shorter than the rotation period. Predecessors are retired by an hourly job, so a key
   * stops working within an hour after its overlap ends.
   * @default Duration.days(7)
   */
  readonly overlap?: Duration;

  /**
   * Topic notified when a rotation step or a retirement fails. The alarm is on the stack's
   * one rotation Lambda, so it notifies the topics of all rotating clients of the stack.
   * @default - the alert topic (`api.alertTopic`, KMS-encrypted, TLS only) of the API of the client's tiers
   */
  readonly topic?: sns.ITopic;
}

/**
 * A rotation schedule for a client whose key value lives in Secrets Manager:
 * `rotation: KeyRotation.every(Duration.days(90), { overlap: Duration.days(7) })`.
 */
export class KeyRotation {
  /** Rotate every `period`: whole hours or days, from 4 hours to 999 days (Secrets Manager's range). */
  public static every(period: Duration, options: KeyRotationOptions = {}): KeyRotation {
    return new KeyRotation(period, options.overlap ?? Duration.days(7), options.topic);
  }

  private constructor(
    /** Time between rotations. */
    public readonly period: Duration,
    /** How long a predecessor keeps working. */
    public readonly overlap: Duration,
    /** The topic given in the options, if one was. */
    public readonly topic?: sns.ITopic,
  ) {}

  /**
   * The topics this rotation's failures go to: its `topic`, else the alert topic of each of
   * `apis` (the APIs of the client's tiers keygate made). Throws naming `scope` when there is neither.
   * @internal
   */
  public _topics(scope: IConstruct, property: string, apis: IKeyProtectedApi[]): sns.ITopic[] {
    if (this.topic) return [this.topic];
    if (apis.length > 0) return [...new Set(apis)].map((api) => api.alertTopic);
    throw KeygateError.of(scope, `${property}.topic`, 'the client\'s tiers are all imported (Tier.fromUsagePlanId), so keygate knows no API whose alert topic to notify of failed rotations; pass KeyRotation.every(period, { topic })');
  }

  /** @internal Throws naming `scope` and `property` unless the period and overlap are usable. */
  public _validate(scope: IConstruct, property: string): void {
    validateRotationPeriod(scope, `${property}.period`, this.period);
    const period = this.period.toSeconds({ integral: false });
    const overlap = this.overlap.toSeconds({ integral: false });
    if (Token.isUnresolved(period) || Token.isUnresolved(overlap)) return;
    if (overlap >= period) {
      throw KeygateError.of(scope, `${property}.overlap`, `must be shorter than the rotation period (${this.period.toHumanString()}), or two rotations would overlap`, this.overlap.toHumanString());
    }
  }
}

/** Tag of a single client's rotating secret: the name of the stack whose rotation Lambda may rotate it. */
const SECRET_TAG_ROTATED_BY = 'keygate:rotated-by';

/** CloudWatch: at most 5 actions per alarm state. */
const MAX_ALARM_ACTIONS = 5;

/** Shortest and longest rotation period Secrets Manager schedules (`rate(4 hours)` … `rate(999 days)`). */
const MIN_ROTATION_PERIOD_HOURS = 4;
const MAX_ROTATION_PERIOD_DAYS = 999;

/**
 * Secrets Manager's `rate()` takes a whole number of hours or days, from 4 hours to 999 days
 * (Secrets Manager user guide, "Rate expressions"); CloudFormation only finds out at deploy.
 */
function validateRotationPeriod(scope: IConstruct, property: string, period: Duration): void {
  const seconds = period.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) return;
  if (!Number.isInteger(seconds)) {
    throw KeygateError.of(scope, property, 'must be a whole number of seconds, and then of hours', period.toHumanString());
  }
  if (seconds % 3600 !== 0) {
    throw KeygateError.of(scope, property, 'Secrets Manager schedules rotations in whole hours or days (rate(N hours), rate(N days)), not minutes or seconds', period.toHumanString());
  }
  if (seconds < MIN_ROTATION_PERIOD_HOURS * 3600 || seconds > MAX_ROTATION_PERIOD_DAYS * 86_400) {
    throw KeygateError.of(scope, property, `Secrets Manager rotates every ${MIN_ROTATION_PERIOD_HOURS} hours to ${MAX_ROTATION_PERIOD_DAYS} days`, period.toHumanString());
  }
}

/**
 * What a stack's rotating clients share: the rotation Lambda, the hourly rule that retires
 * predecessors whose overlap has ended, and an alarm on the Lambda's errors (a failed step or a
 * failed retirement) that notifies the alert topic of each API with rotating clients (or the
 * topic a rotation names).
 */
export class KeyRotationRunner extends Construct {
  /** The runner of `scope`'s stack, created on first use. */
  public static of(scope: IConstruct): KeyRotationRunner {
    const stack = Stack.of(scope);
    const id = 'KeygateKeyRotation';
    return (stack.node.tryFindChild(id) as KeyRotationRunner | undefined) ?? new KeyRotationRunner(stack, id);
  }

  /** The rotation Lambda (rotation steps and retirements). */
  public readonly function: lambda.Function;
  /** Notified when a rotation step or a retirement fails: the topics added with `notify`. */
  public readonly alarmTopics: sns.ITopic[] = [];
  /** Fires when the rotation Lambda fails. */
  public readonly alarm: cloudwatch.Alarm;
  private readonly secretArns: string[] = [];
  private readonly secretNamePrefixes: string[] = [];
  private readonly usagePlanIds = new Set<string>();
  private readonly scheduleTarget: lambda.IFunction;
  private readonly schedules: secretsmanager.RotationSchedule[] = [];

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: bundledHandlerCode('key-rotation'),
      timeout: Duration.minutes(5),
      memorySize: 256,
      description: 'keygate: rotates API keys kept in Secrets Manager and retires their predecessors',
      logGroup: keygateLogGroup(this, 'FunctionLogs'),
    });
    this.grantKeyAccess();
    acknowledgeNag(this, LAMBDA_BASIC_EXECUTION_ROLE, LAMBDA_BASIC_EXECUTION_REASON);
    // Schedules name the function through a reference without a role: aws-cdk's RotationSchedule
    // would add one statement per secret to the role, growing it past IAM's 10,240 characters.
    this.scheduleTarget = lambda.Function.fromFunctionAttributes(this, 'ScheduleTarget', {
      functionArn: this.function.functionArn, sameEnvironment: true, skipPermissions: true,
    });
    Aspects.of(this).add({ visit: (node) => { if (node === this) this.orderAfterUsagePlanKeys(); } });

    new events.Rule(this, 'RetireSchedule', {
      description: 'keygate: retires API keys whose rotation overlap has ended',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.function, {
        event: events.RuleTargetInput.fromObject({
          action: 'retire',
          secretIds: Lazy.list({ produce: () => this.secretArns }),
          // Only when a rotating client set exists: its secrets are created at deploy time and listed by name.
          secretNamePrefixes: Lazy.list({ produce: () => this.secretNamePrefixes }, { omitEmpty: true }),
        }),
      })],
    });

    this.alarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: 'keygate: a key rotation step or a retirement failed; the current keys keep working. See the rotation Lambda\'s logs.',
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.node.addValidation({ validate: () => this.alarmTopics.length > MAX_ALARM_ACTIONS
      ? [formatProblem(this, 'topics', `the rotation alarm would notify ${this.alarmTopics.length} topics, CloudWatch allows ${MAX_ALARM_ACTIONS} actions per alarm state; give the rotations of the stack's APIs a shared topic (KeyRotation.every(period, { topic }))`)]
      : [] });
  }

  /**
   * Keys are created at run time, so their ids (and ARNs) are unknown here; usage plans are
   * known: one ARN per plan (`keys*` covers CreateUsagePlanKey and GetUsagePlanKey), so the
   * policy grows with the stack's tiers, never with its clients.
   */
  private grantKeyAccess(): void {
    const stack = Stack.of(this);
    const arn = (path: string): string => `arn:${stack.partition}:apigateway:${stack.region}::${path}`;
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:PATCH', 'apigateway:DELETE', 'apigateway:PUT'],
      resources: [arn('/apikeys'), arn('/apikeys/*'), arn('/tags/*')],
    }));
    for (const path of ['/apikeys/*', '/tags/*']) {
      acknowledgeNag(this, `AwsSolutions-IAM5[Resource::${nagArn(this, 'apigateway', path)}]`,
        'The rotation Lambda creates, tags, disables and deletes keys whose ids exist only at run time (API Gateway\'s key ARNs allow no narrower scope); it changes only keys tagged with its own secret\'s ARN.');
    }
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['apigateway:GET', 'apigateway:POST'],
      resources: Lazy.list({ produce: () => [...this.usagePlanIds].map((id) => arn(`/usageplans/${id}/keys*`)) }),
    }));
  }

  /**
   * The rotation steps on the stack's rotating secrets, granted once for all of them: secrets
   * carry the tag `keygate:rotated-by` = the stack's name, so the policy never grows with clients.
   */
  private grantSecretAccess(): void {
    const stack = Stack.of(this);
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      resources: [stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      conditions: { StringEquals: { [`secretsmanager:ResourceTag/${SECRET_TAG_ROTATED_BY}`]: stack.stackName } },
    }));
    // GetRandomPassword has no resource-level permissions.
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }));
    acknowledgeNag(this, `AwsSolutions-IAM5[Resource::${nagArn(this, 'secretsmanager', 'secret:*', true)}]`,
      `The rotation steps are granted once for all of the stack's rotating secrets, on the condition that the secret carries the tag ${SECRET_TAG_ROTATED_BY} with this stack's name, so the role does not grow with clients.`);
    acknowledgeNag(this, 'AwsSolutions-IAM5[Resource::*]', 'secretsmanager:GetRandomPassword (and ListSecrets for client sets) have no resource-level permissions.');
    this.function.grantInvoke(new iam.ServicePrincipal('secretsmanager.amazonaws.com'));
  }

  /**
   * The first rotation of a schedule (RotateImmediatelyOnUpdate) calls CreateUsagePlanKey
   * during the deploy; API Gateway runs those one at a time per region, so each schedule
   * starts after the stack's last UsagePlanKey (the chain `associateKey` builds).
   */
  private orderAfterUsagePlanKeys(): void {
    const last = registryOf(this).lastUsagePlanKey.get(Stack.of(this));
    if (!last) return;
    for (const schedule of this.schedules) schedule.node.addDependency(last);
  }

  /** Lets the Lambda add keys to the plans `planIds` (and read them there). */
  private addPlans(planIds: string[]): void {
    for (const id of planIds) {
      if (this.usagePlanIds.has(id)) continue;
      this.usagePlanIds.add(id);
      acknowledgeNag(this, `AwsSolutions-IAM5[Resource::${nagArn(this, 'apigateway', `/usageplans/${nagRef(this, id)}/keys*`)}]`,
        'The rotation Lambda adds the keys it creates (ids known only at run time) to the rotating client\'s tier, and reads them there.');
    }
  }

  /** Adds `topic` to the topics the rotation alarm notifies (once). */
  public notify(topic: sns.ITopic): void {
    if (this.alarmTopics.includes(topic)) return;
    this.alarmTopics.push(topic);
    this.alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
  }

  /**
   * Puts `secret` on a rotation schedule run by this stack's rotation Lambda, its keys in
   * `tiers`, and on the hourly retire run.
   */
  public schedule(secret: secretsmanager.Secret, rotation: KeyRotation, tiers: ITier[]): secretsmanager.RotationSchedule {
    const planIds = tiers.map((tier) => tier.usagePlanId);
    this.addPlans(planIds);
    Tags.of(secret).add(SECRET_TAG_USAGE_PLANS, Fn.join(' ', planIds));
    Tags.of(secret).add(SECRET_TAG_OVERLAP_SECONDS, String(rotation.overlap.toSeconds()));
    Tags.of(secret).add(SECRET_TAG_ROTATED_BY, Stack.of(this).stackName);
    if (this.secretArns.length === 0) this.grantSecretAccess();
    this.secretArns.push(secret.secretArn);
    const schedule = secret.addRotationSchedule('RotationSchedule', {
      rotationLambda: this.scheduleTarget,
      automaticallyAfter: rotation.period,
      // The first rotation runs at deploy and creates the client's first key.
      rotateImmediatelyOnUpdate: true,
    });
    // The grants above stand in for the ones aws-cdk adds per schedule: they must exist before the first rotation.
    schedule.node.addDependency(this.function);
    this.schedules.push(schedule);
    return schedule;
  }

  /**
   * Lets this stack's rotation Lambda rotate the secrets a client set creates at deploy time
   * (names starting with `secretNamePrefix`, ARNs matching `secretArnPattern`), their keys in
   * `tiers`, and puts them on the hourly retire run (listed by name prefix). Secrets Manager
   * may invoke the Lambda, as `addRotationSchedule` allows it for the stack's own secrets.
   */
  public rotateClientSetSecrets(secretNamePrefix: string, secretArnPattern: string, tiers: ITier[]): void {
    this.addPlans(tiers.map((tier) => tier.usagePlanId));
    if (!this.secretNamePrefixes.includes(secretNamePrefix)) this.secretNamePrefixes.push(secretNamePrefix);
    this.function.grantInvoke(new iam.ServicePrincipal('secretsmanager.amazonaws.com'));
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      resources: [secretArnPattern],
    }));
    if (this.secretNamePrefixes.length === 1) {
      // ListSecrets (the retire run's listing) and GetRandomPassword have no resource-level permissions.
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:ListSecrets', 'secretsmanager:GetRandomPassword'], resources: ['*'] }));
    }
  }
}
