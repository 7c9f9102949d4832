/**
 * CloudWatch Contributor Insights rules on the log groups the gateway writes (the stages' access
 * logs): `CloudWatchLogRule` with `LogFormat` JSON, `Contribution.Keys` (up to 4 `$.` selectors),
 * `Filters` (`In`, `NotIn`, `StartsWith`, `EqualTo`, `GreaterThan`, `LessThan`, `IsPresent`) and
 * `AggregateOn` Count or Sum (of `ValueOf`). The metrics alarms read with INSIGHT_RULE_METRIC:
 * UniqueContributors, MaxContributorValue, SampleCount, Sum, Minimum, Maximum, Average.
 */
import { jsonPath } from './filter-pattern';

/** An AWS::CloudWatch::InsightRule, as the model builder read it. */
export interface InsightRuleSeed {
  readonly name: string;
  readonly logGroups: readonly string[];
  readonly keys: readonly string[];
  readonly filters: readonly Record<string, unknown>[];
  readonly aggregateOn: 'Count' | 'Sum';
  readonly valueOf?: string;
}

const FILTER_OPS = new Set(['Match', 'In', 'NotIn', 'StartsWith', 'EqualTo', 'GreaterThan', 'LessThan', 'IsPresent']);
/** Events kept per rule (the oldest go first). */
const MAX_EVENTS = 50_000;

/** Reads a rule body; a string says why it can't run. */
export function parseInsightRule(name: string, body: unknown): InsightRuleSeed | string {
  let b: Record<string, unknown>;
  try {
    b = (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>;
  } catch {
    return 'RuleBody is not JSON';
  }
  const schema = b.Schema as { Name?: string } | undefined;
  if (schema?.Name !== 'CloudWatchLogRule' || b.LogFormat !== 'JSON') return 'only CloudWatchLogRule rules on JSON logs are emulated';
  const c = (b.Contribution ?? {}) as { Keys?: unknown; Filters?: unknown; ValueOf?: unknown };
  const filters = (Array.isArray(c.Filters) ? c.Filters : []) as Record<string, unknown>[];
  if (filters.some((f) => Object.keys(f).some((k) => !FILTER_OPS.has(k)))) return `a filter operator keygate local doesn't emulate in ${JSON.stringify(filters)}`;
  if (!Array.isArray(c.Keys) || c.Keys.length === 0) return 'no Contribution.Keys';
  return {
    name, logGroups: (b.LogGroupNames as string[] | undefined) ?? [], keys: c.Keys as string[], filters,
    aggregateOn: b.AggregateOn === 'Sum' ? 'Sum' : 'Count', valueOf: typeof c.ValueOf === 'string' ? c.ValueOf : undefined,
  };
}

function passes(f: Record<string, unknown>, doc: unknown): boolean {
  const v = jsonPath(doc, String(f.Match));
  const s = v === undefined || v === null ? undefined : String(v);
  if (f.IsPresent !== undefined) return (v !== undefined) === (f.IsPresent === true);
  if (s === undefined) return false;
  if (Array.isArray(f.In) && !f.In.map(String).includes(s)) return false;
  if (Array.isArray(f.NotIn) && f.NotIn.map(String).includes(s)) return false;
  if (Array.isArray(f.StartsWith) && !f.StartsWith.some((p) => s.startsWith(String(p)))) return false;
  if (f.EqualTo !== undefined && Number(s) !== Number(f.EqualTo)) return false;
  if (f.GreaterThan !== undefined && !(Number(s) > Number(f.GreaterThan))) return false;
  if (f.LessThan !== undefined && !(Number(s) < Number(f.LessThan))) return false;
  return true;
}

export class InsightRules {
  private readonly events = new Map<string, { time: number; contributor: string; value: number }[]>();

  constructor(private readonly rules: readonly InsightRuleSeed[]) {
    for (const r of rules) this.events.set(r.name, []);
  }

  /** Applies the rules on a log group to one of its events. */
  apply(logGroup: string, line: string, time: number): void {
    let doc: unknown;
    for (const r of this.rules) {
      if (!r.logGroups.includes(logGroup)) continue;
      try {
        doc ??= JSON.parse(line);
      } catch {
        return;
      }
      if (!r.filters.every((f) => passes(f, doc))) continue;
      const value = r.aggregateOn === 'Sum' ? Number(jsonPath(doc, r.valueOf ?? '$')) : 1;
      if (!Number.isFinite(value)) continue;
      const list = this.events.get(r.name) as { time: number; contributor: string; value: number }[];
      list.push({ time, contributor: JSON.stringify(r.keys.map((k) => jsonPath(doc, k) ?? null)), value });
      if (list.length > MAX_EVENTS) list.shift();
    }
  }

  /** One of the rule's metrics over [from, to); undefined without events (or an unknown rule or metric). */
  metric(rule: string, metric: string, from: number, to: number): number | undefined {
    const events = (this.events.get(rule) ?? []).filter((e) => e.time >= from && e.time < to);
    if (events.length === 0) return undefined;
    const byContributor = new Map<string, number>();
    for (const e of events) byContributor.set(e.contributor, (byContributor.get(e.contributor) ?? 0) + e.value);
    const values = events.map((e) => e.value);
    switch (metric) {
      case 'UniqueContributors': return byContributor.size;
      case 'MaxContributorValue': return Math.max(...byContributor.values());
      case 'SampleCount': return events.length;
      case 'Sum': return values.reduce((a, b) => a + b, 0);
      case 'Minimum': return Math.min(...values);
      case 'Maximum': return Math.max(...values);
      case 'Average': return values.reduce((a, b) => a + b, 0) / values.length;
      default: return undefined;
    }
  }
}
