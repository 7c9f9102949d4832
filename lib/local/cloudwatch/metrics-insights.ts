/**
 * The Metrics Insights queries CloudWatch alarms take (one series per GROUP BY contributor):
 * `SELECT MAX|MIN|SUM|AVG|COUNT(metric) FROM SCHEMA("ns", dim, …) | FROM "ns" | FROM SCHEMA("ns")
 * [WHERE dim = 'v' [AND dim != 'v' …]] [GROUP BY dim, …] [ORDER BY FUNC() ASC|DESC] [LIMIT n]`.
 * `SCHEMA("ns", a, b)` matches metrics with exactly those dimensions; a bare namespace any.
 * Other queries are refused with InsightsSyntaxError.
 */

export class InsightsSyntaxError extends Error {}

export interface InsightsQuery {
  readonly fn: 'MAX' | 'MIN' | 'SUM' | 'AVG' | 'COUNT';
  readonly metricName: string;
  readonly namespace: string;
  /** Exactly these dimension names (SCHEMA with dimensions); undefined = any. */
  readonly schemaDimensions?: readonly string[];
  readonly where: readonly { readonly dimension: string; readonly op: '=' | '!='; readonly value: string }[];
  readonly groupBy: readonly string[];
  readonly order?: 'ASC' | 'DESC';
  readonly limit: number;
}

const QUERY = new RegExp([
  /^\s*SELECT\s+(MAX|MIN|SUM|AVG|COUNT)\(\s*("?)([A-Za-z0-9_.\-/:]+)\2\s*\)\s+/.source,
  /FROM\s+(?:SCHEMA\(\s*"([^"]+)"((?:\s*,\s*[A-Za-z0-9_.\-:]+)*)\s*\)|"([^"]+)")/.source,
  /(?:\s+WHERE\s+(.+?))?/.source,
  /(?:\s+GROUP\s+BY\s+([A-Za-z0-9_.\-:,\s]+?))?/.source,
  /(?:\s+ORDER\s+BY\s+(?:MAX|MIN|SUM|AVG|COUNT)\(\)\s*(ASC|DESC)?)?/.source,
  /(?:\s+LIMIT\s+(\d+))?\s*$/.source,
].join(''), 'i');

export function isInsightsQuery(expression: string): boolean {
  return /^\s*SELECT\s/i.test(expression);
}

export function parseInsightsQuery(expression: string): InsightsQuery {
  const m = QUERY.exec(expression);
  if (!m) throw new InsightsSyntaxError(`Metrics Insights query not emulated: ${expression}`);
  const [, fn, , metricName, schemaNs, schemaDims, plainNs, where, groupBy, order, limit] = m;
  const dims = schemaDims?.split(',').map((d) => d.trim()).filter((d) => d !== '');
  return {
    fn: fn.toUpperCase() as InsightsQuery['fn'], metricName, namespace: schemaNs ?? plainNs,
    schemaDimensions: schemaNs !== undefined && dims && dims.length > 0 ? dims : undefined,
    where: where ? where.split(/\s+AND\s+/i).map((c) => condition(c, expression)) : [],
    groupBy: groupBy ? groupBy.split(',').map((d) => d.trim()) : [],
    order: order?.toUpperCase() as InsightsQuery['order'], limit: limit ? Math.min(Number(limit), 500) : 500,
  };
}

function condition(text: string, expression: string): InsightsQuery['where'][number] {
  const m = /^\s*([A-Za-z0-9_.\-:]+)\s*(=|!=)\s*'((?:[^']|'')*)'\s*$/.exec(text);
  if (!m) throw new InsightsSyntaxError(`WHERE clause not emulated: ${text.trim()} in ${expression}`);
  return { dimension: m[1], op: m[2] as '=' | '!=', value: m[3].replace(/''/g, "'") };
}

/** Whether a metric (by its dimensions) is in the query's FROM and WHERE. */
export function selects(q: InsightsQuery, namespace: string, metricName: string, dimensions: Record<string, string>): boolean {
  if (namespace !== q.namespace || metricName !== q.metricName) return false;
  if (q.schemaDimensions) {
    const names = Object.keys(dimensions);
    if (names.length !== q.schemaDimensions.length || !q.schemaDimensions.every((d) => d in dimensions)) return false;
  }
  return q.where.every((c) => (dimensions[c.dimension] === c.value) === (c.op === '='));
}

/** The contributor key of a metric: its GROUP BY dimension values. */
export function contributor(q: InsightsQuery, dimensions: Record<string, string>): Record<string, string> {
  return Object.fromEntries(q.groupBy.map((d) => [d, dimensions[d] ?? '']));
}

/** Aggregates the samples of one contributor in one period. */
export function aggregate(fn: InsightsQuery['fn'], s: { count: number; sum: number; min: number; max: number }): number {
  switch (fn) {
    case 'MAX': return s.max;
    case 'MIN': return s.min;
    case 'SUM': return s.sum;
    case 'AVG': return s.sum / s.count;
    default: return s.count;
  }
}
