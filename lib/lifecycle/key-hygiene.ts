import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IKeyProtectedApi } from '../api-contract';
import { acknowledgeNag, nagArn } from '../common/nag';
import { lazyUsagePlanIds, readUsagePlansStatement } from './api-tiers';
import { unusedWindowDays } from './durations';
import { ScheduledJob, validateInterval } from './scheduled-job';

/** Options of `api.addKeyHygiene(options)`. */
export interface KeyHygieneOptions {
  /** Disable a key of the API's tiers that had no requests for this long (whole days). */
  readonly disableUnusedAfter: Duration;

  /**
   * Also disable unused keys that a CloudFormation stack (such as this app's clients) or a
   * keygate client set manages. Their next deploy may enable them again. Keys that a secret's
   * rotation schedule or a developer portal owns are left alone either way: a portal applies
   * its own `disableUnusedAfter` to its keys and tells the consumer why.
   * @default false - only keys made outside infrastructure as code (ops CLI, console)
   */
  readonly includeStackManagedKeys?: boolean;

  /**
   * Time between runs.
   * @default Duration.days(1)
   */
  readonly schedule?: Duration;

  /**
   * Topic told about each key the job disables.
   * @default - the API's alert topic (`api.alertTopic`: KMS-encrypted, TLS only)
   */
  readonly topic?: sns.ITopic;
}

/** Properties of KeyHygiene. */
export interface KeyHygieneProps extends KeyHygieneOptions {
  /** The API whose tiers' keys are looked at. */
  readonly api: IKeyProtectedApi;
}

/**
 * Disables unused keys on a schedule: keys of the API's tiers with no request (GetUsage
 * across all their plans) in `disableUnusedAfter`, and that are older than that. Disabled,
 * never deleted; the owner hears of each on the topic.
 */
export class KeyHygiene extends Construct {
  /** Where the owner hears about disabled keys. */
  public readonly topic: sns.ITopic;
  /** The function the schedule runs (its Errors metric shows failed runs). */
  public readonly handler: lambda.IFunction;
  private readonly job: ScheduledJob;

  constructor(scope: Construct, id: string, props: KeyHygieneProps) {
    super(scope, id);
    const days = unusedWindowDays(this, 'disableUnusedAfter', props.disableUnusedAfter);
    const every = props.schedule ?? Duration.days(1);
    validateInterval(this, 'schedule', every, Duration.hours(1), Duration.days(7));

    this.topic = props.topic ?? props.api.alertTopic;
    this.job = new ScheduledJob(this, 'Job', {
      handlerName: 'disable-unused-keys',
      description: 'keygate: disables unused API keys',
      every,
      input: events.RuleTargetInput.fromObject({
        usagePlanIds: lazyUsagePlanIds(props.api),
        days,
        includeManagedKeys: props.includeStackManagedKeys ?? false,
      }),
      notifies: this.topic,
    });
    this.handler = this.job.handler;
    const stack = Stack.of(this);
    const keysArn = (resourceName?: string) => stack.formatArn({ service: 'apigateway', account: '', resource: '/apikeys', arnFormat: ArnFormat.SLASH_RESOURCE_NAME, resourceName });
    this.job.handler.addToRolePolicy(readUsagePlansStatement(props.api));
    this.job.handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['apigateway:GET'],
      resources: [stack.formatArn({ service: 'apigateway', account: '', resource: '/apikeys', arnFormat: ArnFormat.NO_RESOURCE_NAME })],
    }));
    // Any key of the tiers may turn out unused, also keys made outside this app.
    this.job.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['apigateway:PATCH'], resources: [keysArn('*')] }));
    acknowledgeNag(this, `AwsSolutions-IAM5[Resource::${nagArn(this, 'apigateway', '/apikeys/*')}]`,
      'The job disables whichever key of the tiers turns out unused, including keys created outside this app (ops CLI, console), so their ids are unknown at synth.');
  }
}
