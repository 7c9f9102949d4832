/**
 * keygate's key rotation Lambda. Secrets Manager invokes it with the four rotation steps of a
 * client's secret (createSecret, setSecret, testSecret, finishSecret); an hourly EventBridge
 * rule invokes it with `{ action: 'retire', secretIds }` to disable and delete predecessors
 * whose overlap has ended.
 *
 * The keys it creates belong to the rotation schedule, not to the stack: they carry the
 * secret's ARN and the secret version whose value they hold in their tags, and only such keys
 * are ever changed here. Every step checks what is already there first, because Secrets
 * Manager retries a failed step.
 */
import {
  APIGatewayClient, ApiKey, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, GetApiKeyCommand,
  GetUsagePlanKeyCommand, paginateGetApiKeys, TagResourceCommand, UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import {
  DescribeSecretCommand, DescribeSecretResponse, GetRandomPasswordCommand, GetSecretValueCommand, paginateListSecrets, PutSecretValueCommand,
  SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { timingSafeEqual } from 'crypto';
import { isConflict, isNotFound } from '../sdk/errors';
import { TAG_BASE_NAME, TAG_RETIRE_AFTER, TAG_ROTATION_OF } from '../shared/constants';
import {
  ROTATION_KEY_LENGTH, SECRET_TAG_OVERLAP_SECONDS, SECRET_TAG_USAGE_PLANS, TAG_ROTATION_SECRET, TAG_SECRET_VERSION,
} from '../shared/rotation-tags';

export type RotationStepName = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/** What Secrets Manager sends for each step. */
export interface RotationEvent {
  readonly Step: RotationStepName;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

/** What the hourly rule sends. */
export interface RetireEvent {
  readonly action: 'retire';
  /** Secrets of single rotating clients (the stack creates them). */
  readonly secretIds: string[];
  /**
   * Name prefixes of secrets created at run time (rotating client sets: `keygate/<setId>/`).
   * @default none
   */
  readonly secretNamePrefixes?: string[];
}

export interface RotationDeps {
  readonly secrets: SecretsManagerClient;
  readonly apigw: APIGatewayClient;
  readonly now: () => Date;
}

/** The rotation settings the construct wrote into the secret's tags. */
interface ClientConfig {
  readonly secretArn: string;
  readonly clientName: string;
  readonly planIds: string[];
  readonly overlapMs: number;
  /** The user's own tags of the client, copied to each key. */
  readonly userTags: Record<string, string>;
}

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';

/** The name of a key the schedule creates: the client's name and the start of its secret version id. */
export function rotatedKeyName(clientName: string, versionId: string): string {
  return `${clientName}-rotated-${versionId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}`;
}

function configOf(secret: DescribeSecretResponse): ClientConfig {
  const tags = Object.fromEntries((secret.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const clientName = tags[TAG_BASE_NAME];
  const planIds = (tags[SECRET_TAG_USAGE_PLANS] ?? '').split(' ').filter((id) => id !== '');
  const overlapSeconds = Number(tags[SECRET_TAG_OVERLAP_SECONDS]);
  if (!secret.ARN || !clientName || planIds.length === 0 || !Number.isFinite(overlapSeconds) || overlapSeconds < 0) {
    throw new Error(`Secret ${secret.ARN ?? secret.Name} lacks keygate's rotation tags (${TAG_BASE_NAME}, ${SECRET_TAG_USAGE_PLANS}, ${SECRET_TAG_OVERLAP_SECONDS}): it is not the secret of a rotating keygate client`);
  }
  const userTags: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) if (!k.startsWith('keygate:') && !k.startsWith('aws:')) userTags[k] = v;
  return { secretArn: secret.ARN, clientName, planIds, overlapMs: overlapSeconds * 1000, userTags };
}

function versionWithStage(secret: DescribeSecretResponse, stage: string): string | undefined {
  return Object.entries(secret.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes(stage))?.[0];
}

/** The keys this schedule created for the secret (any page of GetApiKeys), with their values if asked. */
async function ownedKeys(deps: RotationDeps, config: ClientConfig, includeValues = false): Promise<ApiKey[]> {
  const keys: ApiKey[] = [];
  const pages = paginateGetApiKeys({ client: deps.apigw, pageSize: 500 }, { nameQuery: `${config.clientName}-rotated-`, includeValues });
  for await (const page of pages) {
    for (const key of page.items ?? []) if (key.tags?.[TAG_ROTATION_SECRET] === config.secretArn) keys.push(key);
  }
  return keys;
}

async function pendingValue(deps: RotationDeps, secretId: string, token: string): Promise<string> {
  const out = await deps.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: PENDING }));
  if (!out.SecretString) throw new Error(`Version ${token} of ${secretId} has no SecretString`);
  return out.SecretString;
}

function sameValue(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function isInPlan(deps: RotationDeps, planId: string, keyId: string): Promise<boolean> {
  try {
    await deps.apigw.send(new GetUsagePlanKeyCommand({ usagePlanId: planId, keyId }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** createSecret: a fresh value under the new version id, labelled AWSPENDING. */
async function createSecret(deps: RotationDeps, event: RotationEvent): Promise<void> {
  try {
    await pendingValue(deps, event.SecretId, event.ClientRequestToken);
    return; // a retry: the value exists already
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const { RandomPassword } = await deps.secrets.send(new GetRandomPasswordCommand({
    PasswordLength: ROTATION_KEY_LENGTH, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true,
  }));
  if (!RandomPassword) throw new Error('GetRandomPassword returned no password');
  await deps.secrets.send(new PutSecretValueCommand({
    SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken, SecretString: RandomPassword, VersionStages: [PENDING],
  }));
}

/** setSecret: an API key with the pending value, in the client's usage plans. */
async function setSecret(deps: RotationDeps, event: RotationEvent, secret: DescribeSecretResponse, config: ClientConfig): Promise<void> {
  const token = event.ClientRequestToken;
  const value = await pendingValue(deps, event.SecretId, token);
  const keys = await ownedKeys(deps, config);
  let key = keys.find((k) => k.tags?.[TAG_SECRET_VERSION] === token);
  if (!key) {
    const currentVersion = versionWithStage(secret, CURRENT);
    const predecessor = keys.find((k) => k.tags?.[TAG_SECRET_VERSION] === currentVersion);
    try {
      key = await deps.apigw.send(new CreateApiKeyCommand({
        name: rotatedKeyName(config.clientName, token),
        description: `Key of client ${config.clientName}, created by the rotation of its secret`,
        enabled: true,
        value,
        tags: {
          ...config.userTags,
          [TAG_BASE_NAME]: config.clientName,
          [TAG_ROTATION_SECRET]: config.secretArn,
          [TAG_SECRET_VERSION]: token,
          ...(predecessor?.id ? { [TAG_ROTATION_OF]: predecessor.id } : {}),
        },
      }));
    } catch (err) {
      // A retry after a lost response meets the key its first attempt created (same value).
      if (!isConflict(err)) throw err;
      key = (await ownedKeys(deps, config)).find((k) => k.tags?.[TAG_SECRET_VERSION] === token);
      if (!key) throw new Error(`A key with the pending value of ${config.secretArn} exists but was not created by its rotation`);
    }
  }
  const keyId = key.id ?? '';
  for (const planId of config.planIds) {
    if (await isInPlan(deps, planId, keyId)) continue;
    try {
      await deps.apigw.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId, keyType: 'API_KEY' }));
    } catch (err) {
      if (!isConflict(err) || !(await isInPlan(deps, planId, keyId))) throw err;
    }
  }
}

/**
 * testSecret: the new key exists, is enabled, holds the pending value and is in every plan.
 * A pending version without a value is Secrets Manager testing the configuration (RotateSecret
 * with RotateImmediately false, e.g. when a client set restores a client): the secret's tags
 * were readable (configOf), which is all this function needs besides its key permissions.
 */
async function testSecret(deps: RotationDeps, event: RotationEvent, config: ClientConfig): Promise<void> {
  const token = event.ClientRequestToken;
  let value: string;
  try {
    value = await pendingValue(deps, event.SecretId, token);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  const found = (await ownedKeys(deps, config)).find((k) => k.tags?.[TAG_SECRET_VERSION] === token);
  if (!found?.id) throw new Error(`testSecret: no key holds version ${token} of ${config.secretArn}`);
  const key = await deps.apigw.send(new GetApiKeyCommand({ apiKey: found.id, includeValue: true }));
  if (!key.enabled) throw new Error(`testSecret: key ${found.id} is disabled`);
  if (!key.value || !sameValue(key.value, value)) throw new Error(`testSecret: key ${found.id} does not hold the pending value of ${config.secretArn}`);
  for (const planId of config.planIds) {
    if (!(await isInPlan(deps, planId, found.id))) throw new Error(`testSecret: key ${found.id} is not in usage plan ${planId}`);
  }
}

/**
 * finishSecret: the new key's overlap clock starts (its `retire-predecessor-after` tag), then
 * AWSCURRENT moves to the new version. The predecessor keeps working until the retire job.
 */
async function finishSecret(deps: RotationDeps, event: RotationEvent, secret: DescribeSecretResponse, config: ClientConfig): Promise<void> {
  const token = event.ClientRequestToken;
  const currentVersion = versionWithStage(secret, CURRENT);
  if (currentVersion === token) return;
  const key = (await ownedKeys(deps, config)).find((k) => k.tags?.[TAG_SECRET_VERSION] === token);
  if (!key?.id) throw new Error(`finishSecret: no key holds version ${token} of ${config.secretArn}`);
  const retireAfter = new Date(deps.now().getTime() + config.overlapMs).toISOString();
  const resourceArn = `arn:aws:apigateway:${await deps.apigw.config.region()}::/apikeys/${key.id}`;
  await deps.apigw.send(new TagResourceCommand({ resourceArn, tags: { [TAG_RETIRE_AFTER]: retireAfter } }));
  await deps.secrets.send(new UpdateSecretVersionStageCommand({
    SecretId: event.SecretId, VersionStage: CURRENT, MoveToVersionId: token, RemoveFromVersionId: currentVersion,
  }));
}

/** Runs one rotation step, with the checks every step shares. */
export async function rotationStep(event: RotationEvent, deps: RotationDeps): Promise<void> {
  const secret = await deps.secrets.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
  if (secret.RotationEnabled === false) throw new Error(`Secret ${event.SecretId} is not enabled for rotation`);
  const stages = secret.VersionIdsToStages?.[event.ClientRequestToken];
  if (!stages) throw new Error(`Secret version ${event.ClientRequestToken} has no stage for rotation of ${event.SecretId}`);
  if (stages.includes(CURRENT) && event.Step !== 'finishSecret') return; // already the current value
  if (!stages.includes(CURRENT) && !stages.includes(PENDING)) {
    throw new Error(`Secret version ${event.ClientRequestToken} is not set as AWSPENDING for rotation of ${event.SecretId}`);
  }
  const config = configOf(secret);
  switch (event.Step) {
    case 'createSecret': return createSecret(deps, event);
    case 'setSecret': return setSecret(deps, event, secret, config);
    case 'testSecret': return testSecret(deps, event, config);
    case 'finishSecret': return finishSecret(deps, event, secret, config);
    default: throw new Error(`Unknown rotation step ${String((event as { Step?: unknown }).Step)}`);
  }
}

export interface RetireOutcome {
  readonly secretId: string;
  /** Ids of keys disabled and deleted in this run. */
  readonly retired: string[];
}

/**
 * Retires the keys of one secret that nobody should use any more: the predecessor of the
 * current key once its overlap has ended, and older keys (an earlier predecessor, or the key
 * of a rotation that failed before finishSecret). Never the current key, never a pending one,
 * and nothing at all while no key holds the current value: then it throws, so the alarm fires.
 */
export async function retireExpiredKeys(secretId: string, deps: RotationDeps): Promise<RetireOutcome> {
  const secret = await deps.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  const config = configOf(secret);
  const currentVersion = versionWithStage(secret, CURRENT);
  const pendingVersion = versionWithStage(secret, PENDING);
  const keys = await ownedKeys(deps, config);
  const claimants = keys.filter((k) => k.tags?.[TAG_SECRET_VERSION] === currentVersion);
  if (claimants.length !== 1) {
    if (keys.length === 0) return { secretId, retired: [] }; // before the first rotation
    // None: someone deleted it. Several: tags copied out of band (e.g. a hand rotation of a
    // rotated key). Either way the key that works for the client is unknown: retire nothing.
    throw new Error(`${claimants.length === 0 ? 'No key holds' : `${claimants.length} keys (${claimants.map((k) => k.id).join(', ')}) claim`} the current value of ${config.secretArn}; keeping all ${keys.length} keys of client ${config.clientName}`);
  }
  const current = claimants[0];
  const now = deps.now().getTime();
  const retired: string[] = [];
  for (const key of keys) {
    const version = key.tags?.[TAG_SECRET_VERSION];
    if (key === current || version === pendingVersion || !key.id) continue;
    if (current.tags?.[TAG_ROTATION_OF] === key.id) {
      const retireAt = Date.parse(current.tags?.[TAG_RETIRE_AFTER] ?? '');
      if (Number.isNaN(retireAt) || now < retireAt) continue; // still in its overlap
    }
    if (key.enabled) {
      await deps.apigw.send(new UpdateApiKeyCommand({ apiKey: key.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
    }
    try {
      await deps.apigw.send(new DeleteApiKeyCommand({ apiKey: key.id }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    retired.push(key.id);
  }
  return { secretId, retired };
}

/**
 * The secrets with one of these name prefixes whose rotation is on (a client set cancels the
 * rotation of a client it retires: its keys stay as they are until the set deletes them).
 * ListSecrets' name filter is a case-sensitive prefix match; secrets scheduled for deletion
 * are not listed.
 */
export async function secretsWithPrefixes(prefixes: readonly string[], deps: RotationDeps): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of prefixes) {
    for await (const page of paginateListSecrets({ client: deps.secrets }, { Filters: [{ Key: 'name', Values: [prefix] }] })) {
      for (const secret of page.SecretList ?? []) {
        if (secret.ARN && secret.Name?.startsWith(prefix) && secret.RotationEnabled) out.push(secret.ARN);
      }
    }
  }
  return out;
}

let clients: RotationDeps | undefined;

/**
 * The hourly retire run: every listed secret and every secret with one of the name prefixes.
 * One secret's failure doesn't stop the others; the run still fails, so the errors alarm fires.
 */
export async function retireRun(event: RetireEvent, deps: RotationDeps): Promise<RetireOutcome[]> {
  const outcomes: RetireOutcome[] = [];
  const failures: string[] = [];
  let secretIds = [...event.secretIds];
  try {
    secretIds = [...secretIds, ...await secretsWithPrefixes(event.secretNamePrefixes ?? [], deps)];
  } catch (err) {
    failures.push(`listing secrets ${JSON.stringify(event.secretNamePrefixes)}: ${(err as Error).message}`);
  }
  for (const secretId of secretIds) {
    try {
      outcomes.push(await retireExpiredKeys(secretId, deps));
    } catch (err) {
      failures.push(`${secretId}: ${(err as Error).message}`);
    }
  }
  console.log(JSON.stringify({ retired: outcomes.filter((o) => o.retired.length > 0) }));
  if (failures.length > 0) throw new Error(`Retiring keys failed for ${failures.length} secret(s): ${failures.join('; ')}`);
  return outcomes;
}

/** The Lambda entry point: a rotation step from Secrets Manager, or the hourly retire run. */
export async function handler(event: RotationEvent | RetireEvent): Promise<RetireOutcome[] | void> {
  clients ??= { secrets: new SecretsManagerClient({}), apigw: new APIGatewayClient({ maxAttempts: 8 }), now: () => new Date() };
  if ('action' in event && event.action === 'retire') return retireRun(event, clients);
  const step = event as RotationEvent;
  console.log(JSON.stringify({ step: step.Step, secretId: step.SecretId, version: step.ClientRequestToken }));
  await rotationStep(step, clients);
}
