/**
 * The app's schedules, run on the gateway's clock: EventBridge rules that invoke its Lambda
 * functions (keygate's expiry, hygiene and quota jobs, the hourly retirement of rotated keys)
 * and Secrets Manager rotation schedules. A job is due every `rate` or at its `cron` times
 * (counted from its last run in the state file, else from the gateway's start or its
 * `firstDueAt`), and a due job runs once, however many runs a jump of the clock (`--clock
 * +100d`) or a stopped gateway skipped, as a job that catches up. A failed run is retried with
 * exponential backoff and jitter under the job's retry policy (EventBridge's: 185 attempts,
 * 24 hours).
 */
import { CronSchedule, nextCronRun } from './cron';

/** One Lambda target of a `rate(...)` or `cron(...)` rule, as the model builder reads it. */
export interface ScheduledInvocation {
  readonly stack: string;
  readonly ruleLogicalId: string;
  /** The rule's Description, if any. */
  readonly description?: string;
  /** Set for `rate(...)`. */
  readonly rateMs?: number;
  /** Set for `cron(...)`. */
  readonly cron?: CronSchedule;
  readonly lambdaArn: string;
  readonly event: object;
  /** The target's RetryPolicy, or EventBridge's default. */
  readonly retry?: RetryPolicy;
}

/** How a failed run is retried: EventBridge's target RetryPolicy (default 185 attempts in all, over at most 24 hours). */
export interface RetryPolicy {
  /** Retries after the first attempt (EventBridge's MaximumRetryAttempts; default 185). */
  readonly maxRetries: number;
  /** No retry starts later than this after the first attempt (MaximumEventAgeInSeconds; default 24 hours). */
  readonly maxAgeMs: number;
}

export const EVENTBRIDGE_DEFAULT_RETRY: RetryPolicy = { maxRetries: 185, maxAgeMs: 86_400_000 };

/** Something the runner runs on a schedule: every `rateMs`, or at the times of `cron`. */
export interface ScheduledJob {
  /** e.g. `Stack/RuleLogicalId`, or `rotation of <secret name>` */
  readonly name: string;
  readonly description?: string;
  readonly rateMs?: number;
  readonly cron?: CronSchedule;
  /** When the first run is due (gateway clock). Default: the first time after the runner's `startedAt`. */
  readonly firstDueAt?: number;
  /** Retries of a failed run; none if absent. */
  readonly retry?: RetryPolicy;
  run(): Promise<unknown>;
}

/** What one run of a schedule did. */
export interface ScheduleRun {
  readonly job: string;
  /** When it ran, on the gateway's clock (ms since the epoch). */
  readonly at: number;
  readonly result?: unknown;
  /** The function's error, when it failed. */
  readonly error?: string;
  /** 1 for a scheduled run, 2… for its retries. */
  readonly attempt?: number;
}

export interface ScheduleRunnerOptions {
  /** The gateway's clock (ms since the epoch). */
  readonly clock: () => number;
  /** When the schedules start counting (the gateway's start, on its clock). */
  readonly startedAt: number;
  readonly log: (line: string) => void;
  /**
   * Each job's last scheduled run (gateway clock) by name, from the state file; the runner
   * updates it in place. A job with a last run continues from it: if its next run fell while
   * the gateway was stopped, it runs once at start.
   */
  readonly lastRuns?: Record<string, number>;
  /** Called after each run (to save the state, evaluate the alarms). */
  readonly afterRun?: () => void | Promise<void>;
  /** Jitter source in [0, 1); default Math.random. */
  readonly random?: () => number;
}

/** A retry waiting for its time. */
interface PendingRetry {
  readonly job: number;
  readonly attempt: number;
  readonly firstAttemptAt: number;
  readonly dueAt: number;
}

/**
 * Delay before retry `n` (1-based): exponential from 1 s, doubling, capped at 10 minutes, with
 * jitter (a random 50–100 % of that). 185 attempts then span about 22 hours, inside EventBridge's 24.
 */
export function retryDelayMs(n: number, random: () => number = Math.random): number {
  return Math.round(Math.min(1000 * 2 ** (n - 1), 600_000) * (0.5 + random() / 2));
}

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };
/** Longest setTimeout Node accepts. */
const MAX_TIMER_MS = 2_147_483_647;
/** Shortest wait between checks, so a clock that runs ahead can't spin the timer. */
const MIN_TIMER_MS = 1000;

/** Milliseconds of a `rate(N unit)` expression; undefined for cron and anything else. */
export function rateMs(expression: string): number | undefined {
  const m = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}

/** When a job is due next after `after`. */
function nextAfter(job: ScheduledJob, after: number): number {
  if (job.cron) return nextCronRun(job.cron, after) ?? Number.POSITIVE_INFINITY;
  return after + (job.rateMs ?? Number.POSITIVE_INFINITY);
}

