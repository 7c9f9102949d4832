import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Duration, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ACCESS_LOG_FIELDS } from './access-log';
import { stableName } from './names';

/** Namespace of the metrics that keygate's metric filters publish from access logs. */
export const ACCESS_LOG_METRIC_NAMESPACE = 'Keygate/AccessLog';

/**
 * Why API Gateway rejected a request, as its access log's `errorResponseType` says (the
 * gateway response type). Each reason is one metric filter per stage.
 */
export class RejectionReason {
  /** 403: no key, an unknown or disabled key, or a key in no plan of the stage. */
  public static readonly INVALID_API_KEY = new RejectionReason('InvalidApiKey', 'Missing or invalid API key', ['INVALID_API_KEY']);
  /** 403: a route or method the API doesn't have (or an unsigned IAM call). */
  public static readonly MISSING_AUTHENTICATION_TOKEN = new RejectionReason('MissingAuthenticationToken', 'Unknown route or method', ['MISSING_AUTHENTICATION_TOKEN']);
  /** 401/403/500: an authorizer denied the call, found no identity, or failed. */
  public static readonly AUTHORIZER = new RejectionReason('Authorizer', 'Denied or failed by the authorizer',
    ['ACCESS_DENIED', 'UNAUTHORIZED', 'AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR']);
  /** 429: the key's (or the stage's, or the account's) throttle. */
  public static readonly THROTTLED = new RejectionReason('Throttled', 'Throttled', ['THROTTLED']);
  /** 429: the key's quota for the period is used up. */
  public static readonly QUOTA_EXCEEDED = new RejectionReason('QuotaExceeded', 'Quota exceeded', ['QUOTA_EXCEEDED']);

  /** Every reason, in the order the dashboard shows them. */
  public static all(): RejectionReason[] {
    return [RejectionReason.INVALID_API_KEY, RejectionReason.MISSING_AUTHENTICATION_TOKEN, RejectionReason.AUTHORIZER,
      RejectionReason.THROTTLED, RejectionReason.QUOTA_EXCEEDED];
  }

  private constructor(
    /** Name of the metric (and of the filter's construct). */
    public readonly metricName: string,
    /** Label on the dashboard. */
    public readonly label: string,
    /** The gateway response types this reason covers. */
    public readonly responseTypes: string[],
  ) {}

  /** The metric filter pattern: the access-log line's errorResponseType is one of this reason's types. */
  public filterPattern(): logs.IFilterPattern {
    const field = `$.${ACCESS_LOG_FIELDS.errorResponseType}`;
    const patterns = this.responseTypes.map((type) => logs.FilterPattern.stringValue(field, '=', type));
    return patterns.length === 1 ? patterns[0] : logs.FilterPattern.any(...patterns);
  }
}

/** What a top-keys Contributor Insights rule ranks. */
export class TopKeysBy {
  /** Requests that carried a known API key. */
  public static readonly REQUESTS = new TopKeysBy('Requests', 'Top keys by requests',
    [ACCESS_LOG_FIELDS.apiKeyId], [{ Match: `$.${ACCESS_LOG_FIELDS.apiKeyId}`, NotIn: ['-'] }]);
  /** 429 responses (throttle and quota). */
  public static readonly TOO_MANY_REQUESTS = new TopKeysBy('TooManyRequests', 'Top keys by 429 (throttled or over quota)',
    [ACCESS_LOG_FIELDS.apiKeyId], [{ Match: `$.${ACCESS_LOG_FIELDS.status}`, In: ['429'] }]);
  /**
   * 403 responses. A missing or unknown key has no key id (`-`), so the source IP is a second
   * key: a caller guessing keys shows up by address.
   */
  public static readonly FORBIDDEN = new TopKeysBy('Forbidden', 'Top keys and source IPs by 403',
    [ACCESS_LOG_FIELDS.apiKeyId, ACCESS_LOG_FIELDS.ip], [{ Match: `$.${ACCESS_LOG_FIELDS.status}`, In: ['403'] }]);

  /** Every ranking, in the order the dashboard shows them. */
  public static all(): TopKeysBy[] {
    return [TopKeysBy.REQUESTS, TopKeysBy.TOO_MANY_REQUESTS, TopKeysBy.FORBIDDEN];
  }

