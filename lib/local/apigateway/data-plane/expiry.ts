/*
 * Key expiry at the local gateway: a key past its expiry (keygate's `expires` option, read
 * from the key's tags) gets 403 like a disabled key — what API Gateway answers once keygate's
 * expiry job has disabled it. The rule itself is shared with that job.
 */
import { expiryOf, isExpired } from '../../../shared/expiry-rule';
import { ApiKey } from '../model';

/** Whether the data plane should refuse the key at `now`: disabled, or expired. */
export function isKeyRefused(key: ApiKey, now: number): boolean {
  return !key.enabled || isExpired(key, now);
}

/** The key's expiry for people: ISO 8601, and whether it has passed at `now`; undefined if it never expires. */
export function describeExpiry(key: ApiKey, now: number): { readonly expiresAt: string; readonly expired: boolean } | undefined {
  const expiry = expiryOf(key);
  return expiry === undefined ? undefined : { expiresAt: new Date(expiry).toISOString(), expired: now >= expiry };
}

/**
 * `keygate local --clock`: how far to move the gateway's clock from the real one, in ms.
 * `+15d` (or `15d`, `36h`, `90m`) serves as if that long had passed since the app was
 * deployed; an ISO 8601 instant serves as if it were then.
 */
export function parseClockOption(text: string, realNow: number): number {
  const offset = /^\+?(\d+(?:\.\d+)?)(w|d|h|m|s)$/i.exec(text.trim());
  if (offset) {
    const unit = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[offset[2].toLowerCase() as 'w' | 'd' | 'h' | 'm' | 's'];
    return Math.round(Number(offset[1]) * unit);
  }
  const instant = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(instant)) throw new Error(`--clock must be a time span such as +15d, 36h or 90m, or an ISO 8601 instant such as 2027-01-31T00:00:00Z, not "${text}"`);
  return instant - realNow;
}

/** The startup summary's lines about expiring keys: when each expires, and how to see it expired. */
export function expirySummaryLines(keys: { name: string; expiresAt?: string; expired?: boolean; value?: string }[], stageUrl: string | undefined, clockOffsetMs: number): string[] {
  const expiring = keys.filter((k) => k.expiresAt !== undefined);
  if (expiring.length === 0) return [];
  const moved = clockOffsetMs !== 0 ? `; clock moved by --clock to ${new Date(Date.now() + clockOffsetMs).toISOString()}` : '';
  // The expiry job's schedule doesn't run here: the gateway applies the rule itself, on every request.
  const lines = ['', `Expiring keys (refused with 403 once expired, as after keygate's expiry job on AWS${moved}):`];
  for (const k of expiring) lines.push(`  ${k.name}  ${k.expired ? 'EXPIRED since' : 'expires'} ${k.expiresAt}`);
  const expired = expiring.find((k) => k.expired);
  if (expired && stageUrl) {
    lines.push(`  curl -i -H "x-api-key: ${expired.value ?? '$KEY'}" '${stageUrl}/…'   # 403 {"message":"Forbidden"}`);
  } else if (!expired) {
    const first = expiring.reduce((a, b) => ((a.expiresAt ?? '') <= (b.expiresAt ?? '') ? a : b));
    const days = Math.ceil((Date.parse(first.expiresAt ?? '') - Date.now() - clockOffsetMs) / 86_400_000) + 1;
    lines.push(`  to see ${first.name} expired (403), serve as if ${days} days had passed since the deploy: --clock +${days}d (npm start -- --clock +${days}d)`);
  }
  return lines;
}
