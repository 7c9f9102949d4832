import {
  APIGatewayClient, ApiKey, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand, GetApiKeysCommand,
  GetUsagePlanCommand, GetUsagePlanKeysCommand, PatchOperation, TagResourceCommand, UntagResourceCommand, UpdateApiKeyCommand,
  UsagePlanKey,
} from '@aws-sdk/client-api-gateway';
import { PAGE_SIZE } from '../../sdk/paginate';
import {
  awsErrorName, errorMessage, isAlreadyInPlan, isConcurrentModification, isNotFound, isServerError, isThrottle,
} from '../../sdk/errors';
import { ControlPlaneLimiter } from '../../sdk/rate-limit';
import { DeadlineReached, RetryPolicy, Sleep } from '../../sdk/retry';
import { importRowsSafely, ValidatedRow } from '../../sdk/import-keys';
import { scrubKeyValues } from '../../shared/scrub';

export { DeadlineReached } from '../../sdk/retry';

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

  private readonly limiter: ControlPlaneLimiter | null;
  private readonly policies = new Map<Operation, RetryPolicy>();

  constructor(public readonly client: APIGatewayClient, private readonly options: ControlPlaneOptions = {}) {
    this.limiter = options.limiter === undefined ? new ControlPlaneLimiter() : options.limiter;
  }

  /** Backoffs taken (throttling and conflicts). */
  public get retries(): number {
    return [...this.policies.values()].reduce((sum, policy) => sum + policy.retries, 0);
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
        if (isNotFound(err)) return { items: [] };
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
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
  }

  /**
   * Imports keys (API Gateway's CSV key file format, failOnWarnings, so a batch is imported
   * whole or not at all). ImportApiKeys is not safe to repeat: after a 5xx the keys are listed
   * and only the rows the failed call did not create are sent again ({@link importRowsSafely}).
   * The rows' key values are cut out of any error message.
   */
  public importApiKeys(rows: readonly ValidatedRow[]): Promise<string[]> {
    const { sleep, random, now, deadline, baseDelayMs } = this.options;
    return this.call('ImportApiKeys', async () => {
      const out = await importRowsSafely(this.client, rows, { sleep, random, now, deadline, baseDelayMs });
      if (out.warnings.length > 0) {
        // The first warning leads; all of them could pass CloudFormation's 4 KB reason.
        const more = out.warnings.length > 1 ? ` (and ${out.warnings.length - 1} more warnings)` : '';
        throw new Error(`ImportApiKeys warned: ${out.warnings[0]}${more}`);
      }
      return out.ids.filter((id): id is string => id !== undefined);
    }, rows.map((r) => r.key));
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
        if (!isNotFound(err)) throw err;
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
        if (!isNotFound(err)) throw err;
      }
    });
  }

  /**
   * Moves a key between plans without leaving a stage uncovered: first into the plans whose
   * stages it does not leave, then out of the old plans, then into the rest. `stages` maps a
   * plan id to its `apiId/stage`s.
   */
  public async moveKey(keyId: string, addPlans: readonly string[], removePlans: readonly string[], stages: Map<string, string[]>): Promise<void> {
    const leaving = new Set(removePlans.flatMap((planId) => stages.get(planId) ?? []));
    const early = addPlans.filter((planId) => (stages.get(planId) ?? []).every((stage) => !leaving.has(stage)));
    for (const planId of early) await this.createUsagePlanKey(planId, keyId);
    for (const planId of removePlans) await this.deleteUsagePlanKey(planId, keyId);
    for (const planId of addPlans) if (!early.includes(planId)) await this.createUsagePlanKey(planId, keyId);
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

  private call<T>(operation: Operation, task: () => Promise<T>, secrets: readonly string[] = []): Promise<T> {
    const policy = this.policyFor(operation);
    // No call starts after the deadline: it could outlast the Lambda run.
    if (policy.pastDeadline()) throw new DeadlineReached(operation);
    this.calls[operation]++;
    const attempt = () => policy.run(operation, task, (err) => (err instanceof DeadlineReached ? err : sanitize(operation, err, secrets)));
    return this.limiter ? this.limiter.run(`${operation}Command`, attempt) : attempt();
  }

  /** The retry policy of an operation: only usage plan key writes and imports retry a 409. */
  private policyFor(operation: Operation): RetryPolicy {
    let policy = this.policies.get(operation);
    if (!policy) {
      const conflictsRetry = CONFLICT_RETRYING.has(operation);
      policy = new RetryPolicy({
        ...this.options,
        // An import's 5xx is settled inside importApiKeys (list, then resend only what is missing).
        retryable: (err) => isThrottle(err) || (operation !== 'ImportApiKeys' && isServerError(err)) || (conflictsRetry && isConcurrentModification(err)),
      });
      this.policies.set(operation, policy);
    }
    return policy;
  }
}

/**
 * Operations whose 409 "concurrent modification" is tried again: API Gateway runs usage plan
 * key writes (and imports) one at a time per region. "Already exists" is never retried.
 */
const CONFLICT_RETRYING = new Set<Operation>(['CreateUsagePlanKey', 'DeleteUsagePlanKey', 'ImportApiKeys']);

/** Longest error message kept (a CloudFormation response holds at most 4 KB). */
const MAX_MESSAGE = 600;

/** An error for `operation` whose message holds none of `secrets` and nothing value-like. */
export function sanitize(operation: Operation, err: unknown, secrets: readonly string[]): Error {
  let message = scrubKeyValues(errorMessage(err), secrets);
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  const out = new Error(`${operation}: ${message}`);
  out.name = awsErrorName(err) || 'Error';
  return out;
}