  private constructor(
    /** Suffix of the rule's construct id. */
    public readonly id: string,
    /** Title of the dashboard widget. */
    public readonly title: string,
    /** Access-log fields that identify a contributor. */
    public readonly keys: string[],
    /** Contributor Insights filters on the access-log line. */
    public readonly filters: Array<{ [operator: string]: unknown }>,
  ) {}
}

/** Properties of a StageAccessLogInsights. */
export interface StageAccessLogInsightsProps {
  /** The stage whose access log is read. */
  readonly stage: apigw.Stage;
  /** Name of the stage as written in the app (`stage.stageName` is a token). */
  readonly stageName: string;
  /** The stage's access-log group, in keygate's JSON format. */
  readonly logGroup: logs.ILogGroup;
}

/**
 * What keygate reads from one stage's JSON access log: a metric filter per rejection reason
 * (dimensions ApiId and Stage, taken from the line) and Contributor Insights rules that rank
 * API keys. The dashboard and the alarms share them.
 */
export class StageAccessLogInsights extends Construct {
  /** The stage this reads. */
  public readonly stage: apigw.Stage;
  /** Name of the stage as written in the app. */
  public readonly stageName: string;
  private readonly rules = new Map<TopKeysBy, cloudwatch.CfnInsightRule>();

  constructor(scope: Construct, id: string, props: StageAccessLogInsightsProps) {
    super(scope, id);
    this.stage = props.stage;
    this.stageName = props.stageName;
    for (const reason of RejectionReason.all()) {
      new logs.MetricFilter(this, reason.metricName, {
        logGroup: props.logGroup,
        filterPattern: reason.filterPattern(),
        metricNamespace: ACCESS_LOG_METRIC_NAMESPACE,
        metricName: reason.metricName,
        metricValue: '1',
        dimensions: { ApiId: `$.${ACCESS_LOG_FIELDS.apiId}`, Stage: `$.${ACCESS_LOG_FIELDS.stage}` },
        unit: cloudwatch.Unit.COUNT,
      });
    }
    for (const by of TopKeysBy.all()) {
      const rule = new cloudwatch.CfnInsightRule(this, `TopKeysBy${by.id}`, {
        ruleName: 'placeholder',
        ruleState: 'ENABLED',
        ruleBody: Stack.of(this).toJsonString(insightRuleBody(props.logGroup.logGroupName, by)),
      });
      // A name derived from the construct path: stable across deploys, unique per stack.
      rule.ruleName = stableName(rule, 128);
      this.rules.set(by, rule);
    }
  }

  /** Requests rejected for `reason` on this stage, summed per period. */
  public metricRejected(reason: RejectionReason, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: ACCESS_LOG_METRIC_NAMESPACE,
      metricName: reason.metricName,
      dimensionsMap: { ApiId: this.stage.restApi.restApiId, Stage: this.stage.stageName },
      statistic: cloudwatch.Stats.SUM,
      label: reason.label,
      ...options,
    });
  }

  /** The Contributor Insights rule that ranks keys by `by`. */
  public topKeysRule(by: TopKeysBy): cloudwatch.CfnInsightRule {
    return this.rules.get(by)!;
  }

  /**
   * `INSIGHT_RULE_METRIC` of a top-keys rule: `UniqueContributors`, `MaxContributorValue`,
   * `SampleCount`, `Sum`….
   */
  public insightRuleMetric(by: TopKeysBy, metric: string, period: Duration, label?: string): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `INSIGHT_RULE_METRIC('${this.topKeysRule(by).ruleName}', '${metric}')`,
      usingMetrics: {},
      period,
      label,
    });
  }
}

/** The Contributor Insights rule body (schema CloudWatchLogRule v1) that ranks access-log lines by `by`. */
export function insightRuleBody(logGroupName: string, by: TopKeysBy): Record<string, unknown> {
  return {
    Schema: { Name: 'CloudWatchLogRule', Version: 1 },
    LogGroupNames: [logGroupName],
    LogFormat: 'JSON',
    Contribution: { Keys: by.keys.map((field) => `$.${field}`), Filters: by.filters },
    AggregateOn: 'Count',
  };
}
