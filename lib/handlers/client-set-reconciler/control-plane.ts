import {
  APIGatewayClient, ApiKey, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand, GetApiKeysCommand,
  GetUsagePlanCommand, GetUsagePlanKeysCommand, ImportApiKeysCommand, PatchOperation, TagResourceCommand, UntagResourceCommand, UpdateApiKeyCommand,
  UsagePlanKey,
} from '@aws-sdk/client-api-gateway';
import { PAGE_SIZE } from '../../sdk/paginate';
import { isAlreadyInPlan, scrubKeyValues } from '../../ops/errors';
import { ControlPlaneLimiter, Sleep } from '../../sdk/rate-limit';

/** The control-plane operations the reconciler makes. Reads and writes are counted apart. */
export const WRITE_OPERATIONS = [
  'ImportApiKeys', 'UpdateApiKey', 'DeleteApiKey', 'CreateUsagePlanKey', 'DeleteUsagePlanKey', 'TagResource', 'UntagResource',
] as const;
export const READ_OPERATIONS = ['GetApiKeys', 'GetUsagePlanKeys', 'GetUsagePlan'] as const;
export type Operation = typeof WRITE_OPERATIONS[number] | typeof READ_OPERATIONS[number];

export interface ControlPlaneOptions {
  /**
   * Client-side limiter for API Gateway's documented control-plane rates (CreateApiKey and
   * DeleteApiKey 5 rps, UsagePlanKey writes one at a time, the rest a shared 10 rps).
   * `null` switches it off (tests, simulations).
   * @default a new ControlPlaneLimiter()
   */
  readonly limiter?: ControlPlaneLimiter | null;
  /** Attempts per call on 429 / 409-concurrent-modification / 5xx, first one included. Default 8. */
  readonly maxAttempts?: number;
  /** First backoff in ms (doubled per attempt, full jitter, capped at 20 s). Default 250. */
  readonly baseDelayMs?: number;
  readonly sleep?: Sleep;
  /** Jitter source in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Region for tag ARNs; default the client's region. */
  readonly region?: string;
  /** Partition for tag ARNs (aws, aws-cn, aws-us-gov…). Default: from the region. */
  readonly partition?: string;
  /**
   * Epoch ms by which every call, retries and backoff included, must be over: a backoff that
   * would end later throws `DeadlineReached` instead of sleeping. Default: none.
   */
  readonly deadline?: number;
  readonly now?: () => number;
}

/** Longest wait a Retry-After header may ask for (it is also capped by the deadline). */
const MAX_RETRY_AFTER_MS = 30_000;

/** A pass ran out of its time budget: not a failure, the next pass carries on. */
export class DeadlineReached extends Error {
  constructor(operation: string) {
    super(`${operation}: no time left in this run for another attempt`);
    this.name = 'DeadlineReached';
  }
}

/** The AWS partition of a region (ARNs differ in China, GovCloud and the isolated regions). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  return 'aws';
}

export interface Page<T> {
  readonly items: T[];
  readonly position?: string;
}

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * API Gateway's control plane as the reconciler uses it: each call goes through the rate
 * limiter and a backoff on throttling (429 TooManyRequests, LimitExceeded), on 409
 * "concurrent modification" of usage plan keys and on 5xx, on top of the SDK's own retries.
 * Counts every call. Error messages that leave this class never hold a key value: the values
 * of an import are cut out of any message before it is rethrown.
 */
export class ControlPlane {
  /** Calls made per operation (each SDK call once, whatever its retries). */
  public readonly calls: Record<Operation, number> = {
    GetApiKeys: 0, GetUsagePlanKeys: 0, GetUsagePlan: 0, ImportApiKeys: 0, UpdateApiKey: 0, DeleteApiKey: 0,
    CreateUsagePlanKey: 0, DeleteUsagePlanKey: 0, TagResource: 0, UntagResource: 0,
  };
  /** Backoffs taken (throttling and conflicts). */
  public retries = 0;

