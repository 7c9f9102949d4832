/**
 * A token bucket: `rate` tokens per second, at most `burst` stored, full at the start. Pure:
 * the caller passes the time (ms), so the SDK layer's limiter (which waits for a token) and
 * the local gateway's throttle (which refuses a request without one) share the arithmetic.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  /** Whether a token is available at `now` (does not take it). */
  available(now: number): boolean {
    return this.level(now) >= 1;
  }

  /** Takes a token (the level may go below zero: a debt later refills pay). */
  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  /** Tokens stored at `now`. */
  level(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Milliseconds from `now` until a token is available (0 when one is). */
  waitMs(now: number): number {
    const level = this.level(now);
    return level >= 1 ? 0 : Math.ceil(((1 - level) / this.rate) * 1000);
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }
}