/** `every hour` / `cron(0 9 * * ? *) (UTC)`: a job's schedule, for output. */
export function describeSchedule(job: Pick<ScheduledJob, 'rateMs' | 'cron'>): string {
  if (job.cron) return `${job.cron.expression} (UTC)`;
  return job.rateMs === undefined ? 'never' : describeRate(job.rateMs);
}

/** `rate(1 day)`-style text of an interval, for output. */
export function describeRate(ms: number): string {
  for (const [unit, size] of [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000]] as const) {
    if (ms % size === 0) return `every ${ms / size === 1 ? '' : `${ms / size} `}${unit}${ms / size === 1 ? '' : 's'}`;
  }
  return `every ${ms} ms`;
}

export class ScheduleRunner {
  private readonly nextDue: number[];
  private retries: PendingRetry[] = [];
  private timer?: NodeJS.Timeout;
  private running: Promise<ScheduleRun[]> = Promise.resolve([]);
  private stopped = true;
  private readonly lastRuns: Record<string, number>;

  constructor(readonly jobs: readonly ScheduledJob[], private readonly opts: ScheduleRunnerOptions) {
    this.lastRuns = opts.lastRuns ?? {};
    this.nextDue = jobs.map((j) => {
      const last = this.lastRuns[j.name];
      if (last !== undefined) return nextAfter(j, last);
      return j.firstDueAt ?? nextAfter(j, opts.startedAt);
    });
  }

  /** When each job runs next, on the gateway's clock. */
  nextRuns(): { job: ScheduledJob; at: number }[] {
    return this.jobs.map((job, i) => ({ job, at: this.nextDue[i] }));
  }

  /** Retries waiting for their time: job name, attempt number (2 = first retry), when. */
  pendingRetries(): { job: string; attempt: number; at: number }[] {
    return this.retries.map((r) => ({ job: this.jobs[r.job].name, attempt: r.attempt, at: r.dueAt }));
  }

  /** Runs what is due now (resolves with those runs), then checks again whenever the next run is due. */
  start(): Promise<ScheduleRun[]> {
    this.stopped = false;
    return this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Runs, one after another, every schedule (and retry) whose time has come on the gateway's
   * clock (once each, however many runs were skipped); waits for a run in progress first.
   */
  runDue(): Promise<ScheduleRun[]> {
    this.running = this.running.then(() => this.runDueNow());
    return this.running;
  }

  private async tick(): Promise<ScheduleRun[]> {
    const runs = await this.runDue();
    if (this.stopped || this.jobs.length === 0) return runs;
    const wait = Math.min(...this.nextDue, ...this.retries.map((r) => r.dueAt)) - this.opts.clock();
    this.timer = setTimeout(() => void this.tick(), Math.min(MAX_TIMER_MS, Math.max(MIN_TIMER_MS, wait)));
    this.timer.unref();
    return runs;
  }

  private async runDueNow(): Promise<ScheduleRun[]> {
    const runs: ScheduleRun[] = [];
    for (const [i, job] of this.jobs.entries()) {
      const now = this.opts.clock();
      if (now < this.nextDue[i]) continue;
      // The next run is the first one after now: skipped runs are not made up one by one.
      this.nextDue[i] = job.cron || job.rateMs === undefined ? nextAfter(job, now) : this.nextDue[i] + Math.floor((now - this.nextDue[i]) / job.rateMs + 1) * job.rateMs;
      this.lastRuns[job.name] = now;
      runs.push(await this.attempt(i, 1, now, now));
    }
    const now = this.opts.clock();
    const due = this.retries.filter((r) => r.dueAt <= now);
    this.retries = this.retries.filter((r) => r.dueAt > now);
    for (const r of due) runs.push(await this.attempt(r.job, r.attempt, r.firstAttemptAt, this.opts.clock()));
    if (runs.length > 0) await this.opts.afterRun?.();
    return runs;
  }

  /** One attempt of a job; a failure schedules the next retry if the policy allows one. */
  private async attempt(i: number, attempt: number, firstAttemptAt: number, now: number): Promise<ScheduleRun> {
    const job = this.jobs[i];
    const label = attempt === 1 ? job.name : `${job.name} (retry ${attempt - 1})`;
    try {
      const result = await job.run();
      this.opts.log(`keygate local: scheduled job ${label} ran`);
      return { job: job.name, at: now, result, ...(attempt > 1 ? { attempt } : {}) };
    } catch (e) {
      const error = (e as Error).message;
      const policy = job.retry;
      const dueAt = now + retryDelayMs(attempt, this.opts.random);
      if (policy && attempt <= policy.maxRetries && dueAt - firstAttemptAt <= policy.maxAgeMs) {
        this.retries.push({ job: i, attempt: attempt + 1, firstAttemptAt, dueAt });
        this.opts.log(`keygate local: scheduled job ${label} failed: ${error}; retry ${attempt} at ${new Date(dueAt).toISOString()}`);
      } else {
        this.opts.log(`keygate local: scheduled job ${label} failed: ${error}${policy ? '; no retries left' : ''}`);
      }
      return { job: job.name, at: now, error, ...(attempt > 1 ? { attempt } : {}) };
    }
  }
}
