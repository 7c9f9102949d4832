/**
 * The gateway's monitoring, wired: the data plane's requests become API Gateway's metrics
 * (AWS/ApiGateway Count, 4XXError, 5XXError, Latency by ApiName and by ApiName and Stage), the
 * stages' access-log lines go through the app's metric filters, the invocations of the app's
 * functions by its schedules, rotations and subscriptions count as AWS/Lambda Invocations and
 * Errors (by FunctionName), and the app's alarms evaluate
 * what the local CloudWatch holds and publish to the local SNS.
 */
import { RequestRecord } from '../apigateway/data-plane';
import { Model } from '../apigateway/model';
import { AlarmEvaluator, AlarmSeed } from '../cloudwatch/alarms';
import { LocalCloudWatch } from '../cloudwatch/service';
import { LocalAwsInvoker } from '../lambda/aws-invoker';
import { MetricFilters, MetricFilterSeed } from '../logs/metric-filters';
import { InsightRules, InsightRuleSeed } from '../logs/insight-rules';
import { LocalSns } from '../sns/service';

export interface Monitoring {
  readonly alarms: AlarmEvaluator;
  /** For the data plane: one access-log line of a stage whose log group has metric filters. */
  readonly logEvent: (logGroup: string, line: string, time: number) => void;
  /** For the data plane: API Gateway's metrics of one request. */
  readonly onRequest: (record: RequestRecord) => void;
}

export function setUpMonitoring(model: Model, cloudwatch: LocalCloudWatch, sns: LocalSns, seeds: { alarms: AlarmSeed[]; metricFilters: MetricFilterSeed[]; insightRules: InsightRuleSeed[] }, opts: { clock: () => number; log: (line: string) => void }): Monitoring {
  const filters = new MetricFilters(seeds.metricFilters, (p) => cloudwatch.record(p));
  const rules = new InsightRules(seeds.insightRules);
  const alarms = new AlarmEvaluator(seeds.alarms, {
    clock: opts.clock, log: opts.log, region: model.region, accountId: model.accountId,
    points: () => cloudwatch.allDataPoints(),
    publish: (arn, subject, message, byProtocol) => sns.publishFromService(arn, subject, message, byProtocol),
    insight: (rule, metric, from, to) => rules.metric(rule, metric, from, to),
  });
  cloudwatch.alarms = alarms;
  return {
    alarms,
    logEvent: (group, line, time) => { filters.apply(group, line, time); rules.apply(group, line, time); },
    onRequest: (r) => {
      const apiName = model.apis.get(r.apiId)?.name;
      if (apiName === undefined) return;
      for (const dimensions of [{ ApiName: apiName }, { ApiName: apiName, Stage: r.stage }] as Record<string, string>[]) {
        const put = (metricName: string, value: number, unit = 'Count'): void => cloudwatch.record({ namespace: 'AWS/ApiGateway', metricName, dimensions, value, unit, timestamp: r.time });
        put('Count', 1);
        put('4XXError', r.status >= 400 && r.status < 500 ? 1 : 0);
        put('5XXError', r.status >= 500 ? 1 : 0);
        put('Latency', r.latencyMs, 'Milliseconds');
      }
    },
  };
}

/** An invoker that counts AWS/Lambda Invocations and Errors (what keygate's rotation alarm watches). */
export function withLambdaMetrics(invoke: LocalAwsInvoker, cloudwatch: LocalCloudWatch, clock: () => number): LocalAwsInvoker {
  return async (arn, event) => {
    const dimensions = { FunctionName: arn.slice(arn.lastIndexOf(':') + 1) };
    const put = (metricName: string, value: number): void => cloudwatch.record({ namespace: 'AWS/Lambda', metricName, dimensions, value, unit: 'Count', timestamp: clock() });
    put('Invocations', 1);
    try {
      const result = await invoke(arn, event);
      put('Errors', 0);
      return result;
    } catch (e) {
      put('Errors', 1);
      throw e;
    }
  };
}
