/**
 * Usage-plan quotas: requests per key per plan per period (DAY, WEEK or MONTH in UTC,
 * with an offset), summed over the plan's stages, with a day-by-day history for GetUsage.
 */
import { QuotaSettings } from '../model';

const DAY_MS = 86_400_000;

let dayCache = { start: 0, end: -1, day: '' };

/** `YYYY-MM-DD` of a UTC instant (cached for the current day: it is asked on every request). */
export function utcDay(ms: number): string {
  if (ms >= dayCache.start && ms < dayCache.end) return dayCache.day;
  const day = new Date(ms).toISOString().slice(0, 10);
  const start = Date.parse(`${day}T00:00:00Z`);
  dayCache = { start, end: start + DAY_MS, day };
  return day;
}

/**
 * Start (UTC ms) of the quota period containing `now`. The offset is the day the period
 * starts: for WEEK 0 = Sunday … 6 = Saturday; for MONTH 0 = the 1st; for DAY it must be 0.
 */
export function periodStart(now: number, q: Pick<QuotaSettings, 'period' | 'offset'>): number {
  // Keyed by the settings object (asked on every request, and a plan's quota object only changes by replacement).
  const c = periodCache.get(q);
  if (c && now >= c.dayStart && now < c.dayStart + DAY_MS) return c.start;
  const start = computePeriodStart(now, q);
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  periodCache.set(q, { dayStart, start });
  return start;
}

const periodCache = new WeakMap<object, { dayStart: number; start: number }>();

function computePeriodStart(now: number, q: Pick<QuotaSettings, 'period' | 'offset'>): number {
  const d = new Date(now);
  const day0 = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const offset = Math.max(0, Math.floor(q.offset || 0));
  switch (q.period) {
    case 'DAY':
      return day0;
    case 'WEEK': {
      const back = (d.getUTCDay() - (offset % 7) + 7) % 7;
      return day0 - back * DAY_MS;
    }
    case 'MONTH': {
      const startIn = (y: number, m: number): number => {
        const len = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
        return Date.UTC(y, m, Math.min(offset + 1, len));
      };
      const thisMonth = startIn(d.getUTCFullYear(), d.getUTCMonth());
      return day0 >= thisMonth ? thisMonth : startIn(d.getUTCFullYear(), d.getUTCMonth() - 1);
    }
  }
  return day0;
}

/** Start of the period after the one containing `now`. */
export function nextPeriodStart(now: number, q: Pick<QuotaSettings, 'period' | 'offset'>): number {
  const start = periodStart(now, q);
  if (q.period === 'DAY') return start + DAY_MS;
  if (q.period === 'WEEK') return start + 7 * DAY_MS;
  // MONTH: the period start of a day safely inside the next month.
  return periodStart(start + 32 * DAY_MS, q);
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
