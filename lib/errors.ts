import { IConstruct } from 'constructs';

/** The base of keygate's errors; not exported, so jsii sees only the @internal class below. */
abstract class ConstructInputError extends Error {}

/**
 * The error keygate throws for input that AWS would reject at deploy time.
 *
 * Its message names the construct path, the property and the bad value, so the
 * failing line in a large app is easy to find. As aws-cdk-lib's own `ValidationError`, the
 * class is hidden from jsii (a jsii class can't extend JavaScript's `Error`): TypeScript users
 * catch it with `instanceof`, every language tests for it with `KeygateErrors.isKeygateError`.
 *
 * @internal
 */
export class KeygateError extends ConstructInputError {
  /** Builds the message `[path] property: problem (got value)`. */
  public static of(scope: IConstruct, property: string, problem: string, value?: unknown): KeygateError {
    return new KeygateError(formatProblem(scope, property, problem, value), scope.node.path, property);
  }

  /** The path of the construct whose input is wrong, when the error names one. */
  public readonly constructPath?: string;
  /** The property whose value is wrong, when the error names one. */
  public readonly property?: string;

  constructor(message: string, constructPath?: string, property?: string) {
    super(message);
    this.name = 'KeygateError';
    this.constructPath = constructPath;
    this.property = property;
    Object.defineProperty(this, ERROR_SYMBOL, { value: true });
  }
}

const ERROR_SYMBOL = Symbol.for('keygate.KeygateError');

/**
 * Tests for keygate's errors, in every jsii language (as aws-cdk-lib's `Errors`).
 */
export class KeygateErrors {
  /**
   * Whether `x` is an error keygate threw for invalid input. Works across copies of the
   * keygate package in one app, where `instanceof` would not.
   */
  public static isKeygateError(x: unknown): boolean {
    return x !== null && typeof x === 'object' && ERROR_SYMBOL in x;
  }

  /** `[path] property: problem (got value)`: the one format of every keygate validation message. */
  public static formatProblem(scope: IConstruct, property: string, problem: string, value?: unknown): string {
    return formatProblem(scope, property, problem, value);
  }

  private constructor() {}
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
