/**
 * The duration rules that several constructs share, each in one place: a key's lifetime
 * (`Expiration.after`, a portal's `keyLifetime`) and an unused-key window (`KeyHygiene`'s and a
 * portal's `disableUnusedAfter`).
 */
import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { KeygateError } from '../errors';

/**
 * A key's lifetime in seconds: whole seconds, at least one minute (the expiry job's
 * granularity). `what` begins the message, e.g. `must be a duration`.
 */
export function keyLifetimeSeconds(scope: IConstruct, property: string, duration: Duration, what: string): number {
  const seconds = duration.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) throw KeygateError.of(scope, property, `${what} that is concrete, not a token`);
  if (!Number.isInteger(seconds) || seconds < 60) throw KeygateError.of(scope, property, `${what} of at least one minute, in whole seconds`, duration.toHumanString());
  return seconds;
}

/** An unused-key window in whole days, at least 1 (GetUsage counts per UTC day). */
export function unusedWindowDays(scope: IConstruct, property: string, duration: Duration): number {
  const seconds = duration.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds) || seconds % 86_400 !== 0 || seconds < 86_400) {
    throw KeygateError.of(scope, property, 'must be a whole number of days, at least 1', duration.toHumanString());
  }
  return seconds / 86_400;
}
