import { rateMs, ScheduleRunner } from '../../lib/local/schedules';

describe('schedule rules', () => {
  test('rate expressions in minutes, hours and days; nothing else', () => {
    expect(rateMs('rate(1 hour)')).toBe(3_600_000);
    expect(rateMs('rate(5 minutes)')).toBe(300_000);
    expect(rateMs('rate(90 days)')).toBe(90 * 86_400_000);
    expect(rateMs('cron(0 12 * * ? *)')).toBeUndefined();
    expect(rateMs('rate(1 fortnight)')).toBeUndefined();
  });

  test('each target is invoked with its input at its rate until stopped; a failure is logged', async () => {
    jest.useFakeTimers();
    try {
      const calls: unknown[] = [];
      const log: string[] = [];
      const runner = new ScheduleRunner([{ stack: 'S', ruleLogicalId: 'Retire', rateMs: 3_600_000, lambdaArn: 'arn:fn', event: { action: 'retire' } }],
        async (arn, event) => { calls.push([arn, event]); if (calls.length === 2) throw new Error('boom'); }, (line) => log.push(line));
      runner.start();
      await jest.advanceTimersByTimeAsync(3_600_000 * 2 + 1);
      runner.stop();
      await jest.advanceTimersByTimeAsync(3_600_000 * 5);
      expect(calls).toEqual([['arn:fn', { action: 'retire' }], ['arn:fn', { action: 'retire' }]]);
      expect(log).toEqual(['keygate local: schedule S/Retire failed: boom']);
    } finally {
      jest.useRealTimers();
    }
  });
});
