/**
 * EventBridge's six-field cron expressions, `cron(minutes hours day-of-month month day-of-week year)`,
 * in UTC: `*`, `,`, `-`, `/` in every field; `?` in one of the two day fields (exactly one of them);
 * `L` (last day of the month, or `5L`: the last Thursday), `W` (`15W`: the weekday nearest the
 * 15th, within the month; `LW`: the last weekday), `#` (`3#2`: the second Tuesday) as EventBridge
 * documents them. Months `JAN`–`DEC`, days `SUN`–`SAT` (1 = Sunday). Years 1970–2199.
 * (cron-parser and friends read the five- or six-field Unix dialect with seconds, not this one.)
 */

const MINUTE = 60_000;
const DAY_MS = 86_400_000;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** A parsed cron expression. */
export interface CronSchedule {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  /** Whether a UTC date matches the two day fields. */
  matchesDay(year: number, month: number, day: number): boolean;
}

export class CronSyntaxError extends Error {}

/** Parses `cron(…)`; throws CronSyntaxError naming the bad field. */
export function parseCron(expression: string): CronSchedule {
  const m = /^cron\((.*)\)$/.exec(expression.trim());
  if (!m) throw new CronSyntaxError(`${expression} is not a cron(...) expression`);
  const fields = m[1].trim().split(/\s+/);
  if (fields.length !== 6) throw new CronSyntaxError(`${expression}: EventBridge cron takes 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  const [min, hour, dom, month, dow, year] = fields;
  if ((dom === '?') === (dow === '?')) throw new CronSyntaxError(`${expression}: exactly one of day-of-month and day-of-week must be ?`);
  const dayOfMonth = dom === '?' ? undefined : dayOfMonthMatcher(dom, expression);
  const dayOfWeek = dow === '?' ? undefined : dayOfWeekMatcher(dow, expression);
  return {
    expression,
    minutes: numbers(min, 0, 59, 'minutes', expression),
    hours: numbers(hour, 0, 23, 'hours', expression),
    months: numbers(month, 1, 12, 'month', expression, MONTHS),
    years: numbers(year, 1970, 2199, 'year', expression),
    matchesDay: (y, mo, d) => (dayOfMonth ? dayOfMonth(y, mo, d) : true) && (dayOfWeek ? dayOfWeek(y, mo, d) : true),
  };
}

/** The first time strictly after `after` (ms since the epoch) that the schedule fires; undefined if it never does again. */
export function nextCronRun(cron: CronSchedule, after: number): number | undefined {
  const start = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const maxYear = Math.max(...cron.years);
  for (let day = Math.floor(start / DAY_MS) * DAY_MS; ; day += DAY_MS) {
    const date = new Date(day);
    const y = date.getUTCFullYear();
    if (y > maxYear) return undefined;
    const mo = date.getUTCMonth() + 1;
    if (!cron.years.has(y) || !cron.months.has(mo) || !cron.matchesDay(y, mo, date.getUTCDate())) continue;
    for (const h of [...cron.hours].sort((a, b) => a - b)) {
      for (const mi of [...cron.minutes].sort((a, b) => a - b)) {
        const t = day + h * 3_600_000 + mi * MINUTE;
        if (t >= start) return t;
      }
    }
  }
}

function daysInMonth(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

function weekday(y: number, mo: number, d: number): number {
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDay() + 1;
}

/** `*`, `a`, `a-b`, `a/n`, `a-b/n`, `*`/n, comma lists; names for months and days. */
function numbers(field: string, lo: number, hi: number, name: string, expression: string, names?: string[]): Set<number> {
  const value = (s: string): number => {
    const byName = names?.indexOf(s.toUpperCase()) ?? -1;
    const n = byName >= 0 ? byName + 1 : /^\d+$/.test(s) ? Number(s) : Number.NaN;
    if (!(n >= lo && n <= hi)) throw new CronSyntaxError(`${expression}: ${name} field: ${s} is not in ${lo}-${hi}`);
    return n;
  };
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronSyntaxError(`${expression}: ${name} field: bad step in ${part}`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [lo, hi];
    else if (range.includes('-')) [from, to] = range.split('-').map(value) as [number, number];
    else [from, to] = [value(range), stepText === undefined ? value(range) : hi];
    if (from > to) throw new CronSyntaxError(`${expression}: ${name} field: ${part} runs backwards`);
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

function dayOfMonthMatcher(field: string, expression: string): (y: number, mo: number, d: number) => boolean {
  if (field === 'L') return (y, mo, d) => d === daysInMonth(y, mo);
  if (field === 'LW') return (y, mo, d) => d === nearestWeekday(y, mo, daysInMonth(y, mo));
  const w = /^(\d{1,2})W$/.exec(field);
  if (w) {
    const target = Number(w[1]);
    if (target < 1 || target > 31) throw new CronSyntaxError(`${expression}: day-of-month field: ${field}`);
    return (y, mo, d) => target <= daysInMonth(y, mo) && d === nearestWeekday(y, mo, target);
  }
  const days = numbers(field, 1, 31, 'day-of-month', expression);
  return (_y, _mo, d) => days.has(d);
}

/** The weekday (Monday–Friday) nearest `target` within the month. */
function nearestWeekday(y: number, mo: number, target: number): number {
  const wd = weekday(y, mo, target);
  if (wd === 7) return target === 1 ? 3 : target - 1;
  if (wd === 1) return target === daysInMonth(y, mo) ? target - 2 : target + 1;
  return target;
}

function dayOfWeekMatcher(field: string, expression: string): (y: number, mo: number, d: number) => boolean {
  const hash = /^([A-Za-z]{3}|\d)#([1-5])$/.exec(field);
  if (hash) {
    const wd = [...numbers(hash[1], 1, 7, 'day-of-week', expression, DAYS)][0];
    const nth = Number(hash[2]);
    return (y, mo, d) => weekday(y, mo, d) === wd && Math.ceil(d / 7) === nth;
  }
  const last = /^([A-Za-z]{3}|\d)?L$/.exec(field);
  if (last) {
    if (last[1] === undefined) return (y, mo, d) => weekday(y, mo, d) === 7;
    const wd = [...numbers(last[1], 1, 7, 'day-of-week', expression, DAYS)][0];
    return (y, mo, d) => weekday(y, mo, d) === wd && d + 7 > daysInMonth(y, mo);
  }
  const days = numbers(field, 1, 7, 'day-of-week', expression, DAYS);
  return (y, mo, d) => days.has(weekday(y, mo, d));
}
