/**
 * keygate's one retry policy for API Gateway's write limits, on top of the SDK's own retries:
 * the SDK retries a call a few times within its own budget; a write that still meets
 * throttling or a 409 "concurrent modification" (usage plan keys go one at a time per region)
 * is tried again here after a longer backoff.
 *
 * Exponential backoff with full jitter (the SDK's StandardRetryStrategy does the same), a
 * Retry-After header honoured, and an optional deadline: a backoff that would end after it
 * throws {@link DeadlineReached} instead of sleeping (the reconciler's Lambda run ends).
 */
import { isRetryableWrite, retryAfterMs } from './errors';

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryPolicyOptions {
  /** Attempts, the first one included. Default 8. */
  readonly maxAttempts?: number;
  /** First backoff ceiling in ms, doubled per attempt. Default 250. */
  readonly baseDelayMs?: number;
  /** Largest backoff ceiling in ms. Default 20 s. */
  readonly maxDelayMs?: number;
  /** Which errors are tried again. Default {@link isRetryableWrite}. */
  readonly retryable?: (err: unknown) => boolean;
  /** Epoch ms by which every attempt and backoff must be over. Default: none. */
  readonly deadline?: number;
  readonly sleep?: Sleep;
  /** Jitter source in [0, 1). Default Math.random. */
  readonly random?: () => number;
  readonly now?: () => number;
}

/** Longest wait a Retry-After header may ask for (it is also capped by the deadline). */
export const MAX_RETRY_AFTER_MS = 30_000;

/** A run out of its time budget: not a failure, the next run carries on. */
export class DeadlineReached extends Error {
  constructor(operation: string) {
    super(`${operation}: no time left in this run for another attempt`);
    this.name = 'DeadlineReached';
  }
}

export class RetryPolicy {
  /** Backoffs taken so far. */
  public retries = 0;
  public readonly maxAttempts: number;
  public readonly sleep: Sleep;

  constructor(private readonly options: RetryPolicyOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.sleep = options.sleep ?? realSleep;
  }

  /** True when no attempt may start any more. */
  public pastDeadline(): boolean {
    return this.options.deadline !== undefined && this.now() >= this.options.deadline;
  }

  /**
   * Runs `task` until it succeeds, fails with an error that is not retryable, or has used
   * its attempts; the last error is thrown (through `onFailure` when given).
   */
  public async run<T>(operation: string, task: () => Promise<T>, onFailure: (err: unknown) => unknown = (err) => err): Promise<T> {
    if (this.pastDeadline()) throw new DeadlineReached(operation);
    for (let attempt = 1; ; attempt++) {
      try {
        return await task();
      } catch (err) {
        if (attempt >= this.maxAttempts || !(this.options.retryable ?? isRetryableWrite)(err)) throw onFailure(err);
        const wait = this.backoffMs(attempt, err);
        if (this.options.deadline !== undefined && this.now() + wait >= this.options.deadline) throw new DeadlineReached(operation);
        this.retries++;
        await this.sleep(wait);
      }
    }
  }

  /** The wait after failed attempt `attempt` (1-based): full jitter, at least a Retry-After. */
  public backoffMs(attempt: number, err: unknown): number {
    const ceiling = Math.min(this.options.maxDelayMs ?? 20_000, (this.options.baseDelayMs ?? 250) * 2 ** (attempt - 1));
    const jittered = Math.ceil((this.options.random ?? Math.random)() * ceiling);
    const asked = retryAfterMs(err);
    return asked === undefined ? jittered : Math.min(MAX_RETRY_AFTER_MS, Math.max(asked, jittered));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
