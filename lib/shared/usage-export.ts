/**
 * The usage export's facts, shared by the UsageExport construct (Glue table, named queries),
 * the daily export job, the `keygate usage export` command, the local gateway and the tests:
 * the row schema, the S3 key layout, the EventBridge event, the date windows GetUsage accepts
 * and the named queries' SQL (the same text the docs show and the tests run with DuckDB).
 */

/** One key's use of one tier (usage plan) on one UTC day, as GetUsage reports it. */
export interface UsageExportRow {
  /** YYYY-MM-DD (UTC). */
  readonly date: string;
  readonly apiId: string;
  /** The plan's stage(s) of that API, comma separated when a plan covers several (GetUsage sums them). */
  readonly stage: string;
  readonly planId: string;
  readonly keyId: string;
  readonly keyName: string;
  /** The key's customerId (e.g. the AWS Marketplace customer), '' when none. */
  readonly customerId: string;
  /** Requests counted against the quota that day. */
  readonly used: number;
  /** Quota remaining at the end of that day; null when the plan has no quota. */
  readonly remaining: number | null;
  /** The plan's quota limit (per its period); null when the plan has no quota. */
  readonly quotaLimit: number | null;
}

/** The columns, in file order, with their Athena (Glue) types. */
export const USAGE_EXPORT_COLUMNS: readonly { readonly name: keyof UsageExportRow; readonly type: 'string' | 'bigint' }[] = [
  { name: 'date', type: 'string' },
  { name: 'apiId', type: 'string' },
  { name: 'stage', type: 'string' },
  { name: 'planId', type: 'string' },
  { name: 'keyId', type: 'string' },
  { name: 'keyName', type: 'string' },
  { name: 'customerId', type: 'string' },
  { name: 'used', type: 'bigint' },
  { name: 'remaining', type: 'bigint' },
  { name: 'quotaLimit', type: 'bigint' },
];

/** The default prefix of the daily files in the export bucket. */
export const USAGE_EXPORT_PREFIX = 'usage';
/** The partition column of the daily files (Hive style, `dt=YYYY-MM-DD`). */
export const USAGE_PARTITION = 'dt';

/** EventBridge `source` and `detail-type` of "a day was exported". */
export const USAGE_EVENT_SOURCE = 'keygate.usage-export';
export const USAGE_EVENT_DETAIL_TYPE = 'Usage day exported';

/** The detail of the event put when a day's file is written. */
export interface UsageDayExportedDetail {
  readonly date: string;
  readonly apiId: string;
  /** Distinct keys with a row that day. */
  readonly keys: number;
  /** Sum of `used` over the day's rows. */
  readonly requests: number;
  readonly rows: number;
  /** `s3://bucket/key` of the day's file. */
  readonly location: string;
  readonly bytes: number;
}

const DAY_MS = 86_400_000;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `text` is a real calendar day written YYYY-MM-DD. */
export function isIsoDay(text: string): boolean {
  if (!DATE_RE.test(text)) return false;
  const t = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === text;
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** Every day from `from` to `to` (inclusive). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = dayMs(from); t <= dayMs(to); t += DAY_MS) out.push(isoDay(t));
  return out;
}

/** `from`..`to` split into consecutive windows of at most `maxDays` days (GetUsage takes at most 90). */
export function usageWindows(from: string, to: string, maxDays = 90): { readonly from: string; readonly to: string }[] {
  const out: { from: string; to: string }[] = [];
  const last = dayMs(to);
  for (let start = dayMs(from); start <= last; start += maxDays * DAY_MS) {
    out.push({ from: isoDay(start), to: isoDay(Math.min(last, start + (maxDays - 1) * DAY_MS)) });
  }
  return out;
}

/** The S3 key of a day's file: `usage/dt=2026-01-31/part-0.json.gz`. */
export function usageObjectKey(date: string, prefix = USAGE_EXPORT_PREFIX): string {
  return `${prefix.replace(/\/+$/, '')}/${USAGE_PARTITION}=${date}/part-0.json.gz`;
}

/** The one order of rows (so a re-run writes the same bytes): date, plan, key id. */
export function compareUsageRows(a: UsageExportRow, b: UsageExportRow): number {
  return cmp(a.date, b.date) || cmp(a.apiId, b.apiId) || cmp(a.planId, b.planId) || cmp(a.keyId, b.keyId);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One JSON object per line, columns in schema order, a newline after each. */
export function toJsonLines(rows: readonly UsageExportRow[]): string {
  return rows.map((r) => `${JSON.stringify(Object.fromEntries(USAGE_EXPORT_COLUMNS.map((c) => [c.name, r[c.name]])))}\n`).join('');
}

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header row (RFC 4180 quoting; an empty `remaining` means no quota). */
export function toCsv(rows: readonly UsageExportRow[]): string {
  const lines = [USAGE_EXPORT_COLUMNS.map((c) => c.name).join(',')];
  for (const r of rows) lines.push(USAGE_EXPORT_COLUMNS.map((c) => csvCell(r[c.name])).join(','));
  return `${lines.join('\n')}\n`;
}

/** The day's event detail from its rows. */
export function summarizeDay(date: string, apiId: string, rows: readonly UsageExportRow[], location: string, bytes: number): UsageDayExportedDetail {
  const keys = new Set(rows.map((r) => r.keyId));
  return { date, apiId, keys: keys.size, requests: rows.reduce((s, r) => s + r.used, 0), rows: rows.length, location, bytes };
}

/**
 * The named queries (Athena; the same SQL runs in DuckDB over the exported files in the tests).
 * `table` is the daily usage table, `requests` the per-request table.
 */
export const USAGE_QUERIES = {
  requestsPerCustomerPerMonth: (table: string): string => [
    'SELECT customerId, substr("date", 1, 7) AS month, SUM(used) AS requests',
    `FROM ${table}`,
    "WHERE customerId <> ''",
    'GROUP BY customerId, substr("date", 1, 7)',
    'ORDER BY month, customerId',
  ].join('\n'),
  /** Per-request table: `dt` is the UTC day the stream delivered the request (Firehose buffers for at most 15 minutes). */
  billableRequestsPerKeyPerDay: (requests: string): string => [
    'SELECT apiKeyId AS keyId, dt AS "date", COUNT(*) AS billable',
    `FROM ${requests}`,
    "WHERE CAST(status AS INTEGER) BETWEEN 200 AND 299 AND apiKeyId <> ''",
    'GROUP BY apiKeyId, dt',
    'ORDER BY "date", keyId',
  ].join('\n'),
  keysOverQuotaPercent: (table: string, percent: number): string => [
    'SELECT "date", planId, keyId, keyName, used, remaining, quotaLimit,',
    '  100.0 * (quotaLimit - remaining) / quotaLimit AS percentOfQuota',
    `FROM ${table}`,
    `WHERE quotaLimit > 0 AND 100.0 * (quotaLimit - remaining) / quotaLimit >= ${Number(percent)}`,
    'ORDER BY "date", planId, keyId',
  ].join('\n'),
};

/** Table names of the Glue database (and of the DuckDB views in the docs and tests). */
export const USAGE_TABLES = { daily: 'usage_daily', requests: 'usage_requests' } as const;

/** The per-request stream's columns (the keygate access log's fields) with their Athena types. */
export const REQUEST_STREAM_COLUMNS: readonly { readonly name: string; readonly type: 'string' }[] = [
  'requestId', 'requestTime', 'apiId', 'stage', 'apiKeyId', 'httpMethod', 'resourcePath', 'path', 'status',
  'responseLatency', 'integrationLatency', 'errorResponseType',
].map((name) => ({ name, type: 'string' as const }));
