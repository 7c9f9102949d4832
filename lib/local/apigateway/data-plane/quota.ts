/**
 * Usage-plan quotas: requests per key per plan per period (DAY, WEEK or MONTH in UTC,
 * with an offset), summed over the plan's stages, with a day-by-day history for GetUsage.
 */
import { DAY_MS, nextPeriodStart, periodStart } from '../../../shared/quota-period';
import { QuotaSettings } from '../model';

export { nextPeriodStart, periodStart };

let dayCache = { start: 0, end: -1, day: '' };

/** `YYYY-MM-DD` of a UTC instant (cached for the current day: it is asked on every request). */
export function utcDay(ms: number): string {
  if (ms >= dayCache.start && ms < dayCache.end) return dayCache.day;
  const day = new Date(ms).toISOString().slice(0, 10);
  const start = Date.parse(`${day}T00:00:00Z`);
  dayCache = { start, end: start + DAY_MS, day };
  return day;
}

/** Counters: planId → keyId → day → requests counted. */
export type UsageCounts = Record<string, Record<string, Record<string, number>>>;

export class QuotaCounter {
  /** Day-by-day counts, the persisted truth. */
  readonly counts: UsageCounts;
  /** Cache of the current period's total, by plan id then key id (no string building per request). */
  private readonly current = new Map<string, Map<string, { start: number; used: number }>>();

  private currentOf(planId: string): Map<string, { start: number; used: number }> {
    let m = this.current.get(planId);
    if (!m) { m = new Map(); this.current.set(planId, m); }
    return m;
  }

  constructor(initial: UsageCounts = {}) {
    this.counts = initial;
  }

  private daysOf(planId: string, keyId: string): Record<string, number> {
    const plan = (this.counts[planId] ??= {});
    return (plan[keyId] ??= {});
  }

  /** Requests counted in the period containing `now`. */
  used(planId: string, keyId: string, q: QuotaSettings, now: number): number {
    const start = periodStart(now, q);
    const c = this.current.get(planId)?.get(keyId);
    if (c && c.start === start) return c.used;
    const days = this.counts[planId]?.[keyId] ?? {};
    const from = utcDay(start);
    const to = utcDay(now);
    let used = 0;
    for (const [day, n] of Object.entries(days)) if (day >= from && day <= to) used += n;
    this.currentOf(planId).set(keyId, { start, used });
    return used;
  }

  remaining(planId: string, keyId: string, q: QuotaSettings, now: number): number {
    return Math.max(0, q.limit - this.used(planId, keyId, q, now));
  }

  /** Counts one request (for any plan, with or without a quota, so GetUsage sees it). */
  count(planId: string, keyId: string, q: QuotaSettings | undefined, now: number): void {
    const days = this.daysOf(planId, keyId);
    const day = utcDay(now);
    days[day] = (days[day] ?? 0) + 1;
    const c = this.current.get(planId)?.get(keyId);
    if (c && q && c.start === periodStart(now, q)) c.used++;
    else if (c) this.current.get(planId)!.delete(keyId);
  }

  /** Daily [used, remaining] pairs from startDate to endDate (inclusive, `YYYY-MM-DD`), as GetUsage returns. */
  usage(planId: string, keyId: string, q: QuotaSettings | undefined, startDate: string, endDate: string): [number, number][] {
    const days = this.counts[planId]?.[keyId] ?? {};
    const out: [number, number][] = [];
    const start = Date.parse(`${startDate}T00:00:00Z`);
    const end = Date.parse(`${endDate}T00:00:00Z`);
    for (let t = start; t <= end && out.length < 1000; t += DAY_MS) {
      const day = utcDay(t);
      const used = days[day] ?? 0;
      let remaining = 0;
      if (q) {
        const pStart = utcDay(periodStart(t, q));
        let sum = 0;
        for (const [d, n] of Object.entries(days)) if (d >= pStart && d <= day) sum += n;
        remaining = Math.max(0, q.limit - sum);
      }
      out.push([used, remaining]);
    }
    return out;
  }
}