  private readonly limiter: ControlPlaneLimiter | null;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(public readonly client: APIGatewayClient, private readonly options: ControlPlaneOptions = {}) {
    this.limiter = options.limiter === undefined ? new ControlPlaneLimiter() : options.limiter;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Write calls made so far. */
  public get writes(): number {
    return WRITE_OPERATIONS.reduce((sum, op) => sum + this.calls[op], 0);
  }

  /** One page of all API keys of the account and region, without values. */
  public getApiKeysPage(position: string | undefined): Promise<Page<ApiKey>> {
    return this.call('GetApiKeys', async () => {
      const out = await this.client.send(new GetApiKeysCommand({ position, limit: PAGE_SIZE, includeValues: false }));
      return { items: out.items ?? [], position: out.position };
    });
  }

  /** One page of a usage plan's keys; a plan that does not exist (any more) has none. */
  public getUsagePlanKeysPage(usagePlanId: string, position: string | undefined): Promise<Page<UsagePlanKey>> {
    return this.call('GetUsagePlanKeys', async () => {
      try {
        const out = await this.client.send(new GetUsagePlanKeysCommand({ usagePlanId, position, limit: PAGE_SIZE }));
        // Never keep values, even if an implementation sends them.
        return { items: (out.items ?? []).map(({ id, name, type }) => ({ id, name, type })), position: out.position };
      } catch (err) {
        if (errorName(err) === 'NotFoundException') return { items: [] };
        throw err;
      }
    });
  }

  /** The API stages (`apiId/stage`) of a usage plan; undefined when the plan does not exist. */
  public getUsagePlanStages(usagePlanId: string): Promise<string[] | undefined> {
    return this.call('GetUsagePlan', async () => {
      try {
        const out = await this.client.send(new GetUsagePlanCommand({ usagePlanId }));
        return (out.apiStages ?? []).map((s) => `${s.apiId}/${s.stage}`);
      } catch (err) {
        if (errorName(err) === 'NotFoundException') return undefined;
        throw err;
      }
    });
  }

  /**
   * Imports keys from API Gateway's CSV key file format with failOnWarnings, so a batch is
   * imported whole or not at all. `values` are the batch's key values: they are cut out of
   * any error message.
   */
  public importApiKeys(csv: string, values: readonly string[]): Promise<string[]> {
    return this.call('ImportApiKeys', async () => {
      const out = await this.client.send(new ImportApiKeysCommand({ body: new TextEncoder().encode(csv), format: 'csv', failOnWarnings: true }));
      if (out.warnings && out.warnings.length > 0) {
        // The first warning leads; all of them could pass CloudFormation's 4 KB reason.
        const more = out.warnings.length > 1 ? ` (and ${out.warnings.length - 1} more warnings)` : '';
        throw new Error(`ImportApiKeys warned: ${out.warnings[0]}${more}`);
      }
      return out.ids ?? [];
    }, values);
  }

  public updateApiKey(apiKey: string, patchOperations: PatchOperation[]): Promise<void> {
    return this.call('UpdateApiKey', async () => {
      await this.client.send(new UpdateApiKeyCommand({ apiKey, patchOperations }));
    });
  }

  /** Deletes a key; one that is gone already counts as deleted. */
  public deleteApiKey(apiKey: string): Promise<void> {
    return this.call('DeleteApiKey', async () => {
      try {
        await this.client.send(new DeleteApiKeyCommand({ apiKey }));
      } catch (err) {
        if (errorName(err) !== 'NotFoundException') throw err;
      }
    });
  }

  /** Puts a key in a plan; a key that is in the plan already is fine. */
  public createUsagePlanKey(usagePlanId: string, keyId: string): Promise<void> {
    return this.call('CreateUsagePlanKey', async () => {
      try {
        await this.client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' }));
      } catch (err) {
        if (isAlreadyInPlan(err)) return;
        throw err;
      }
    });
  }

  /** Takes a key out of a plan; an association that is gone already is fine. */
  public deleteUsagePlanKey(usagePlanId: string, keyId: string): Promise<void> {
    return this.call('DeleteUsagePlanKey', async () => {
      try {
        await this.client.send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId }));
      } catch (err) {
        if (errorName(err) !== 'NotFoundException') throw err;
      }
    });
  }

  public async tagApiKey(keyId: string, tags: { [key: string]: string }): Promise<void> {
    const resourceArn = await this.keyArn(keyId);
    return this.call('TagResource', async () => {
      await this.client.send(new TagResourceCommand({ resourceArn, tags }));
    });
  }

  public async untagApiKey(keyId: string, tagKeys: string[]): Promise<void> {
    const resourceArn = await this.keyArn(keyId);
    return this.call('UntagResource', async () => {
      await this.client.send(new UntagResourceCommand({ resourceArn, tagKeys }));
    });
  }

  private async keyArn(keyId: string): Promise<string> {
    const region = this.options.region ?? await this.client.config.region();
    return `arn:${this.options.partition ?? partitionOf(region)}:apigateway:${region}::/apikeys/${keyId}`;
  }

  private async call<T>(operation: Operation, task: () => Promise<T>, secrets: readonly string[] = []): Promise<T> {
    // No call starts after the deadline: it could outlast the Lambda run.
    if (this.options.deadline !== undefined && this.now() >= this.options.deadline) throw new DeadlineReached(operation);
    this.calls[operation]++;
    const attempt = async (): Promise<T> => {
      for (let n = 1; ; n++) {
        try {
          return await task();
        } catch (err) {
          if (n >= this.maxAttempts || !isRetryable(operation, err)) throw sanitize(operation, err, secrets);
          const wait = this.backoffMs(n, err);
          if (this.options.deadline !== undefined && this.now() + wait >= this.options.deadline) throw new DeadlineReached(operation);
          this.retries++;
          await this.sleep(wait);
        }
      }
    };
    return this.limiter ? this.limiter.run(`${operation}Command`, attempt) : attempt();
  }

  private backoffMs(attempt: number, err: unknown): number {
    const retryAfter = Number((err as { retryAfterSeconds?: string }).retryAfterSeconds);
    const ceiling = Math.min(20_000, this.baseDelayMs * 2 ** (attempt - 1));
    const jittered = Math.ceil(this.random() * ceiling);
    return Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(MAX_RETRY_AFTER_MS, Math.max(retryAfter * 1000, jittered)) : jittered;
  }
}

