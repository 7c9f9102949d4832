/**
 * The app's CloudWatch metric alarms, evaluated on the gateway's clock over the data points the
 * local CloudWatch holds (PutMetricData, the access logs' metric filters, the API Gateway
 * metrics of the data plane). Each evaluation reads the alarm's last EvaluationPeriods periods
 * (sliding, ending now), computes each period's value (a statistic of one metric, metric math,
 * or a Metrics Insights query with one series per contributor), and sets the state as CloudWatch
 * does: ALARM when DatapointsToAlarm of them breach; with every data point missing, by
 * TreatMissingData (missing → INSUFFICIENT_DATA, notBreaching → OK, breaching → ALARM, ignore →
 * unchanged); otherwise OK. A missing data point among present ones counts as breaching or not
 * breaching under those two treatments and is skipped under missing and ignore. A transition
 * publishes CloudWatch's alarm message to the new state's actions (SNS topics).
 */
import { alarmMessage, alarmSubject, alarmTexts } from './alarm-message';
import { AlarmQuery, AlarmSeed, AlarmState, AlarmStatus, AlarmTransition } from './alarm-model';
import { evaluateMath } from './metric-math';
import { aggregate, contributor, InsightsQuery, selects } from './metrics-insights';

export type { AlarmQuery, AlarmSeed, AlarmState, AlarmStatus, AlarmTransition, TreatMissingData } from './alarm-model';
import { MetricDataPoint } from './service';

export const COMPARISONS: Record<string, (v: number, t: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};
export const STATISTICS = new Set(['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount']);

export interface AlarmEvaluatorOptions {
  readonly clock: () => number;
  readonly log: (line: string) => void;
  readonly region: string;
  readonly accountId: string;
  /** The data points to evaluate (the local CloudWatch's). */
  readonly points: () => readonly MetricDataPoint[];
  /** Publishes to an SNS topic of the app; undefined if there is no such topic. */
  readonly publish: (topicArn: string, subject: string, message: string, byProtocol: Record<string, string>) => string | undefined;
  /** A Contributor Insights rule's metric over [from, to) (INSIGHT_RULE_METRIC). */
  readonly insight?: InsightWindowMetric;
}

interface Samples { count: number; sum: number; min: number; max: number }
export type InsightWindowMetric = (rule: string, metric: string, from: number, to: number) => number | undefined;
type Window = readonly [from: number, to: number];

/** How often the evaluator runs on its own (CloudWatch evaluates alarms every minute). */
const EVALUATION_INTERVAL_MS = 60_000;

export class AlarmEvaluator {
  private readonly statuses = new Map<string, AlarmStatus>();
  private timer?: NodeJS.Timeout;

