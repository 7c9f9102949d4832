import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RejectionReason, TopKeysBy } from './access-log-insights';
import type { IKeyProtectedApi } from '../api-contract';
import { KeygateError } from '../errors';
import { pascal, stableName } from './names';
import { stageNameOf } from '../registry';

/** How an alarm judges its percentage. */
export interface AlarmThresholdOptions {
  /**
   * Length of one evaluated period.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;

  /**
   * Number of recent periods evaluated.
   * @default 3
   */
  readonly evaluationPeriods?: number;

  /**
   * Number of those periods that must breach.
   * @default 2
   */
  readonly datapointsToAlarm?: number;

  /**
   * Fewest requests in a period for its percentage to count: below it, the period doesn't
   * breach (one failed request out of two is no outage).
   * @default 20 (100 for dominantKeyShare)
   */
  readonly minimumRequests?: number;
}

/** Threshold of one keygate alarm, or `AlarmThreshold.off()` to leave that alarm out. */
export class AlarmThreshold {
  /** Alarm when the percentage reaches `percent` (0–100). */
  public static percent(percent: number, options: AlarmThresholdOptions = {}): AlarmThreshold {
    return new AlarmThreshold(percent, options);
  }

  /** No alarm. */
  public static off(): AlarmThreshold {
    return new AlarmThreshold(undefined, {});
  }

  private constructor(
    /** The percentage; undefined when the alarm is off. */
    public readonly percentage: number | undefined,
    /** How the percentage is judged. */
    public readonly options: AlarmThresholdOptions,
  ) {}
}

/** Options of KeygateAlarms. */
export interface KeygateAlarmsOptions {
  /**
   * Where every alarm (and its return to OK) is sent.
   * @default - the API's alertTopic
   */
  readonly topic?: sns.ITopic;

  /**
   * Stages with alarms.
   * @default - every stage of the API
   */
  readonly stages?: apigw.Stage[];

  /**
   * 5XX responses as a percentage of requests, per stage.
   * @default AlarmThreshold.percent(5)
   */
  readonly serverErrorRate?: AlarmThreshold;

  /**
   * 429 responses (throttled or over quota) as a percentage of requests, per stage. Needs the
   * stage's access log.
   * @default AlarmThreshold.percent(10)
   */
  readonly tooManyRequestsRate?: AlarmThreshold;

  /**
   * The busiest key's share of the requests that carry a key, per stage, while at least two
   * keys call: one client suddenly carrying most of the traffic. Needs the stage's access log.
   * @default AlarmThreshold.percent(80, { minimumRequests: 100 })
   */
  readonly dominantKeyShare?: AlarmThreshold;
}

/** Properties of KeygateAlarms. */
export interface KeygateAlarmsProps extends KeygateAlarmsOptions {
  /** The API watched. */
  readonly api: IKeyProtectedApi;
}

/** Which alarm, for ids and descriptions. */
interface AlarmKind {
  readonly id: string;
  readonly threshold: AlarmThreshold;
  readonly defaultMinimumRequests: number;
  readonly describe: (stage: string, percent: number) => string;
  /** The percentage per period, or undefined when the stage lacks what it needs. */
  readonly expression: (stage: apigw.Stage, period: Duration, minimumRequests: number) => cloudwatch.MathExpression | undefined;
}

/**
 * keygate's alarms on an API, per stage: the 5XX rate, the 429 rate and one key carrying
 * most of the traffic. Each alarm has a name derived from its construct path (stable across
 * deploys) and notifies one SNS topic when it fires and when it clears.
 */
export class KeygateAlarms extends Construct {
  /** Every alarm created, by construct id (e.g. `ProdServerErrorRate`). */
  public readonly alarms: { [id: string]: cloudwatch.Alarm } = {};

