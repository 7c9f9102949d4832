import { IConstruct } from 'constructs';

/**
 * The error keygate throws for input that AWS would reject at deploy time.
 *
 * Its message names the construct path, the property and the bad value, so the
 * failing line in a large app is easy to find.
 */
export class KeygateError extends Error {
  /** Builds the message `[path] property: problem (got value)`. */
  public static of(scope: IConstruct, property: string, problem: string, value?: unknown): KeygateError {
    return new KeygateError(formatProblem(scope, property, problem, value));
  }

  constructor(message: string) {
    super(message);
    this.name = 'KeygateError';
  }
}

/** `[path] property: problem (got value)` — the one format for every keygate validation message. */
export function formatProblem(scope: IConstruct, property: string, problem: string, value?: unknown): string {
  const got = value === undefined ? '' : ` (got ${describe(value)})`;
  return `[${scope.node.path}] ${property}: ${problem}${got}`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  return String(value);
}
