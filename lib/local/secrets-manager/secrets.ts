/** Generates secret strings the way Secrets Manager's GenerateSecretString does. */
import { randomInt } from 'crypto';

export interface GenerateSecretStringOptions {
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludeLowercase?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludePunctuation?: boolean;
  readonly IncludeSpace?: boolean;
  readonly RequireEachIncludedType?: boolean;
  readonly SecretStringTemplate?: string;
  readonly GenerateStringKey?: string;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

function bool(v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  return v === true || v === 'true';
}

/** The random password part, honouring the character-class options. */
export function generatePassword(o: GenerateSecretStringOptions): string {
  const length = o.PasswordLength !== undefined ? Number(o.PasswordLength) : 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) throw new Error(`GenerateSecretString PasswordLength must be 1..4096, got ${o.PasswordLength}`);
  const exclude = new Set((o.ExcludeCharacters ?? '').split(''));
  const classes: string[] = [];
  if (!bool(o.ExcludeLowercase, false)) classes.push(LOWER);
  if (!bool(o.ExcludeUppercase, false)) classes.push(UPPER);
  if (!bool(o.ExcludeNumbers, false)) classes.push(DIGITS);
  if (!bool(o.ExcludePunctuation, false)) classes.push(PUNCT);
  if (bool(o.IncludeSpace, false)) classes.push(' ');
  const filtered = classes.map((c) => c.split('').filter((ch) => !exclude.has(ch)).join('')).filter((c) => c.length > 0);
  if (filtered.length === 0) throw new Error('GenerateSecretString excludes every character');
  const all = filtered.join('');
  const chars: string[] = [];
  if (bool(o.RequireEachIncludedType, true) && length >= filtered.length) {
    for (const c of filtered) chars.push(c[randomInt(c.length)]);
  }
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  // Shuffle so the required characters are not always first.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

/** The whole SecretString: the password, or the template JSON with the password under GenerateStringKey. */
export function generateSecretString(o: GenerateSecretStringOptions): string {
  const password = generatePassword(o);
  if (o.SecretStringTemplate !== undefined && o.GenerateStringKey) {
    let tpl: unknown;
    try {
      tpl = JSON.parse(o.SecretStringTemplate);
    } catch {
      throw new Error('GenerateSecretString SecretStringTemplate is not valid JSON');
    }
    if (typeof tpl !== 'object' || tpl === null || Array.isArray(tpl)) throw new Error('GenerateSecretString SecretStringTemplate must be a JSON object');
    return JSON.stringify({ ...(tpl as Record<string, unknown>), [o.GenerateStringKey]: password });
  }
  return password;
}

/** Reads a JSON key of a secret string (for `{{resolve:secretsmanager:id:SecretString:key}}`). */
export function secretJsonKey(secretString: string, key: string): string | undefined {
  try {
    const v: unknown = JSON.parse(secretString);
    if (typeof v === 'object' && v !== null && key in v) {
      const x = (v as Record<string, unknown>)[key];
      return typeof x === 'string' ? x : JSON.stringify(x);
    }
  } catch {
    return undefined;
  }
  return undefined;
}
