/** IDs and values shaped like API Gateway's. */
import * as cryptoModule from 'crypto';
import { createHash, randomBytes } from 'crypto';

const ALNUM_LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function fromBytes(bytes: Buffer, alphabet: string, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[bytes[i % bytes.length] % alphabet.length];
  return s;
}

/** A random lowercase alphanumeric id (API Gateway's ids: 10 chars for APIs and keys, 6 for resources, plans, stages' deployments). */
export function randomId(length = 10): string {
  return fromBytes(randomBytes(length), ALNUM_LOWER, length);
}

/** A deterministic id from a seed, so the same template gives the same URLs across restarts. */
export function stableId(seed: string, length = 10): string {
  return fromBytes(createHash('sha256').update(seed).digest(), ALNUM_LOWER, length);
}

/** A generated API key value: 40 alphanumeric characters, like API Gateway's. */
export function generateKeyValue(): string {
  return fromBytes(randomBytes(40), ALNUM, 40);
}

type OneShotHash = (algorithm: string, data: string, encoding: 'buffer') => Buffer;
/** `crypto.hash` (Node ≥ 20.12) is a faster one-shot digest; fall back to createHash. */
const oneShot = (cryptoModule as unknown as { hash?: OneShotHash }).hash;

export function sha256(value: string): Buffer {
  return oneShot ? oneShot('sha256', value, 'buffer') : createHash('sha256').update(value, 'utf8').digest();
}

/** A deterministic UUID-shaped string from a seed. */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
