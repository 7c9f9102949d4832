import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Aws, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RejectionReason, StageAccessLogInsights, TopKeysBy } from './access-log-insights';
import type { IKeyProtectedApi } from '../api-contract';
import { KeygateError } from '../errors';
import { stableName } from './names';
import { QUOTA_METRIC_DIMENSIONS, QUOTA_METRIC_NAMESPACE, QUOTA_METRICS, QUOTA_WARNINGS_CONSTRUCT_ID } from '../shared/quota-metrics';
import { stageNameOf } from '../registry';

/** Options of a KeygateDashboard. */
export interface KeygateDashboardOptions {
  /**
   * Name of the dashboard.
   * @default - derived from the construct path, so it is stable across deploys
   */
  readonly dashboardName?: string;

  /**
   * Stages shown.
   * @default - every stage of the API
   */
  readonly stages?: apigw.Stage[];

  /**
   * Period of the graphs.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;

  /**
   * Number of keys in each top-keys widget (1 to 100).
   * @default 10
   */
  readonly topKeys?: number;
}

/** Properties of a KeygateDashboard. */
export interface KeygateDashboardProps extends KeygateDashboardOptions {
  /** The API shown. */
  readonly api: IKeyProtectedApi;
}

/**
 * One CloudWatch dashboard per API. For each stage: requests, 4XX and 5XX; latency p50, p90
 * and p99; rejections by reason (missing or invalid key, unknown route, authorizer,
 * throttled, quota exceeded) from metric filters on the access log; and the top keys by
 * requests, by 429 and by 403 from Contributor Insights rules. When the API has a
 * quota-warning job, a last row shows each key's quota used.
 */
export class KeygateDashboard extends Construct {
  /** The CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: KeygateDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    const topKeys = props.topKeys ?? 10;
    if (!Number.isInteger(topKeys) || topKeys < 1 || topKeys > 100) {
      throw KeygateError.of(this, 'topKeys', 'must be an integer from 1 to 100', topKeys);
    }
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName ?? stableName(this, 255),
      defaultInterval: Duration.hours(3),
    });
    for (const stage of props.stages ?? props.api.stages) {
      this.dashboard.addWidgets(...stageRows(props.api, stage, period, topKeys));
    }
    this.dashboard.addWidgets(new QuotaUsageWidget(props.api, period));
  }
}

function stageRows(api: IKeyProtectedApi, stage: apigw.Stage, period: Duration, topKeys: number): cloudwatch.IWidget[] {
  const name = stageNameOf(stage);
  const rows: cloudwatch.IWidget[] = [
    new cloudwatch.TextWidget({ markdown: `## Stage ${name}`, width: 24, height: 1 }),
    new cloudwatch.Row(
      new cloudwatch.GraphWidget({
        title: `${name}: requests, 4XX and 5XX`,
        left: [
          stage.metricCount({ period, statistic: cloudwatch.Stats.SUM, label: 'Requests' }),
          stage.metricClientError({ period, statistic: cloudwatch.Stats.SUM, label: '4XX' }),
          stage.metricServerError({ period, statistic: cloudwatch.Stats.SUM, label: '5XX' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: latency`,
        left: ['p50', 'p90', 'p99'].map((statistic) => stage.metricLatency({ period, statistic, label: statistic })),
        leftYAxis: { label: 'ms', showUnits: false },
        width: 12,
      }),
    ),
  ];
  const insights = api.accessLogInsights(stage);
  if (!insights) {
    rows.push(new cloudwatch.TextWidget({
      markdown: `Stage ${name} has no access log (accessLogging: false): no rejections by reason, no top keys.`, width: 24, height: 2,
    }));
    return rows;
  }
  const rejected = (reasons: RejectionReason[]) => reasons.map((reason) => insights.metricRejected(reason, { period }));
  rows.push(new cloudwatch.Row(
    new cloudwatch.GraphWidget({
      title: `${name}: 401/403 by reason`,
      left: rejected([RejectionReason.INVALID_API_KEY, RejectionReason.MISSING_AUTHENTICATION_TOKEN, RejectionReason.AUTHORIZER]),
      stacked: true,
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: `${name}: 429 by reason`,
      left: rejected([RejectionReason.THROTTLED, RejectionReason.QUOTA_EXCEEDED]),
      stacked: true,
      width: 12,
    }),
  ));
  rows.push(new cloudwatch.Row(...TopKeysBy.all().map((by) => new ContributorInsightsWidget(insights, by, `${name}: ${by.title.toLowerCase()}`, topKeys, period))));
  return rows;
}

/**
 * A graph of a Contributor Insights rule's top contributors. aws-cdk-lib has no widget for
 * it; the dashboard body's metric widget takes an `insightRule` object.
 */
class ContributorInsightsWidget extends cloudwatch.ConcreteWidget {
  constructor(
    private readonly insights: StageAccessLogInsights,
    private readonly by: TopKeysBy,
    private readonly title: string,
    private readonly maxContributorCount: number,
    private readonly period: Duration,
  ) {
    super(8, 6);
  }

  public toJson(): Record<string, unknown>[] {
    return [{
      type: 'metric',
      width: this.width,
      height: this.height,
      x: this.x,
      y: this.y,
      properties: {
        title: this.title,
        region: Aws.REGION,
        view: 'timeSeries',
        stacked: false,
        insightRule: {
          ruleName: this.insights.topKeysRule(this.by).ruleName,
          maxContributorCount: this.maxContributorCount,
          orderBy: 'Sum',
        },
        legend: { position: 'right' },
        period: this.period.toSeconds(),
      },
    }];
  }
}

/**
 * Each key's quota used (percent), from the quota-warning job's metrics. Rendered at synth
 * only when the API has that job, so the order of addDashboard and addQuotaWarnings calls
 * doesn't matter.
 */
class QuotaUsageWidget extends cloudwatch.ConcreteWidget {
  private readonly graph: cloudwatch.GraphWidget;

  constructor(private readonly api: IKeyProtectedApi, period: Duration) {
    super(24, 6);
    const dimensions = QUOTA_METRIC_DIMENSIONS.join(',');
    this.graph = new cloudwatch.GraphWidget({
      title: 'Quota used per key (%)',
      left: [new cloudwatch.MathExpression({
        expression: `SEARCH('{${QUOTA_METRIC_NAMESPACE},${dimensions}} MetricName="${QUOTA_METRICS.usedPercent}" ApiId="${api.restApi.restApiId}"', 'Maximum', ${Math.max(period.toSeconds(), 300)})`,
        usingMetrics: {},
        label: '', // no label: CloudWatch names each series the search finds by its dimensions
        period: Duration.seconds(Math.max(period.toSeconds(), 300)),
      })],
      leftYAxis: { min: 0, max: 100, showUnits: false, label: '%' },
      leftAnnotations: [{ value: 100, label: 'quota', color: cloudwatch.Color.RED }],
      width: 24,
      height: 6,
    });
  }

  public position(x: number, y: number): void {
    super.position(x, y);
    this.graph.position(x, y);
  }

  public toJson(): Record<string, unknown>[] {
    return this.api.node.tryFindChild(QUOTA_WARNINGS_CONSTRUCT_ID) ? this.graph.toJson() : [];
  }
}
