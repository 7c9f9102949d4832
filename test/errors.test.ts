import { Stack } from 'aws-cdk-lib';
import { KeygateError, KeygateErrors } from '../lib';

describe('KeygateError', () => {
  test('of(): the message names the construct path, the property and the value; the fields too', () => {
    // GIVEN
    const stack = new Stack(undefined, 'Stack');
    // WHEN
    const error = KeygateError.of(stack, 'tiers', 'needs at least one tier', []);
    // THEN
    expect(error.message).toBe('[Stack] tiers: needs at least one tier (got [])');
    expect(error.name).toBe('KeygateError');
    expect(error.constructPath).toBe('Stack');
    expect(error.property).toBe('tiers');
    expect(error).toBeInstanceOf(Error);
  });

  test('KeygateErrors.isKeygateError: true for keygate errors only, also across copies of the package', () => {
    const stack = new Stack(undefined, 'Stack');
    expect(KeygateErrors.isKeygateError(KeygateError.of(stack, 'p', 'bad'))).toBe(true);
    // A second copy of keygate in one app has its own class, but the same global symbol.
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('keygate.KeygateError'), { value: true });
    expect(KeygateErrors.isKeygateError(foreign)).toBe(true);
    expect(KeygateErrors.isKeygateError(new Error('[Stack] p: bad'))).toBe(false);
    expect(KeygateErrors.isKeygateError(undefined)).toBe(false);
    expect(KeygateErrors.isKeygateError('KeygateError')).toBe(false);
  });

  test('KeygateErrors.formatProblem: the one message format', () => {
    const stack = new Stack(undefined, 'Stack');
    expect(KeygateErrors.formatProblem(stack, 'name', 'is too long', 'x'.repeat(3))).toBe('[Stack] name: is too long (got "xxx")');
  });
});