  constructor(scope: Construct, id: string, props: KeygateAlarmsProps) {
    super(scope, id);
    const api = props.api;
    const topic = props.topic ?? api.alertTopic;
    const kinds: AlarmKind[] = [
      {
        id: 'ServerErrorRate',
        threshold: props.serverErrorRate ?? AlarmThreshold.percent(5),
        defaultMinimumRequests: 20,
        describe: (stage, percent) => `keygate: 5XX responses are ${percent}% or more of the requests on stage ${stage}`,
        expression: (stage, period, minimumRequests) => percentOfRequests(
          { errors: stage.metricServerError({ period, statistic: cloudwatch.Stats.SUM }) }, 'FILL(errors, 0)',
          stage.metricCount({ period, statistic: cloudwatch.Stats.SUM }), period, minimumRequests),
      },
      {
        id: 'TooManyRequestsRate',
        threshold: props.tooManyRequestsRate ?? AlarmThreshold.percent(10),
        defaultMinimumRequests: 20,
        describe: (stage, percent) => `keygate: 429 responses (throttled or over quota) are ${percent}% or more of the requests on stage ${stage}`,
        expression: (stage, period, minimumRequests) => {
          const insights = api.accessLogInsights(stage);
          if (!insights) return undefined;
          return percentOfRequests({
            throttled: insights.metricRejected(RejectionReason.THROTTLED, { period }),
            overQuota: insights.metricRejected(RejectionReason.QUOTA_EXCEEDED, { period }),
          }, 'FILL(throttled, 0) + FILL(overQuota, 0)', stage.metricCount({ period, statistic: cloudwatch.Stats.SUM }), period, minimumRequests);
        },
      },
      {
        id: 'DominantKeyShare',
        threshold: props.dominantKeyShare ?? AlarmThreshold.percent(80),
        defaultMinimumRequests: 100,
        describe: (stage, percent) => `keygate: one API key carries ${percent}% or more of the keyed requests on stage ${stage}`,
        expression: (stage, period, minimumRequests) => {
          const insights = api.accessLogInsights(stage);
          if (!insights) return undefined;
          const metric = (name: string) => insights.insightRuleMetric(TopKeysBy.REQUESTS, name, period);
          return new cloudwatch.MathExpression({
            expression: `IF(keys >= 2, IF(keyed >= ${minimumRequests}, 100 * busiest / keyed, 0), 0)`,
            usingMetrics: { busiest: metric('MaxContributorValue'), keyed: metric('SampleCount'), keys: metric('UniqueContributors') },
            period,
            label: 'Busiest key share (%)',
          });
        },
      },
    ];

    for (const stage of props.stages ?? api.stages) {
      const stageName = stageNameOf(stage);
      for (const kind of kinds) {
        const percent = kind.threshold.percentage;
        if (percent === undefined) continue;
        const options = kind.threshold.options;
        validateThreshold(this, kind.id, percent, options);
        const period = options.period ?? Duration.minutes(5);
        const expression = kind.expression(stage, period, options.minimumRequests ?? kind.defaultMinimumRequests);
        if (!expression) continue; // No access log on this stage: nothing to count from.
        const alarmScope = new Construct(this, `${pascal(stageName)}${kind.id}`);
        const alarm = new cloudwatch.Alarm(alarmScope, 'Alarm', {
          metric: expression,
          threshold: percent,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: options.evaluationPeriods ?? 3,
          datapointsToAlarm: options.datapointsToAlarm ?? 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmName: stableName(alarmScope, 255),
          alarmDescription: kind.describe(stageName, percent),
        });
        if (kind.id === 'DominantKeyShare') {
          // The alarm reads the rule's metrics: it must exist first.
          alarm.node.addDependency(api.accessLogInsights(stage)!.topKeysRule(TopKeysBy.REQUESTS));
        }
        alarm.addAlarmAction(new actions.SnsAction(topic));
        alarm.addOkAction(new actions.SnsAction(topic));
        this.alarms[alarmScope.node.id] = alarm;
      }
    }
  }
}

function percentOfRequests(
  counted: Record<string, cloudwatch.IMetric>, sum: string, requests: cloudwatch.IMetric, period: Duration, minimumRequests: number,
): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `IF(requests >= ${minimumRequests}, 100 * (${sum}) / requests, 0)`,
    usingMetrics: { ...counted, requests },
    period,
    label: 'Percent of requests',
  });
}

function validateThreshold(scope: Construct, property: string, percent: number, options: AlarmThresholdOptions): void {
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
    throw KeygateError.of(scope, property, 'the percentage must be above 0 and at most 100', percent);
  }
  const evaluationPeriods = options.evaluationPeriods ?? 3;
  const datapoints = options.datapointsToAlarm ?? 2;
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
    throw KeygateError.of(scope, `${property}.evaluationPeriods`, 'must be a positive integer', evaluationPeriods);
  }
  if (!Number.isInteger(datapoints) || datapoints < 1 || datapoints > evaluationPeriods) {
    throw KeygateError.of(scope, `${property}.datapointsToAlarm`, `must be an integer from 1 to evaluationPeriods (${evaluationPeriods})`, datapoints);
  }
  if (options.minimumRequests !== undefined && (!Number.isInteger(options.minimumRequests) || options.minimumRequests < 0)) {
    throw KeygateError.of(scope, `${property}.minimumRequests`, 'must be a non-negative integer', options.minimumRequests);
  }
}
