import type { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { TokenBucket as Bucket } from '../shared/token-bucket';
import { realSleep, Sleep } from './retry';

export type { Sleep } from './retry';

/**
 * A FIFO token bucket that waits: `rate` tokens per second, at most `burst` stored
 * ({@link Bucket}'s arithmetic, with a clock and a sleep).
 */
export class TokenBucket {
  private readonly bucket: Bucket;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    public readonly rate: number,
    public readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: Sleep = realSleep,
  ) {
    this.bucket = new Bucket(rate, burst, now());
  }

  /** Resolves when a token is available (and takes it). Callers are served in order. */
  take(): Promise<void> {
    const p = this.chain.then(async () => {
      const wait = this.bucket.waitMs(this.now());
      if (wait > 0) await this.sleep(wait);
      this.bucket.take(this.now());
    });
    this.chain = p.catch(() => undefined);
    return p;
  }
}

/** Runs one task at a time. */
export class Mutex {
  private chain: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.chain.then(task);
    this.chain = p.then(() => undefined, () => undefined);
    return p;
  }
}

export interface ControlPlaneLimits {
  /** Requests per second shared by all operations without their own limit. Default 10 (the account's documented rate). */
  readonly sharedRate?: number;
  /** Burst of the shared bucket. Default 10 (AWS allows 40; we leave room for CloudFormation and others). */
  readonly sharedBurst?: number;
  /** CreateApiKey and DeleteApiKey, each. Default 5 rps. */
  readonly keyWriteRate?: number;
  readonly now?: () => number;
  readonly sleep?: Sleep;
}

/** Operations with their own documented limit (requests per second, burst). */
const OWN_LIMITS: Record<string, (l: Required<Pick<ControlPlaneLimits, 'keyWriteRate'>>) => [number, number]> = {
  CreateApiKeyCommand: (l) => [l.keyWriteRate, 1],
  DeleteApiKeyCommand: (l) => [l.keyWriteRate, 1],
  UpdateUsagePlanCommand: () => [1 / 20, 1],
  CreateDeploymentCommand: () => [1 / 5, 1],
};

/** Operations that API Gateway runs one at a time per region (parallel calls fail with 409). */
const SERIAL = new Set(['CreateUsagePlanKeyCommand', 'DeleteUsagePlanKeyCommand']);

/**
 * A client-side limiter for API Gateway's documented control-plane quotas:
 * CreateApiKey/DeleteApiKey 5 rps, UpdateUsagePlan 1 per 20 s, CreateDeployment 1 per 5 s,
 * CreateUsagePlanKey one at a time, everything else a shared 10 rps.
 */
export class ControlPlaneLimiter {
  private readonly shared: TokenBucket;
  private readonly own = new Map<string, TokenBucket>();
  private readonly serial = new Mutex();
  private readonly keyWriteRate: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;

  constructor(limits: ControlPlaneLimits = {}) {
    this.now = limits.now ?? Date.now;
    this.sleep = limits.sleep ?? realSleep;
    this.keyWriteRate = limits.keyWriteRate ?? 5;
    this.shared = new TokenBucket(limits.sharedRate ?? 10, limits.sharedBurst ?? 10, this.now, this.sleep);
  }

  /** Runs `task` (one control-plane call named like `GetApiKeysCommand`) within the limits. */
  async run<T>(commandName: string, task: () => Promise<T>): Promise<T> {
    const limited = async (): Promise<T> => {
      await this.bucketFor(commandName).take();
      return task();
    };
    return SERIAL.has(commandName) ? this.serial.run(limited) : limited();
  }

  private bucketFor(commandName: string): TokenBucket {
    const own = OWN_LIMITS[commandName];
    if (!own) return this.shared;
    let bucket = this.own.get(commandName);
    if (!bucket) {
      const [rate, burst] = own({ keyWriteRate: this.keyWriteRate });
      bucket = new TokenBucket(rate, burst, this.now, this.sleep);
      this.own.set(commandName, bucket);
    }
    return bucket;
  }
}

/**
 * Adds the limiter to a client's middleware stack (initialize step, so a call and all its
 * SDK retries hold one slot). Returns the client.
 */
export function applyControlPlaneLimits(client: APIGatewayClient, limiter: ControlPlaneLimiter = new ControlPlaneLimiter()): APIGatewayClient {
  client.middlewareStack.add(
    (next, context) => (args) => limiter.run(context.commandName ?? 'unknown', () => next(args)),
    { step: 'initialize', name: 'keygateControlPlaneLimits', override: true },
  );
  return client;
}
