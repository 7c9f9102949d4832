/**
 * Token buckets, as API Gateway throttles: a bucket holds up to `burstLimit` tokens and
 * refills at `rateLimit` tokens per second; a request takes one token or is throttled.
 */
import { TokenBucket as SharedTokenBucket } from '../../../shared/token-bucket';
import { ThrottleSettings } from '../model';

/** Account-level default throttle of API Gateway (per region). */
export const ACCOUNT_THROTTLE: Required<ThrottleSettings> = { rateLimit: 10_000, burstLimit: 5_000 };

/** The shared bucket arithmetic, with the settings object it was last checked against (identity cache). */
export class TokenBucket extends SharedTokenBucket {
  settings?: ThrottleSettings;
}

/**
 * Normalises a throttle setting to a bucket's parameters, or undefined if it limits nothing.
 * A rate without a burst gets a burst of max(1, ceil(rate)); a burst without a rate refills at
 * that burst per second. Zero means zero: `rateLimit: 0, burstLimit: 0` throttles every request.
 */
export function bucketParams(t: ThrottleSettings | undefined): { rate: number; burst: number } | undefined {
  if (!t) return undefined;
  const { rateLimit, burstLimit } = t;
  if (rateLimit === undefined && burstLimit === undefined) return undefined;
  const rate = rateLimit ?? burstLimit ?? 0;
  const burst = burstLimit ?? Math.max(1, Math.ceil(rate));
  return { rate: Math.max(0, rate), burst: Math.max(0, Math.floor(burst)) };
}

/** All buckets of a gateway, created on first use and keyed by the objects they limit. */
export class ThrottleRegistry {
  /** The owner of the buckets that have a name rather than an object. */
  private readonly named = {};

  /** The bucket of a named scope (e.g. a control-plane operation's rate limit). */
  bucket(scope: string, t: ThrottleSettings | undefined, now: number): TokenBucket | undefined {
    return this.bucketOf(this.named, scope, t, now);
  }

  private readonly owned = new WeakMap<object, Map<unknown, TokenBucket>>();

  /**
   * The bucket of `owner` (e.g. an API key, a method) for `part` (e.g. a plan, a stage), keyed by
   * the objects themselves: the data plane asks on every request, and builds no scope string.
   */
  bucketOf(owner: object, part: unknown, t: ThrottleSettings | undefined, now: number): TokenBucket | undefined {
    if (!t) return undefined;
    let byPart = this.owned.get(owner);
    if (!byPart) { byPart = new Map(); this.owned.set(owner, byPart); }
    let b = byPart.get(part);
    if (b && b.settings === t) return b;
    const p = bucketParams(t);
    if (!p) return undefined;
    if (!b || b.rate !== p.rate || b.burst !== p.burst) {
      b = new TokenBucket(p.rate, p.burst, now);
      byPart.set(part, b);
    }
    b.settings = t;
    return b;
  }

  /** Takes one token from every bucket if all have one; otherwise takes none and returns false. */
  static tryTakeAll(buckets: (TokenBucket | undefined)[], now: number): boolean {
    for (const b of buckets) if (b && !b.available(now)) return false;
    for (const b of buckets) if (b) b.take(now);
    return true;
  }

  /** The bucket of `owner` for `part` if a request has created it; never creates one (for the dashboard). */
  peekOf(owner: object, part: unknown): TokenBucket | undefined {
    return this.owned.get(owner)?.get(part);
  }
}
