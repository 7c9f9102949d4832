import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { startLocalGateway } from '../../lib/local';
import { CronSyntaxError, nextCronRun, parseCron } from '../../lib/local/events/cron';
import { describeRate, EVENTBRIDGE_DEFAULT_RETRY, rateMs, retryDelayMs, ScheduledJob, ScheduleRunner } from '../../lib/local/events/schedules';
import { tmpDir } from './fixtures';

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

describe('EventBridge cron expressions (UTC)', () => {
  const next = (expr: string, after: string): string => new Date(nextCronRun(parseCron(expr), Date.parse(after))!).toISOString();

  test('the examples of the EventBridge documentation', () => {
    // 2026-12-01 is a Tuesday.
    expect(next('cron(0 10 * * ? *)', '2026-12-01T10:00:00Z')).toBe('2026-12-02T10:00:00.000Z');
    expect(next('cron(15 12 * * ? *)', '2026-12-01T09:00:00Z')).toBe('2026-12-01T12:15:00.000Z');
    expect(next('cron(0 18 ? * MON-FRI *)', '2026-12-04T18:00:00Z')).toBe('2026-12-07T18:00:00.000Z');
    expect(next('cron(0 8 1 * ? *)', '2026-12-01T08:00:00Z')).toBe('2027-01-01T08:00:00.000Z');
    expect(next('cron(0/15 * * * ? *)', '2026-12-01T09:46:10Z')).toBe('2026-12-01T10:00:00.000Z');
    expect(next('cron(0/5 8-17 ? * MON-FRI *)', '2026-12-04T17:55:00Z')).toBe('2026-12-07T08:00:00.000Z');
    expect(next('cron(0 9 ? * 2#1 *)', '2026-12-01T00:00:00Z')).toBe('2026-12-07T09:00:00.000Z');
    expect(next('cron(0 0 L * ? *)', '2026-02-01T00:00:00Z')).toBe('2026-02-28T00:00:00.000Z');
    expect(next('cron(0 0 ? * 6L *)', '2026-12-01T00:00:00Z')).toBe('2026-12-25T00:00:00.000Z');
    // The 15th of August 2026 is a Saturday: the nearest weekday is Friday the 14th; LW is the last weekday.
    expect(next('cron(0 0 15W * ? *)', '2026-08-01T00:00:00Z')).toBe('2026-08-14T00:00:00.000Z');
    expect(next('cron(0 0 LW * ? *)', '2026-05-01T00:00:00Z')).toBe('2026-05-29T00:00:00.000Z');
    expect(next('cron(30 1 1,15 JAN,JUL ? 2027-2028)', '2026-12-01T00:00:00Z')).toBe('2027-01-01T01:30:00.000Z');
    expect(nextCronRun(parseCron('cron(0 0 1 1 ? 2020)'), Date.parse('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  test('what EventBridge refuses is refused, naming the field', () => {
    expect(() => parseCron('cron(0 10 * * * *)')).toThrow(/exactly one of day-of-month and day-of-week must be \?/);
    expect(() => parseCron('cron(0 10 ? * ? *)')).toThrow(CronSyntaxError);
    expect(() => parseCron('cron(0 10 * * ?)')).toThrow(/takes 6 fields/);
    expect(() => parseCron('cron(60 10 * * ? *)')).toThrow(/minutes field: 60 is not in 0-59/);
    expect(() => parseCron('cron(0 10 ? * FUNDAY *)')).toThrow(/day-of-week field/);
  });
});

describe('retries of a failed run', () => {
  test('EventBridge\'s default policy: exponential backoff from 1 s with jitter, capped at 10 minutes; 185 retries fit in its 24 hours', () => {
    expect([1, 2, 3, 10, 11, 100].map((n) => retryDelayMs(n, () => 0))).toEqual([500, 1000, 2000, 256_000, 300_000, 300_000]);
    expect([1, 2, 11].map((n) => retryDelayMs(n, () => 0.999999))).toEqual([1000, 2000, 600_000]);
    let longest = 0;
    for (let n = 1; n <= EVENTBRIDGE_DEFAULT_RETRY.maxRetries; n++) longest += retryDelayMs(n, () => 0.999999);
    expect(longest).toBeLessThan(EVENTBRIDGE_DEFAULT_RETRY.maxAgeMs + 12 * HOUR);
    expect(longest).toBeGreaterThan(20 * HOUR);
  });

  test('a failing job is retried until it succeeds, within its RetryPolicy (MaximumRetryAttempts 2: three attempts in all)', async () => {
    let now = T0 + HOUR;
    let failures = 5;
    const calls: string[] = [];
    const log: string[] = [];
    const flaky: ScheduledJob = { ...job('S/Flaky', HOUR, calls, { fail: () => failures-- > 0 }), retry: { maxRetries: 2, maxAgeMs: DAY } };
    const runner = new ScheduleRunner([flaky], { clock: () => now, startedAt: T0, log: (l) => log.push(l), random: () => 0 });
    expect(await runner.runDue()).toEqual([{ job: 'S/Flaky', at: now, error: 'boom' }]);
    expect(runner.pendingRetries()).toEqual([{ job: 'S/Flaky', attempt: 2, at: now + 500 }]);
    now += 500;
    expect(await runner.runDue()).toEqual([{ job: 'S/Flaky', at: now, error: 'boom', attempt: 2 }]);
    now += 1000;
    expect(await runner.runDue()).toEqual([{ job: 'S/Flaky', at: now, error: 'boom', attempt: 3 }]);
    expect(runner.pendingRetries()).toEqual([]);
    expect(log.at(-1)).toBe('keygate local: scheduled job S/Flaky (retry 2) failed: boom; no retries left');
    expect(calls).toHaveLength(3);
  });
});

/** An app with a cron rule and a rate rule whose Lambda targets append their runs to a file, one of them failing on its first call. */
function synthCronApp(marks: string): string {
  const outdir = tmpDir('cron');
  const app = new App({ outdir });
  const stack = new Stack(app, 'CronStack');
  const code = (name: string, failFirst: boolean): lambda.Code => lambda.Code.fromInline(`
    const fs = require('fs');
    exports.handler = async (event) => {
      const before = fs.existsSync(${JSON.stringify(marks)}) ? fs.readFileSync(${JSON.stringify(marks)}, 'utf8').split('\\n').filter((l) => l.startsWith('${name}')).length : 0;
      fs.appendFileSync(${JSON.stringify(marks)}, '${name} ' + new Date().toISOString() + '\\n');
      if (${failFirst} && before === 0) throw new Error('flaky first run');
      return { ok: true };
    };`);
  const daily = new lambda.Function(stack, 'Daily', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: code('daily', false) });
  new events.Rule(stack, 'At1030', { schedule: events.Schedule.expression('cron(30 10 * * ? *)'), targets: [new targets.LambdaFunction(daily)] });
  const flaky = new lambda.Function(stack, 'Flaky', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: code('flaky', true) });
  new events.Rule(stack, 'Hourly', { schedule: events.Schedule.rate(Duration.hours(1)), targets: [new targets.LambdaFunction(flaky)] });
  app.synth();
  return outdir;
}

describe('schedules of a running gateway', () => {
  let marks: string;
  let asm: string;
  const count = (name: string): number => (fs.existsSync(marks) ? fs.readFileSync(marks, 'utf8').split('\n').filter((l) => l.startsWith(name)).length : 0);

  beforeEach(() => {
    marks = path.join(tmpDir('cron-marks'), 'runs.txt');
    asm = synthCronApp(marks);
  }, 60_000);

  test('a cron job runs at its minute on a moved clock; after a restart with --state it continues from its last run: once for what it missed, not per missed day', async () => {
    const state = path.join(tmpDir('cron-state'), 'state.json');
    let now = Date.parse('2026-12-01T10:00:00Z');
    let gw = await startLocalGateway({ assemblyDir: asm, port: 0, statePath: state, clock: () => now, deployedAt: now, log: () => undefined });
    try {
      const daily = gw.scheduledJobs.find((j) => j.job.name.startsWith('CronStack/At1030'))!;
      expect(new Date(daily.nextRunAt).toISOString()).toBe('2026-12-01T10:30:00.000Z');
      expect(gw.info.scheduledJobs.find((j) => j.name === daily.job.name)?.every).toBe('cron(30 10 * * ? *) (UTC)');
      now = Date.parse('2026-12-01T10:29:59Z');
      expect((await gw.runDueJobs()).filter((r) => r.job === daily.job.name)).toEqual([]);
      now = Date.parse('2026-12-01T10:30:00Z');
      expect((await gw.runDueJobs()).filter((r) => r.job === daily.job.name)).toEqual([{ job: daily.job.name, at: now, result: { ok: true } }]);
      expect(count('daily')).toBe(1);
    } finally {
      await gw.close();
    }
    expect(JSON.parse(fs.readFileSync(state, 'utf8')).schedules).toMatchObject({ 'CronStack/At10302C750A96': Date.parse('2026-12-01T10:30:00Z') });

    // Restarted the same day after its run: nothing is due at start.
    now = Date.parse('2026-12-01T12:00:00Z');
    gw = await startLocalGateway({ assemblyDir: asm, port: 0, statePath: state, clock: () => now, deployedAt: Date.parse('2026-12-01T10:00:00Z'), log: () => undefined });
    await gw.close();
    expect(count('daily')).toBe(1);

    // Stopped over three 10:30s: it runs once at start, then at the next 10:30.
    now = Date.parse('2026-12-04T11:00:00Z');
    gw = await startLocalGateway({ assemblyDir: asm, port: 0, statePath: state, clock: () => now, deployedAt: Date.parse('2026-12-01T10:00:00Z'), log: () => undefined });
    try {
      expect(count('daily')).toBe(2);
      expect(new Date(gw.scheduledJobs.find((j) => j.job.name.startsWith('CronStack/At1030'))!.nextRunAt).toISOString()).toBe('2026-12-05T10:30:00.000Z');
    } finally {
      await gw.close();
    }
  }, 60_000);

  test('a failed run is retried (EventBridge\'s default policy) and the retry succeeds', async () => {
    let now = Date.parse('2026-12-01T10:00:00Z');
    const lines: string[] = [];
    const gw = await startLocalGateway({ assemblyDir: asm, port: 0, clock: () => now, deployedAt: now, log: (l) => lines.push(l) });
    try {
      now += HOUR;
      const [first] = (await gw.runDueJobs()).filter((r) => r.job.startsWith('CronStack/Hourly'));
      expect(first.error).toMatch(/flaky first run/);
      expect(lines.find((l) => l.includes('CronStack/Hourly') && l.includes('failed'))).toMatch(/; retry 1 at \d{4}-\d\d-\d\dT/);
      now += 1000;
      const [retry] = (await gw.runDueJobs()).filter((r) => r.job.startsWith('CronStack/Hourly'));
      expect(retry).toMatchObject({ attempt: 2, result: { ok: true } });
      expect(count('flaky')).toBe(2);
      // Each attempt counts in AWS/Lambda (what an alarm on the function's Errors reads).
      const lambdaPoints = gw.cloudwatch.allDataPoints().filter((p) => p.namespace === 'AWS/Lambda' && p.dimensions.FunctionName.includes('Flaky'));
      const sum = (name: string): number => lambdaPoints.filter((p) => p.metricName === name).reduce((n, p) => n + (p.statistics?.sum ?? 0), 0);
      expect([sum('Invocations'), sum('Errors')]).toEqual([2, 1]);
    } finally {
      await gw.close();
    }
  }, 60_000);
});
