/*
 * When an API key expires, as one pure function of the key and the time. The construct writes
 * the rule into the key's tags; the expiry job on AWS, the local gateway and the ops CLI all
 * read it from there, so the key itself is the one record of its expiry. Dependency-free: it
 * is bundled into a Lambda handler and loaded by the local gateway.
 */

/** Tag of a key that expires at a fixed instant (ISO 8601, UTC). */
export const TAG_EXPIRES_AT = 'keygate:expires-at';
/** Tag of a key that expires a number of seconds after its creation. */
export const TAG_EXPIRES_AFTER_SECONDS = 'keygate:expires-after-seconds';

/** What the rule needs of a key: when it was created (ms since the epoch) and its tags. */
export interface ExpiringKey {
  readonly createdDate: number;
  readonly tags?: Record<string, string>;
}

/**
 * When the key expires (ms since the epoch), or undefined when it never does. A tag that
 * can't be read counts as no expiry: the rule never disables a key on a guess.
 */
export function expiryOf(key: ExpiringKey): number | undefined {
  const at = key.tags?.[TAG_EXPIRES_AT];
  if (at !== undefined) {
    const instant = Date.parse(at);
    return Number.isNaN(instant) ? undefined : instant;
  }
  const after = key.tags?.[TAG_EXPIRES_AFTER_SECONDS];
  if (after !== undefined && /^\d+$/.test(after)) return key.createdDate + Number(after) * 1000;
  return undefined;
}

/** Whether the key has expired at `now` (ms since the epoch). */
export function isExpired(key: ExpiringKey, now: number): boolean {
  const expiry = expiryOf(key);
  return expiry !== undefined && now >= expiry;
}
