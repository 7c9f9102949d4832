/**
 * The app's schedules, run on the gateway's clock: EventBridge rules that invoke its Lambda
 * functions (keygate's expiry, hygiene and quota jobs, the hourly retirement of rotated keys)
 * and Secrets Manager rotation schedules. A job is due every `rate` (after the gateway
 * started, or after its `firstDueAt`), and a due job runs once, however many runs a jump of
 * the clock (`--clock +100d`) skipped, as a job that catches up.
 */

/** One Lambda target of a `rate(...)` rule, as the model builder reads it. */
export interface ScheduledInvocation {
  readonly stack: string;
  readonly ruleLogicalId: string;
  /** The rule's Description, if any. */
  readonly description?: string;
  readonly rateMs: number;
  readonly lambdaArn: string;
  readonly event: object;
}

/** Something the runner runs on a schedule. */
export interface ScheduledJob {
  /** e.g. `Stack/RuleLogicalId`, or `rotation of <secret name>` */
  readonly name: string;
  readonly description?: string;
  readonly rateMs: number;
  /** When the first run is due (gateway clock). Default: a rate after the runner's `startedAt`. */
  readonly firstDueAt?: number;
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
}

export interface ScheduleRunnerOptions {
  /** The gateway's clock (ms since the epoch). */
  readonly clock: () => number;
  /** When the schedules start counting (the gateway's start, on its clock). */
  readonly startedAt: number;
  readonly log: (line: string) => void;
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

/** `rate(1 day)`-style text of an interval, for output. */
export function describeRate(ms: number): string {
  for (const [unit, size] of [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000]] as const) {
    if (ms % size === 0) return `every ${ms / size === 1 ? '' : `${ms / size} `}${unit}${ms / size === 1 ? '' : 's'}`;
  }
  return `every ${ms} ms`;
}

export class ScheduleRunner {
  private readonly nextDue: number[];
  private timer?: NodeJS.Timeout;
  private running: Promise<ScheduleRun[]> = Promise.resolve([]);
  private stopped = true;

  constructor(readonly jobs: readonly ScheduledJob[], private readonly opts: ScheduleRunnerOptions) {
    this.nextDue = jobs.map((j) => j.firstDueAt ?? opts.startedAt + j.rateMs);
  }

  /** When each job runs next, on the gateway's clock. */
  nextRuns(): { job: ScheduledJob; at: number }[] {
    return this.jobs.map((job, i) => ({ job, at: this.nextDue[i] }));
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
   * Runs, one after another, every schedule whose time has come on the gateway's clock (once
   * each, however many runs were skipped); waits for a run in progress first.
   */
  runDue(): Promise<ScheduleRun[]> {
    this.running = this.running.then(() => this.runDueNow());
    return this.running;
  }

  private async tick(): Promise<ScheduleRun[]> {
    const runs = await this.runDue();
    if (this.stopped || this.jobs.length === 0) return runs;
    const wait = Math.min(...this.nextDue) - this.opts.clock();
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
      this.nextDue[i] += Math.floor((now - this.nextDue[i]) / job.rateMs + 1) * job.rateMs;
      try {
        const result = await job.run();
        this.opts.log(`keygate local: scheduled job ${job.name} ran`);
        runs.push({ job: job.name, at: now, result });
      } catch (e) {
        this.opts.log(`keygate local: scheduled job ${job.name} failed: ${(e as Error).message}`);
        runs.push({ job: job.name, at: now, error: (e as Error).message });
      }
    }
    return runs;
  }
}
