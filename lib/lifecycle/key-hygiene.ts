import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IKeyProtectedApi } from '../api-contract';
import { KeygateError } from '../errors';
import { acknowledgeNag, nagArn } from '../common/nag';
import { lazyUsagePlanIds, readUsagePlansStatement } from './api-tiers';
import { ScheduledJob, validateInterval } from './scheduled-job';

/** Options of `api.addKeyHygiene(options)`. */
export interface KeyHygieneOptions {
  /** Disable a key of the API's tiers that had no requests for this long (whole days). */
  readonly disableUnusedAfter: Duration;

  /**
   * Also disable unused keys that a CloudFormation stack (such as this app's clients) or a
   * keygate client set manages. Their next deploy may enable them again.
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
    const seconds = props.disableUnusedAfter.toSeconds({ integral: false });
    if (Token.isUnresolved(seconds) || seconds % 86_400 !== 0 || seconds < 86_400) {
      throw KeygateError.of(this, 'disableUnusedAfter', 'must be a whole number of days, at least 1', props.disableUnusedAfter.toHumanString());
    }
    const every = props.schedule ?? Duration.days(1);
    validateInterval(this, 'schedule', every, Duration.hours(1), Duration.days(7));

    this.topic = props.topic ?? props.api.alertTopic;
    this.job = new ScheduledJob(this, 'Job', {
      handlerName: 'disable-unused-keys',
      description: 'keygate: disables unused API keys',
      every,
      input: events.RuleTargetInput.fromObject({
        usagePlanIds: lazyUsagePlanIds(props.api),
        days: seconds / 86_400,
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
