import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Duration, Fn, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IKeyProtectedApi } from '../api-contract';
import { KeygateError } from '../errors';
import { lazyUsagePlanIds, readUsagePlansStatement } from './api-tiers';
import { QUOTA_METRIC_DIMENSIONS, QUOTA_METRIC_NAMESPACE, QUOTA_METRICS } from '../shared/quota-metrics';
import { ScheduledJob, validateInterval } from './scheduled-job';

/** Options of `api.addQuotaWarnings(options)`. */
export interface QuotaWarningsOptions {
  /**
   * Percentages of a tier's quota at which a key's alarm fires, each above 0 and at most 100.
   * @default [80, 100]
   */
  readonly thresholds?: number[];

  /**
   * Time between runs of the job that publishes the metrics; also the alarms' period.
   * CloudWatch evaluates alarms on Metrics Insights queries over the last 3 hours only.
   * @default Duration.minutes(15)
   */
  readonly schedule?: Duration;

  /**
   * Topic the alarms notify. Each alarm watches every key and tier of the API as a separate
   * contributor, so a notification names the key (ApiKeyId) and the tier (UsagePlanId).
   * @default - the API's alert topic (`api.alertTopic`: KMS-encrypted with a key CloudWatch may use, TLS only)
   */
  readonly topic?: sns.ITopic;
}

/** Properties of QuotaWarnings. */
export interface QuotaWarningsProps extends QuotaWarningsOptions {
  /** The API whose tiers are watched (every tier with a quota, also tiers added later). */
  readonly api: IKeyProtectedApi;
}

/**
 * Warns before clients run out of quota: a scheduled job reads GetUsage for the current
 * quota period of each tier of the API and publishes, per key and tier, `QuotaUsed`,
 * `QuotaRemaining` and `QuotaUsedPercent` (namespace `Keygate/Quota`, dimensions ApiId,
 * UsagePlanId, ApiKeyId); an alarm per threshold (Metrics Insights, one contributor per key
 * and tier) notifies the topic.
 */
export class QuotaWarnings extends Construct {
  /** Where the alarms notify. */
  public readonly topic: sns.ITopic;
  /** The alarms, by threshold (percent). */
  public readonly alarms: { [thresholdPercent: string]: cloudwatch.Alarm } = {};
  /** The function the schedule runs (its Errors metric shows failed runs). */
  public readonly handler: lambda.IFunction;
  private readonly job: ScheduledJob;

  constructor(scope: Construct, id: string, props: QuotaWarningsProps) {
    super(scope, id);
    const thresholds = props.thresholds ?? [80, 100];
    if (thresholds.length === 0) throw KeygateError.of(this, 'thresholds', 'needs at least one threshold', thresholds);
    for (const threshold of thresholds) {
      if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 100)) {
        throw KeygateError.of(this, 'thresholds', 'each threshold is a percentage above 0 and at most 100', threshold);
      }
    }
    if (new Set(thresholds).size !== thresholds.length) throw KeygateError.of(this, 'thresholds', 'lists a threshold twice', thresholds);
    const every = props.schedule ?? Duration.minutes(15);
    validateInterval(this, 'schedule', every, Duration.minutes(1), Duration.hours(3));

    const apiId = props.api.restApi.restApiId;
    this.job = new ScheduledJob(this, 'Job', {
      handlerName: 'publish-quota-usage',
      description: 'keygate: publishes quota use per API key and tier',
      every,
      input: events.RuleTargetInput.fromObject({ apiId, usagePlanIds: lazyUsagePlanIds(props.api) }),
    });
    this.handler = this.job.handler;
    this.job.handler.addToRolePolicy(readUsagePlansStatement(props.api));
    this.job.handler.addToRolePolicy(new iam.PolicyStatement({
      // PutMetricData has no resource-level permissions; the condition keeps the job to its namespace.
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': QUOTA_METRIC_NAMESPACE } },
    }));
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:PutMetricData supports no resource-level permissions; a condition limits the job to the Keygate/Quota namespace.',
    });

    this.topic = props.topic ?? props.api.alertTopic;
    const schema = `SCHEMA("${QUOTA_METRIC_NAMESPACE}", ${QUOTA_METRIC_DIMENSIONS.join(', ')})`;
    for (const threshold of thresholds) {
      const alarm = new cloudwatch.Alarm(this, `Threshold${String(threshold).replace('.', '_')}`, {
        alarmDescription: `A key used ${threshold} % or more of its tier's quota (contributor: ApiKeyId, UsagePlanId)`,
        metric: new cloudwatch.MathExpression({
          // One contributor per key and tier; the 500 fullest are evaluated (Metrics Insights returns at most 500 series).
          expression: Fn.join('', [
            `SELECT MAX(${QUOTA_METRICS.usedPercent}) FROM ${schema} WHERE ApiId = '`, apiId,
            "' GROUP BY UsagePlanId, ApiKeyId ORDER BY MAX() DESC LIMIT 500",
          ]),
          usingMetrics: {},
          period: every,
          label: `${QUOTA_METRICS.usedPercent} per key and tier`,
        }),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // Between runs there is no data: keep the state rather than flap back to OK.
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      this.alarms[String(threshold)] = alarm;
    }
  }
}
