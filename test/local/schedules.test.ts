import { describeRate, rateMs, ScheduleRunner } from '../../lib/local/schedules';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');

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
    const runner = new ScheduleRunner([
      { stack: 'S', ruleLogicalId: 'Hourly', rateMs: HOUR, lambdaArn: 'arn:hourly', event: { job: 'hourly' } },
      { stack: 'S', ruleLogicalId: 'Daily', rateMs: DAY, lambdaArn: 'arn:daily', event: { job: 'daily' } },
    ], async (arn) => { calls.push(arn); return { ok: arn }; }, { clock: () => now, startedAt: T0, log: () => undefined });

    // WHEN nothing is due yet
    expect(await runner.runDue()).toEqual([]);

    // WHEN an hour passes
    now = T0 + HOUR;
    expect((await runner.runDue()).map((r) => r.rule)).toEqual(['S/Hourly']);

    // WHEN the clock jumps 100 days
    now = T0 + 100 * DAY + 5 * 60_000;
    const runs = await runner.runDue();

    // THEN each runs once, with its result, and is next due after the new now
    expect(runs).toEqual([
      { rule: 'S/Hourly', lambdaArn: 'arn:hourly', at: now, result: { ok: 'arn:hourly' } },
      { rule: 'S/Daily', lambdaArn: 'arn:daily', at: now, result: { ok: 'arn:daily' } },
    ]);
    expect(calls).toEqual(['arn:hourly', 'arn:hourly', 'arn:daily']);
    expect(runner.nextRuns().map((r) => r.at)).toEqual([T0 + 100 * DAY + HOUR, T0 + 101 * DAY]);
    expect(await runner.runDue()).toEqual([]);
  });

  test('a failed run is logged and returned; the schedule keeps going', async () => {
    let now = T0 + HOUR;
    const log: string[] = [];
    const runner = new ScheduleRunner([{ stack: 'S', ruleLogicalId: 'Retire', rateMs: HOUR, lambdaArn: 'arn:fn', event: {} }],
      async () => { throw new Error('boom'); }, { clock: () => now, startedAt: T0, log: (line) => log.push(line) });
    expect(await runner.runDue()).toEqual([{ rule: 'S/Retire', lambdaArn: 'arn:fn', at: now, error: 'boom' }]);
    expect(log).toEqual(['keygate local: scheduled job S/Retire failed: boom']);
    now += HOUR;
    expect(await runner.runDue()).toHaveLength(1);
  });

  test('started, it runs what is due and wakes up when the next run is due, until stopped', async () => {
    jest.useFakeTimers({ now: T0 });
    try {
      const calls: unknown[] = [];
      const runner = new ScheduleRunner([{ stack: 'S', ruleLogicalId: 'Retire', rateMs: HOUR, lambdaArn: 'arn:fn', event: { action: 'retire' } }],
        async (arn, event) => { calls.push([arn, event]); }, { clock: Date.now, startedAt: T0, log: () => undefined });
      runner.start();
      await jest.advanceTimersByTimeAsync(HOUR * 2 + 1);
      runner.stop();
      await jest.advanceTimersByTimeAsync(HOUR * 5);
      expect(calls).toEqual([['arn:fn', { action: 'retire' }], ['arn:fn', { action: 'retire' }]]);
    } finally {
      jest.useRealTimers();
    }
  });
});
