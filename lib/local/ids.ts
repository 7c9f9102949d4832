/** IDs shaped like API Gateway's. Key values come from the one generator in `lib/shared/constants.ts` (`generateKeyValue`). */
import * as cryptoModule from 'crypto';
import { createHash, randomInt } from 'crypto';

const ALNUM_LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random lowercase alphanumeric id (API Gateway's ids: 10 chars for APIs and keys, 6 for resources, plans, stages' deployments). */
export function randomId(length = 10): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALNUM_LOWER[randomInt(ALNUM_LOWER.length)];
  return s;
}

/** A deterministic id from a seed, so the same template gives the same URLs across restarts. */
export function stableId(seed: string, length = 10): string {
  const bytes = createHash('sha256').update(seed).digest();
  let s = '';
  for (let i = 0; i < length; i++) s += ALNUM_LOWER[bytes[i % bytes.length] % ALNUM_LOWER.length];
  return s;
}

type OneShotHash = (algorithm: string, data: string, encoding: 'base64') => string;
/** `crypto.hash` (Node ≥ 20.12) is a faster one-shot digest; fall back to createHash. */
const oneShot = (cryptoModule as unknown as { hash?: OneShotHash }).hash;

/** base64 SHA-256 of a string (the key lookup's digest: one allocation, no Buffer). */
export function sha256Base64(value: string): string {
  return oneShot ? oneShot('sha256', value, 'base64') : createHash('sha256').update(value, 'utf8').digest('base64');
}

/** A deterministic UUID-shaped string from a seed. */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
