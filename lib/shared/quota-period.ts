/**
 * The usage-plan quota period: one rule for every layer (the local gateway's counters, the
 * quota-usage job, the ops CLI's usage chart). Periods are in UTC. The offset is the day the
 * period starts, as CloudFormation's `QuotaSettings.Offset` documents it: for WEEK 0 = Sunday,
 * 1 = Monday … 6 = Saturday; for MONTH 0 = the 1st (a day past the month's end is its last
 * day); for DAY it must be 0.
 */

export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

/** A quota's period and offset, as a usage plan carries them. */
export interface QuotaPeriodSettings {
  readonly period: QuotaPeriod | string;
  readonly offset?: number;
}

export const DAY_MS = 86_400_000;

/** Start (UTC ms) of the quota period containing `now`. */
export function periodStart(now: number, q: QuotaPeriodSettings): number {
  // Keyed by the settings object (asked on every request; a plan's quota object only changes by replacement).
  const c = periodCache.get(q);
  if (c && now >= c.dayStart && now < c.dayStart + DAY_MS) return c.start;
  const start = computePeriodStart(now, q);
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  periodCache.set(q, { dayStart, start });
  return start;
}

const periodCache = new WeakMap<object, { dayStart: number; start: number }>();

function computePeriodStart(now: number, q: QuotaPeriodSettings): number {
  const d = new Date(now);
  const day0 = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const offset = Math.max(0, Math.floor(q.offset || 0));
  switch (q.period) {
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
    default:
      return day0;
  }
}

/** Start of the period after the one containing `now`. */
export function nextPeriodStart(now: number, q: QuotaPeriodSettings): number {
  const start = periodStart(now, q);
  if (q.period === 'WEEK') return start + 7 * DAY_MS;
  if (q.period === 'MONTH') return periodStart(start + 32 * DAY_MS, q); // a day safely inside the next month
  return start + DAY_MS;
}

/** `YYYY-MM-DD` of the period start for a UTC day given as `YYYY-MM-DD`. */
export function periodStartDay(day: string, q: QuotaPeriodSettings): string {
  return new Date(computePeriodStart(Date.parse(`${day}T00:00:00Z`), q)).toISOString().slice(0, 10);
}
