/*
 * Usage rows for billing from GetUsage: one implementation for the daily export job (Lambda)
 * and `keygate usage export` (CLI). Per usage plan, the range is read in windows of at most 90
 * days (GetUsage's limit), every page of each window (500 keys a page), and turned into one
 * row per key, plan and day (see lib/shared/usage-export.ts for the schema).
 */
import { gzipSync } from 'zlib';
import { APIGatewayClient, GetUsageCommand, GetUsagePlanCommand, UsagePlan } from '@aws-sdk/client-api-gateway';
import { collectPages, listApiKeys, listUsagePlanKeys, listUsagePlans, PAGE_SIZE } from './paginate';
import { compareUsageRows, dayMs, isIsoDay, isoDay, toJsonLines, UsageExportRow, usageWindows } from '../shared/usage-export';

const DAY_MS = 86_400_000;
/** GetUsage's longest date range. */
export const USAGE_WINDOW_DAYS = 90;

export interface ReadUsageOptions {
  /** First and last day, YYYY-MM-DD (UTC), inclusive. */
  readonly from: string;
  readonly to: string;
  /** Only the plans of this API (and rows name it). Default: every plan. */
  readonly apiId?: string;
  /** Only these plans. Default: every plan (of `apiId`, if given). */
  readonly usagePlanIds?: readonly string[];
  /** Called after each GetUsage window of each plan. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What reading took (for the CLI's summary and the benchmark). */
export interface UsageCallCounts {
  getUsage: number;
  listings: number;
}

export interface UsageRows {
  readonly rows: UsageExportRow[];
  readonly plans: number;
  readonly windows: number;
  readonly calls: UsageCallCounts;
}

/** Checks a range before any call: real days, `from` ≤ `to`. */
export function validateUsageRange(from: string, to: string): void {
  if (!isIsoDay(from)) throw new Error(`from must be a day like 2026-01-31, not "${from}"`);
  if (!isIsoDay(to)) throw new Error(`to must be a day like 2026-01-31, not "${to}"`);
  if (from > to) throw new Error(`from ${from} is after to ${to}`);
}

async function selectPlans(client: APIGatewayClient, options: ReadUsageOptions, calls: UsageCallCounts): Promise<UsagePlan[]> {
  let plans: UsagePlan[];
  if (options.usagePlanIds) {
    plans = [];
    for (const usagePlanId of options.usagePlanIds) {
      calls.listings++;
      plans.push(await client.send(new GetUsagePlanCommand({ usagePlanId })));
    }
  } else {
    plans = await listUsagePlans(client);
    calls.listings += Math.max(1, Math.ceil(plans.length / PAGE_SIZE));
  }
  const apiId = options.apiId;
  if (apiId) plans = plans.filter((p) => (p.apiStages ?? []).some((s) => s.apiId === apiId));
  return [...plans].sort((a, b) => (a.id ?? '').localeCompare(b.id ?? ''));
}

/** The API and stage(s) a plan's rows name. */
function planTarget(plan: UsagePlan, apiId?: string): { apiId: string; stage: string } {
  const stages = (plan.apiStages ?? []).filter((s) => !apiId || s.apiId === apiId);
  const api = apiId ?? stages[0]?.apiId ?? '';
  return { apiId: api, stage: stages.filter((s) => s.apiId === api).map((s) => s.stage ?? '').sort().join(',') };
}

/** All pages of one GetUsage window: key id (or value) → daily [used, remaining]. */
async function usageWindow(client: APIGatewayClient, usagePlanId: string, from: string, to: string, calls: UsageCallCounts): Promise<Map<string, number[][]>> {
  const merged = new Map<string, number[][]>();
  await collectPages(async (position) => {
    calls.getUsage++;
    const page = await client.send(new GetUsageCommand({ usagePlanId, startDate: from, endDate: to, position, limit: PAGE_SIZE }));
    for (const [k, days] of Object.entries(page.items ?? {})) merged.set(k, [...(merged.get(k) ?? []), ...days]);
    return { items: [], position: page.position };
  });
  return merged;
}

/** Reads the rows of `from`..`to` for the selected plans (every key, every day GetUsage reports). */
export async function readUsageRows(client: APIGatewayClient, options: ReadUsageOptions): Promise<UsageRows> {
  validateUsageRange(options.from, options.to);
  const calls: UsageCallCounts = { getUsage: 0, listings: 0 };
  const plans = await selectPlans(client, options, calls);
  const keys = await listApiKeys(client);
  calls.listings += Math.max(1, Math.ceil(keys.length / PAGE_SIZE));
  const keyInfo = new Map(keys.map((k) => [k.id ?? '', { name: k.name ?? '', customerId: k.customerId ?? '' }]));
  const windows = usageWindows(options.from, options.to, USAGE_WINDOW_DAYS);
  const total = plans.length * windows.length;
  const rows: UsageExportRow[] = [];
  let done = 0;
  for (const plan of plans) {
    const planId = plan.id ?? '';
    const members = await listUsagePlanKeys(client, planId);
    calls.listings += Math.max(1, Math.ceil(members.length / PAGE_SIZE));
    // AWS indexes GetUsage by key id (its documentation says by key value): accept both.
    const idByValue = new Map(members.filter((m) => m.value).map((m) => [m.value ?? '', m.id ?? '']));
    const target = planTarget(plan, options.apiId);
    const quotaLimit = plan.quota?.limit ?? null;
    for (const w of windows) {
      for (const [itemKey, days] of await usageWindow(client, planId, w.from, w.to, calls)) {
        const keyId = idByValue.get(itemKey) ?? itemKey;
        const info = keyInfo.get(keyId) ?? { name: members.find((m) => m.id === keyId)?.name ?? '', customerId: '' };
        days.forEach(([used, remaining], i) => {
          rows.push({
            date: isoDay(dayMs(w.from) + i * DAY_MS), apiId: target.apiId, stage: target.stage, planId, keyId,
            keyName: info.name, customerId: info.customerId, used: used ?? 0,
            remaining: quotaLimit === null ? null : (remaining ?? null), quotaLimit,
          });
        });
      }
      options.onProgress?.(++done, total);
    }
  }
  rows.sort(compareUsageRows);
  return { rows, plans: plans.length, windows: windows.length, calls };
}

/** The rows grouped by day, every day of `from`..`to` present (a day without rows gets an empty list). */
export function rowsByDay(rows: readonly UsageExportRow[], days: readonly string[]): Map<string, UsageExportRow[]> {
  const out = new Map<string, UsageExportRow[]>(days.map((d) => [d, []]));
  for (const r of rows) out.get(r.date)?.push(r);
  return out;
}

/** A day's file: gzip of the JSON lines, no file name and mtime 0 in the header, so the same rows give the same bytes. */
export function dayFile(rows: readonly UsageExportRow[]): Buffer {
  return gzipSync(Buffer.from(toJsonLines(rows), 'utf8'), { level: 9 });
}
