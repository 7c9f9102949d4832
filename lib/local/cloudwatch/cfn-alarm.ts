/**
 * AWS::CloudWatch::Alarm → an alarm of the local CloudWatch (alarms.ts evaluates it): a
 * statistic of one metric (Sum, Average, Maximum, Minimum, SampleCount), or Metrics[] with
 * MetricStat, metric math (metric-math.ts) and Metrics Insights queries (metrics-insights.ts).
 * Percentiles, anomaly-detection bands, Contributor Insights rules (INSIGHT_RULE_METRIC) and
 * cross-account metrics are listed as not evaluated (with the ignored resources: they watch the
 * APIs, they don't serve them).
 */
import { AlarmQuery, AlarmSeed, COMPARISONS, STATISTICS, TreatMissingData } from './alarms';
import { MathSyntaxError, parseMath } from './metric-math';
import { InsightsSyntaxError, isInsightsQuery, parseInsightsQuery } from './metrics-insights';
import { ResourceHandler } from '../cloudformation/context';
import { bool, num, obj, Obj, str } from '../cloudformation/values';

const TREATMENTS = new Set(['missing', 'notBreaching', 'breaching', 'ignore']);

/** Why an alarm can't be evaluated locally, thrown while reading it. */
class NotEmulated extends Error {}

export const alarmHandler: ResourceHandler = {
  type: 'AWS::CloudWatch::Alarm',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      try {
        const name = str(p.AlarmName) ?? ctx.ref(logicalId) ?? logicalId;
        ctx.alarms.push(alarmSeed(p, {
          stack: ctx.stackName, logicalId, name, arn: `arn:aws:cloudwatch:${ctx.model.region}:${ctx.model.accountId}:alarm:${name}`,
        }));
      } catch (e) {
        if (!(e instanceof NotEmulated)) throw e;
        // An alarm watches the APIs: one that can't be evaluated is listed, not an error of the app's serving.
        ctx.model.ignored.push({ stack: ctx.stackName, logicalId, type: this.type, reason: `alarm not evaluated locally: ${e.message}` });
      }
    }
  },
};

function alarmSeed(p: Obj, id: Pick<AlarmSeed, 'stack' | 'logicalId' | 'name' | 'arn'>): AlarmSeed {
  const comparison = str(p.ComparisonOperator) ?? '';
  if (!COMPARISONS[comparison]) throw new NotEmulated(`ComparisonOperator ${comparison || '(none)'} (anomaly detection bands are not emulated)`);
  const threshold = num(p.Threshold);
  if (threshold === undefined) throw new NotEmulated('no static Threshold');
  const evaluationPeriods = num(p.EvaluationPeriods) ?? 1;
  const treatMissingData = str(p.TreatMissingData) ?? 'missing';
  if (!TREATMENTS.has(treatMissingData)) throw new NotEmulated(`TreatMissingData ${treatMissingData}`);
  const queries = Array.isArray(p.Metrics) ? p.Metrics.map((m) => metricQuery(obj(m))) : [singleMetric(p)];
  if (queries.filter((q) => q.returnData).length !== 1) throw new NotEmulated('exactly one metric must return data');
  const returned = queries.find((q) => q.returnData) as AlarmQuery;
  const periodOf = (q: AlarmQuery): number | undefined => q.stat?.periodSec ?? q.expression?.periodSec;
  const periodSec = num(p.Period) ?? periodOf(returned) ?? queries.map(periodOf).find((x) => x !== undefined) ?? 60;
  if (returned.expression?.insights === undefined && queries.some((q) => q.expression?.insights)) throw new NotEmulated('a Metrics Insights query inside metric math');
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((a) => String(a)) : []);
  return {
    ...id, description: str(p.AlarmDescription), comparison, threshold, evaluationPeriods,
    datapointsToAlarm: num(p.DatapointsToAlarm) ?? evaluationPeriods, treatMissingData: treatMissingData as TreatMissingData, periodSec, queries,
    actionsEnabled: bool(p.ActionsEnabled, true), alarmActions: list(p.AlarmActions), okActions: list(p.OKActions), insufficientDataActions: list(p.InsufficientDataActions),
  };
}

function dimensions(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of Array.isArray(v) ? v.map(obj) : []) out[String(d.Name)] = String(d.Value);
  return out;
}

function statistic(stat: string | undefined): string {
  if (stat === undefined || !STATISTICS.has(stat)) throw new NotEmulated(`statistic ${stat ?? '(none)'} (Sum, Average, Maximum, Minimum and SampleCount are)`);
  return stat;
}

function singleMetric(p: Obj): AlarmQuery {
  if (p.ExtendedStatistic !== undefined) throw new NotEmulated(`extended statistic ${String(p.ExtendedStatistic)}`);
  const namespace = str(p.Namespace);
  const metricName = str(p.MetricName);
  if (!namespace || !metricName) throw new NotEmulated('no MetricName and Namespace, nor Metrics');
  return { id: 'm1', returnData: true, stat: { namespace, metricName, dimensions: dimensions(p.Dimensions), stat: statistic(str(p.Statistic)), periodSec: num(p.Period) ?? 60 } };
}

function metricQuery(m: Obj): AlarmQuery {
  const id = str(m.Id) ?? '';
  const base = { id, returnData: bool(m.ReturnData, true), label: str(m.Label) };
  if (m.AccountId !== undefined) throw new NotEmulated(`metric ${id} of another account`);
  if (m.MetricStat !== undefined) {
    const ms = obj(m.MetricStat);
    const metric = obj(ms.Metric);
    return {
      ...base,
      stat: { namespace: str(metric.Namespace) ?? '', metricName: str(metric.MetricName) ?? '', dimensions: dimensions(metric.Dimensions), stat: statistic(str(ms.Stat)), periodSec: num(ms.Period) ?? 60 },
    };
  }
  const text = str(m.Expression);
  if (text === undefined) throw new NotEmulated(`metric ${id} has neither MetricStat nor Expression`);
  try {
    const expression = isInsightsQuery(text) ? { text, insights: parseInsightsQuery(text), periodSec: num(m.Period) } : { text, math: parseMath(text), periodSec: num(m.Period) };
    return { ...base, expression };
  } catch (e) {
    if (e instanceof MathSyntaxError || e instanceof InsightsSyntaxError) throw new NotEmulated(`metric ${id}: ${e.message}`);
    throw e;
  }
}
