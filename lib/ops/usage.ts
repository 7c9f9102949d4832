import { APIGatewayClient, UsagePlan } from '@aws-sdk/client-api-gateway';
import { UsageError } from './errors';
import { listUsagePlanKeys, listUsagePlans } from '../sdk/paginate';
import { getPlanUsage } from '../sdk/usage';
import { csvCell } from '../shared/csv';
import { resolveKey, resolvePlan } from '../sdk/resolve';

export { getPlanUsage } from '../sdk/usage';

export interface UsageRow {
  /** YYYY-MM-DD (UTC). */
  readonly date: string;
  readonly keyId: string;
  readonly keyName: string;
  readonly planId: string;
  readonly planName: string;
  readonly used: number;
  /** Remaining quota as API Gateway reports it (undefined when the plan has no quota). */
  readonly remaining?: number;
  readonly quotaLimit?: number;
  readonly quotaPeriod?: string;
  /** The quota period's offset (the day it starts: for WEEK 0 = Sunday). */
  readonly quotaOffset?: number;
}

export interface UsageReport {
  readonly from: string;
  readonly to: string;
  readonly rows: UsageRow[];
  /** One entry per key and plan: total used over the range and the last remaining value. */
  readonly totals: { keyId: string; keyName: string; planId: string; planName: string; used: number; remaining?: number; quotaLimit?: number; quotaPeriod?: string; quotaOffset?: number }[];
}

export interface UsageOptions {
  /** A key name or id (all its plans). */
  readonly key?: string;
  /** A plan name or id (all its keys, or only `key`'s usage in it). */
  readonly plan?: string;
  /** YYYY-MM-DD, default 6 days before `to`. */
  readonly from?: string;
  /** YYYY-MM-DD, default today (UTC). */
  readonly to?: string;
  readonly today?: () => Date;
}

const DAY_MS = 86_400_000;

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function parseDay(text: string, what: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    throw new UsageError(`${what} must be a date like 2026-01-31, not "${text}".`);
  }
  return new Date(`${text}T00:00:00Z`);
}

/** Daily use of a key (in each of its plans) or of every key of a plan, with the quota. */
export async function usageReport(client: APIGatewayClient, options: UsageOptions): Promise<UsageReport> {
  if (!options.key && !options.plan) throw new UsageError('Name a key (NAME|ID) or a plan (--plan NAME).');
  const today = (options.today ?? (() => new Date()))();
  const toDate = options.to ? parseDay(options.to, '--to') : new Date(`${isoDay(today)}T00:00:00Z`);
  const fromDate = options.from ? parseDay(options.from, '--from') : new Date(toDate.getTime() - 6 * DAY_MS);
  if (fromDate > toDate) throw new UsageError(`--from ${isoDay(fromDate)} is after --to ${isoDay(toDate)}.`);
  const from = isoDay(fromDate);
  const to = isoDay(toDate);

  const key = options.key ? await resolveKey(client, options.key) : undefined;
  let plans: UsagePlan[];
  if (options.plan) {
    plans = [resolvePlan(await listUsagePlans(client), options.plan)];
  } else {
    plans = await listUsagePlans(client, key?.id);
    if (plans.length === 0) throw new UsageError(`Key "${key?.name}" (${key?.id}) is in no usage plan, so API Gateway records no usage for it.`);
  }

  const rows: UsageRow[] = [];
  const totals: UsageReport['totals'] = [];
  for (const plan of plans) {
    const items = await getPlanUsage(client, plan.id ?? '', from, to, key?.id);
    const names = new Map<string, string>();
    const byValue = new Map<string, string>();
    if (key) {
      names.set(key.id ?? '', key.name ?? '');
    } else {
      for (const m of await listUsagePlanKeys(client, plan.id ?? '')) {
        names.set(m.id ?? '', m.name ?? '');
        if (m.value) byValue.set(m.value, m.id ?? '');
      }
    }
    const quotaLimit = plan.quota?.limit;
    const quotaPeriod = plan.quota?.period;
    const quotaOffset = plan.quota?.offset;
    for (const [itemKey, days] of Object.entries(items).sort(([a], [b]) => (names.get(a) ?? a).localeCompare(names.get(b) ?? b))) {
      // AWS indexes the usage by key id (the documentation says "api_key"): accept both.
      const keyId = names.has(itemKey) ? itemKey : (byValue.get(itemKey) ?? itemKey);
      if (key && keyId !== key.id) continue;
      const keyName = names.get(keyId) ?? '';
      let used = 0;
      let remaining: number | undefined;
      days.forEach(([u, r], i) => {
        const date = isoDay(new Date(fromDate.getTime() + i * DAY_MS));
        const rem = quotaLimit === undefined ? undefined : r;
        rows.push({ date, keyId, keyName, planId: plan.id ?? '', planName: plan.name ?? '', used: u ?? 0, remaining: rem, quotaLimit, quotaPeriod, quotaOffset });
        used += u ?? 0;
        remaining = rem;
      });
      totals.push({ keyId, keyName, planId: plan.id ?? '', planName: plan.name ?? '', used, remaining, quotaLimit, quotaPeriod, quotaOffset });
    }
  }
  return { from, to, rows, totals };
}

/** The report's daily rows as CSV. */
export function usageToCsv(report: UsageReport): string {
  const lines = ['date,keyName,keyId,planName,planId,used,remaining,quotaLimit,quotaPeriod'];
  for (const r of report.rows) {
    lines.push([r.date, r.keyName, r.keyId, r.planName, r.planId, r.used, r.remaining, r.quotaLimit, r.quotaPeriod].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}