  constructor(seeds: readonly AlarmSeed[], private readonly opts: AlarmEvaluatorOptions) {
    const now = opts.clock();
    for (const seed of seeds) this.statuses.set(seed.name, { seed, state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', updatedAt: now, contributors: [] });
  }

  get alarms(): readonly AlarmStatus[] {
    return [...this.statuses.values()];
  }

  /** Evaluates every alarm now, publishes the transitions' actions, and returns the transitions. */
  evaluate(): AlarmTransition[] {
    const now = this.opts.clock();
    const points = this.opts.points();
    const out: AlarmTransition[] = [];
    for (const status of this.statuses.values()) {
      const next = evaluateAlarm(status, points, now, this.opts.insight);
      if (next.state === status.state) {
        status.contributors = next.contributors;
        continue;
      }
      const transition: AlarmTransition = { alarm: status.seed.name, from: status.state, to: next.state, at: now, reason: next.reason };
      Object.assign(status, { state: next.state, reason: next.reason, updatedAt: now, contributors: next.contributors });
      out.push(transition);
      this.notify(status, transition);
    }
    return out;
  }

  /** Evaluates every minute (real time) until stopped. */
  start(): void {
    this.evaluate();
    this.timer = setInterval(() => this.evaluate(), EVALUATION_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private notify(status: AlarmStatus, t: AlarmTransition): void {
    const seed = status.seed;
    this.opts.log(`keygate local: alarm ${seed.name}: ${t.from} -> ${t.to} (${t.reason})`);
    if (!seed.actionsEnabled) return;
    const actions = t.to === 'ALARM' ? seed.alarmActions : t.to === 'OK' ? seed.okActions : seed.insufficientDataActions;
    const where = { region: this.opts.region, accountId: this.opts.accountId };
    const message = JSON.stringify(alarmMessage(seed, t, where));
    const texts = alarmTexts(seed, t, where);
    for (const arn of actions) {
      const id = arn.startsWith('arn:aws:sns:') ? this.opts.publish(arn, alarmSubject(seed.name, t.to, this.opts.region), message, texts) : undefined;
      if (id === undefined) this.opts.log(`keygate local: alarm ${seed.name}: action ${arn} not run (only the app's SNS topics are emulated)`);
    }
  }
}

/** The state an alarm should be in now, with the reason. */
export function evaluateAlarm(status: AlarmStatus, points: readonly MetricDataPoint[], now: number, insight?: InsightWindowMetric): { state: AlarmState; reason: string; contributors: string[] } {
  const seed = status.seed;
  // The newest period is open-ended: a data point stamped just after now (a Lambda's clock runs on while a test's clock stands still) counts.
  const windows: Window[] = Array.from({ length: seed.evaluationPeriods }, (_v, k) => [now - (k + 1) * seed.periodSec * 1000, k === 0 ? Number.POSITIVE_INFINITY : now - k * seed.periodSec * 1000] as const);
  const series = seriesValues(seed, points, windows, insight);
  if (series.size === 0) series.set('', windows.map(() => undefined));
  const results = [...series].map(([key, values]) => ({ key, ...stateOf(seed, values, status.state) }));
  const inAlarm = results.filter((r) => r.state === 'ALARM');
  const pick = inAlarm[0] ?? results.find((r) => r.state === 'OK') ?? results[0];
  const contributors = inAlarm.map((r) => r.key).filter((k) => k !== '');
  const reason = contributors.length > 0 ? `${pick.reason} Contributors in ALARM: ${contributors.join('; ')}.` : pick.reason;
  return { state: pick.state, reason, contributors };
}

/** The alarm's values per series (one, or one per Metrics Insights contributor) and period, newest first. */
function seriesValues(seed: AlarmSeed, points: readonly MetricDataPoint[], windows: Window[], insight?: InsightWindowMetric): Map<string, (number | undefined)[]> {
  const returned = seed.queries.find((q) => q.returnData) ?? seed.queries[0];
  const insights = returned.expression?.insights;
  if (insights) {
    const out = new Map<string, (number | undefined)[]>();
    windows.forEach((w, k) => {
      for (const [key, v] of insightsValues(insights, points, w)) {
        if (!out.has(key)) out.set(key, windows.map(() => undefined));
        (out.get(key) as (number | undefined)[])[k] = v;
      }
    });
    return out;
  }
  return new Map([['', windows.map((w) => queryValue(seed, returned, points, w, new Set(), insight))]]);
}

function queryValue(seed: AlarmSeed, q: AlarmQuery, points: readonly MetricDataPoint[], w: Window, seen: Set<string>, insight?: InsightWindowMetric): number | undefined {
  if (q.stat) {
    const s = samples(points.filter((p) => p.namespace === q.stat?.namespace && p.metricName === q.stat.metricName && sameDimensions(p.dimensions, q.stat.dimensions)), w);
    return s && statistic(q.stat.stat, s);
  }
  const math = q.expression?.math;
  if (!math || seen.has(q.id)) return undefined;
  const inner = new Set(seen).add(q.id);
  return evaluateMath(math, (id) => {
    const ref = seed.queries.find((other) => other.id === id);
    return ref ? queryValue(seed, ref, points, w, inner, insight) : undefined;
  }, (rule, metric) => insight?.(rule, metric, w[0], w[1]));
}

function insightsValues(q: InsightsQuery, points: readonly MetricDataPoint[], w: Window): Map<string, number> {
  const groups = new Map<string, MetricDataPoint[]>();
  for (const p of points) {
    if (p.timestamp < w[0] || p.timestamp >= w[1] || !selects(q, p.namespace, p.metricName, p.dimensions)) continue;
    const key = Object.entries(contributor(q, p.dimensions)).map(([k, v]) => `${k}=${v}`).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  let rows = [...groups].map(([key, ps]) => [key, aggregate(q.fn, samples(ps, w) as Samples)] as const);
  if (q.order) rows = rows.sort((a, b) => (q.order === 'DESC' ? b[1] - a[1] : a[1] - b[1]));
  return new Map(rows.slice(0, q.limit));
}

function sameDimensions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The samples of the points inside a window; undefined if none. */
function samples(points: readonly MetricDataPoint[], w: Window): Samples | undefined {
  const s: Samples = { count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
  for (const p of points) {
    if (p.timestamp < w[0] || p.timestamp >= w[1]) continue;
    if (p.value !== undefined) add(s, 1, p.value, p.value, p.value);
    else if (p.statistics) add(s, p.statistics.sampleCount, p.statistics.sum, p.statistics.minimum, p.statistics.maximum);
    else if (p.values) p.values.values.forEach((v, i) => add(s, p.values?.counts[i] ?? 1, v * (p.values?.counts[i] ?? 1), v, v));
  }
  return s.count > 0 ? s : undefined;
}

function add(s: Samples, count: number, sum: number, min: number, max: number): void {
  s.count += count;
  s.sum += sum;
  s.min = Math.min(s.min, min);
  s.max = Math.max(s.max, max);
}

function statistic(stat: string, s: Samples): number {
  switch (stat) {
    case 'Sum': return s.sum;
    case 'Average': return s.sum / s.count;
    case 'Maximum': return s.max;
    case 'Minimum': return s.min;
    default: return s.count;
  }
}

/** M of N with the missing-data treatment, for one series. */
function stateOf(seed: AlarmSeed, values: (number | undefined)[], current: AlarmState): { state: AlarmState; reason: string } {
  const compare = COMPARISONS[seed.comparison];
  const present = values.filter((v): v is number => v !== undefined);
  const tmd = seed.treatMissingData;
  if (present.length === 0) {
    const state: AlarmState = tmd === 'breaching' ? 'ALARM' : tmd === 'notBreaching' ? 'OK' : tmd === 'ignore' ? current : 'INSUFFICIENT_DATA';
    return { state, reason: `no datapoints were received for ${seed.evaluationPeriods} period${seed.evaluationPeriods === 1 ? '' : 's'} (TreatMissingData: ${tmd})` };
  }
  const missingBreach = tmd === 'breaching' ? values.length - present.length : 0;
  const breaching = present.filter((v) => compare(v, seed.threshold)).length + missingBreach;
  const shown = present.map((v) => Number(v.toFixed(4))).join(', ');
  const verb = seed.comparison.replace(/Threshold$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  if (breaching >= seed.datapointsToAlarm) {
    return { state: 'ALARM', reason: `Threshold Crossed: ${breaching} out of the last ${seed.evaluationPeriods} datapoints [${shown}] were ${verb} the threshold (${seed.threshold}) (minimum ${seed.datapointsToAlarm} datapoints for OK -> ALARM transition).` };
  }
  return { state: 'OK', reason: `Threshold Crossed: ${breaching} out of the last ${seed.evaluationPeriods} datapoints [${shown}] were ${verb} the threshold (${seed.threshold}) (minimum ${seed.datapointsToAlarm} datapoints for ALARM -> OK transition).` };
}
