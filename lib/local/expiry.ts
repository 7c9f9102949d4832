/*
 * Key expiry at the local gateway: a key past its expiry (keygate's `expires` option, read
 * from the key's tags) gets 403 like a disabled key — what API Gateway answers once keygate's
 * expiry job has disabled it. The rule itself is shared with that job.
 */
import { expiryOf, isExpired } from '../lifecycle/expiry-rule';
import { ApiKey } from './model';

/** Whether the data plane should refuse the key at `now`: disabled, or expired. */
export function isKeyRefused(key: ApiKey, now: number): boolean {
  return !key.enabled || isExpired(key, now);
}

/** The key's expiry for people: ISO 8601, and whether it has passed at `now`; undefined if it never expires. */
export function describeExpiry(key: ApiKey, now: number): { readonly expiresAt: string; readonly expired: boolean } | undefined {
  const expiry = expiryOf(key);
  return expiry === undefined ? undefined : { expiresAt: new Date(expiry).toISOString(), expired: now >= expiry };
}
