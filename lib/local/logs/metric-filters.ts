/**
 * The app's CloudWatch Logs metric filters, applied to the log events the local gateway writes
 * (the stages' access-log lines, by log group): each event a filter matches becomes a data point
 * of its metric transformation (value, dimensions read from the event, default value when no
 * event matched is not emulated), handed to the local CloudWatch.
 */
import { compileFilterPattern, FilterPattern, FilterPatternError, jsonPath } from './filter-pattern';

/** An AWS::Logs::MetricFilter, as the model builder found it. */
export interface MetricFilterSeed {
  readonly stack: string;
  readonly logicalId: string;
  readonly logGroupName: string;
  readonly filterPattern: string;
  readonly transformations: readonly MetricTransformation[];
}

export interface MetricTransformation {
  readonly metricNamespace: string;
  readonly metricName: string;
  /** A number, or a `$.selector` of the event. */
  readonly metricValue: string;
  /** Dimension name → a `$.selector` of the event. */
  readonly dimensions: Record<string, string>;
  readonly unit?: string;
}

/** A data point a filter produced. */
export interface FilteredPoint {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly value: number;
  readonly unit: string;
  readonly timestamp: number;
}

/** Compiles a seed's pattern; a FilterPatternError says why it can't run. */
export function checkMetricFilter(seed: MetricFilterSeed): string | undefined {
  try {
    compileFilterPattern(seed.filterPattern);
    return undefined;
  } catch (e) {
    if (e instanceof FilterPatternError) return e.message;
    throw e;
  }
}

export class MetricFilters {
  private readonly byGroup = new Map<string, { seed: MetricFilterSeed; pattern: FilterPattern }[]>();

  constructor(seeds: readonly MetricFilterSeed[], private readonly emit: (point: FilteredPoint) => void) {
    for (const seed of seeds) {
      if (checkMetricFilter(seed) !== undefined) continue;
      const list = this.byGroup.get(seed.logGroupName) ?? [];
      list.push({ seed, pattern: compileFilterPattern(seed.filterPattern) });
      this.byGroup.set(seed.logGroupName, list);
    }
  }

  /** Whether any filter watches this log group. */
  watches(logGroupName: string): boolean {
    return this.byGroup.has(logGroupName);
  }

  /** Applies the group's filters to one log event. */
  apply(logGroupName: string, event: string, timestamp: number): void {
    const filters = this.byGroup.get(logGroupName);
    if (!filters) return;
    let doc: unknown;
    for (const { seed, pattern } of filters) {
      if (!pattern.matches(event)) continue;
      try {
        doc ??= JSON.parse(event);
      } catch {
        doc = {};
      }
      for (const t of seed.transformations) this.transform(t, doc, timestamp);
    }
  }

  private transform(t: MetricTransformation, doc: unknown, timestamp: number): void {
    const value = t.metricValue.trim().startsWith('$') ? Number(jsonPath(doc, t.metricValue)) : Number(t.metricValue);
    if (!Number.isFinite(value)) return;
    const dimensions: Record<string, string> = {};
    for (const [name, selector] of Object.entries(t.dimensions)) {
      const v = jsonPath(doc, selector);
      // CloudWatch Logs drops a data point whose dimension has no value.
      if (v === undefined || v === null || v === '' || v === '-') return;
      dimensions[name] = String(v);
    }
    this.emit({ namespace: t.metricNamespace, metricName: t.metricName, dimensions, value, unit: t.unit ?? 'None', timestamp });
  }
}