function errorName(err: unknown): string {
  return (err as { name?: string } | undefined)?.name ?? '';
}

function errorMessage(err: unknown): string {
  return (err as { message?: string } | undefined)?.message ?? String(err);
}

function isRetryable(operation: Operation, err: unknown): boolean {
  const name = errorName(err);
  if (name === 'TooManyRequestsException' || name === 'LimitExceededException' || name === 'ThrottlingException') return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  if (status === 429 || status >= 500) return true;
  // API Gateway answers 409 "concurrent modification" when another write of the region runs
  // (usage plan keys one at a time, imports): try again. "Already exists" is not retried.
  return name === 'ConflictException' && !isAlreadyInPlan(err)
    && (operation === 'CreateUsagePlanKey' || operation === 'DeleteUsagePlanKey' || operation === 'ImportApiKeys');
}



/** Longest error message kept (a CloudFormation response holds at most 4 KB). */
const MAX_MESSAGE = 600;


/** An error for `operation` whose message holds none of `secrets` and nothing value-like. */
export function sanitize(operation: Operation, err: unknown, secrets: readonly string[]): Error {
  let message = scrubKeyValues(errorMessage(err), secrets);
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  const out = new Error(`${operation}: ${message}`);
  out.name = errorName(err) || 'Error';
  return out;
}
