import { isAlreadyInPlan, isConcurrentModification, isNotFound, isRetryableWrite, isThrottle } from '../../lib/sdk/errors';
import { DeadlineReached, RetryPolicy } from '../../lib/sdk/retry';
import { TokenBucket } from '../../lib/shared/token-bucket';
import { splitRoute, parseRoute } from '../../lib/shared/route-pattern';

const aws = (name: string, message: string, status?: number, extra: object = {}) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, ...extra });

describe('error classifier', () => {
  test.each([
    ['AWS', 'Usage Plan Key already exists'],
    ['AWS (member)', 'API Key abc is already a member of usage plan xyz'],
    ['the local gateway', 'Usage Plan p1 cannot be added because API Key k1 is already associated with it'],
  ])('a 409 worded by %s as "already in the plan" is done, not a concurrent modification', (_who, message) => {
    const err = aws('ConflictException', message, 409);
    expect(isAlreadyInPlan(err)).toBe(true);
    expect(isConcurrentModification(err)).toBe(false);
    expect(isRetryableWrite(err)).toBe(false);
  });

  test('any other 409 is a concurrent modification, retried', () => {
    const err = aws('ConflictException', 'Unable to complete operation due to concurrent modification. Please try again later.', 409);
    expect(isConcurrentModification(err)).toBe(true);
    expect(isRetryableWrite(err)).toBe(true);
  });

  test('not found and throttling by code or status, never by text', () => {
    expect(isNotFound(aws('ResourceNotFoundException', 'x'))).toBe(true);
    expect(isNotFound(aws('Whatever', 'x', 404))).toBe(true);
    expect(isNotFound(new Error('not found'))).toBe(false);
    expect(isThrottle(aws('LimitExceededException', 'x'))).toBe(true);
    expect(isThrottle(aws('Other', 'x', 429))).toBe(true);
    expect(isRetryableWrite(aws('InternalFailure', 'x', 503))).toBe(true);
    expect(isRetryableWrite(aws('BadRequestException', 'x', 400))).toBe(false);
  });
});

describe('RetryPolicy', () => {
  test('backs off with full jitter under the cap, honours Retry-After, stops after maxAttempts', async () => {
    const waits: number[] = [];
    const policy = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 150, random: () => 0.999, sleep: async (ms) => void waits.push(ms) });
    const throttled = aws('TooManyRequestsException', 'slow down', 429, { retryAfterSeconds: '2' });
    const task = jest.fn().mockRejectedValueOnce(aws('ConflictException', 'concurrent modification', 409)).mockRejectedValue(throttled);
    await expect(policy.run('Op', task)).rejects.toBe(throttled);
    expect(task).toHaveBeenCalledTimes(3);
    expect(waits).toEqual([100, 2000]);
    expect(policy.retries).toBe(2);
  });

  test('a backoff that would end after the deadline throws DeadlineReached instead of sleeping', async () => {
    let now = 0;
    const policy = new RetryPolicy({ deadline: 1000, now: () => now, random: () => 0.5, sleep: async (ms) => { now += ms; } });
    const err = aws('TooManyRequestsException', 'x', 429, { retryAfterSeconds: '5' });
    await expect(policy.run('Op', () => Promise.reject(err))).rejects.toBeInstanceOf(DeadlineReached);
  });

  test('an error the policy does not retry fails at once', async () => {
    const policy = new RetryPolicy({ retryable: isConcurrentModification, sleep: async () => undefined });
    const task = jest.fn().mockRejectedValue(aws('TooManyRequestsException', 'x', 429));
    await expect(policy.run('Op', task)).rejects.toThrow('x');
    expect(task).toHaveBeenCalledTimes(1);
  });
});

test('token bucket: refills at rate up to burst, says how long until the next token', () => {
  const b = new TokenBucket(2, 2, 0);
  b.take(0);
  b.take(0);
  expect(b.available(0)).toBe(false);
  expect(b.waitMs(0)).toBe(500);
  expect(b.level(10_000)).toBe(2);
});

test('route pattern: split as written, parse with the rules', () => {
  expect(splitRoute(' get /pets/123/ ')).toEqual({ httpMethod: 'GET', path: '/pets/123/' });
  expect(splitRoute('/pets')).toBeUndefined();
  expect(parseRoute('get /pets/{id}/')).toEqual({ httpMethod: 'GET', path: '/pets/{id}' });
  expect(parseRoute('FETCH /x')).toMatch(/method must be one of/);
});
