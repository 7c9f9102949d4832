import { describeRate, rateMs, ScheduledJob, ScheduleRunner } from '../../lib/local/events/schedules';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');

/** A job that records its runs in `calls` (and fails when `fail` says so). */
function job(name: string, every: number, calls: string[], options: { firstDueAt?: number; fail?: () => boolean } = {}): ScheduledJob {
  return {
    name, rateMs: every, firstDueAt: options.firstDueAt,
    run: async () => {
      calls.push(name);
      if (options.fail?.()) throw new Error('boom');
      return { ok: name };
    },
  };
}

describe('schedule rules', () => {
  test('rate expressions in minutes, hours and days; nothing else', () => {
    expect(rateMs('rate(1 hour)')).toBe(3_600_000);
    expect(rateMs('rate(5 minutes)')).toBe(300_000);
    expect(rateMs('rate(90 days)')).toBe(90 * 86_400_000);
    expect(rateMs('cron(0 12 * * ? *)')).toBeUndefined();
    expect(rateMs('rate(1 fortnight)')).toBeUndefined();
    expect([describeRate(HOUR), describeRate(15 * 60_000), describeRate(DAY)]).toEqual(['every hour', 'every 15 minutes', 'every day']);
  });

  test('a rule is due every rate on the gateway\'s clock; a jump of the clock runs it once, not once per skipped period', async () => {
    // GIVEN an hourly and a daily job, and the gateway's clock at its start
    let now = T0;
    const calls: string[] = [];
    const runner = new ScheduleRunner([job('S/Hourly', HOUR, calls), job('S/Daily', DAY, calls)], { clock: () => now, startedAt: T0, log: () => undefined });

    // WHEN nothing is due yet
    expect(await runner.runDue()).toEqual([]);

    // WHEN an hour passes
    now = T0 + HOUR;
    expect((await runner.runDue()).map((r) => r.job)).toEqual(['S/Hourly']);

    // WHEN the clock jumps 100 days
    now = T0 + 100 * DAY + 5 * 60_000;
    const runs = await runner.runDue();

    // THEN each runs once, with its result, and is next due after the new now
    expect(runs).toEqual([
      { job: 'S/Hourly', at: now, result: { ok: 'S/Hourly' } },
      { job: 'S/Daily', at: now, result: { ok: 'S/Daily' } },
    ]);
    expect(calls).toEqual(['S/Hourly', 'S/Hourly', 'S/Daily']);
    expect(runner.nextRuns().map((r) => r.at)).toEqual([T0 + 100 * DAY + HOUR, T0 + 101 * DAY]);
    expect(await runner.runDue()).toEqual([]);
  });

  test('a failed run is logged and returned; the schedule keeps going', async () => {
    let now = T0 + HOUR;
    const log: string[] = [];
    const runner = new ScheduleRunner([job('S/Retire', HOUR, [], { fail: () => true })], { clock: () => now, startedAt: T0, log: (line) => log.push(line) });
    expect(await runner.runDue()).toEqual([{ job: 'S/Retire', at: now, error: 'boom' }]);
    expect(log).toEqual(['keygate local: scheduled job S/Retire failed: boom']);
    now += HOUR;
    expect(await runner.runDue()).toHaveLength(1);
  });

  test('started, it runs what is due and wakes up when the next run is due, until stopped', async () => {
    jest.useFakeTimers({ now: T0 });
    try {
      const calls: string[] = [];
      const runner = new ScheduleRunner([job('S/Retire', HOUR, calls)], { clock: Date.now, startedAt: T0, log: () => undefined });
      void runner.start();
      await jest.advanceTimersByTimeAsync(HOUR * 2 + 1);
      runner.stop();
      await jest.advanceTimersByTimeAsync(HOUR * 5);
      expect(calls).toEqual(['S/Retire', 'S/Retire']);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a job with its own first due time (a secret rotated 80 days ago, every 90 days) is due from then, not from the start', async () => {
    let now = T0;
    const calls: string[] = [];
    const runner = new ScheduleRunner([job('rotation of s', 90 * DAY, calls, { firstDueAt: T0 + 10 * DAY })], { clock: () => now, startedAt: T0, log: () => undefined });
    now = T0 + 9 * DAY;
    expect(await runner.runDue()).toEqual([]);
    now = T0 + 10 * DAY;
    expect((await runner.runDue()).map((r) => r.job)).toEqual(['rotation of s']);
    expect(runner.nextRuns()[0].at).toBe(T0 + 100 * DAY);
  });
});
