import {
  APIGatewayClient, ApiKey, CreateApiKeyCommand, DeleteApiKeyCommand, GetApiKeyCommand,
  UpdateApiKeyCommand, UsagePlan,
} from '@aws-sdk/client-api-gateway';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { timingSafeEqual } from 'crypto';
import { generateKeyValue, TAG_BASE_NAME, TAG_GENERATION, TAG_RETIRE_AFTER, TAG_ROTATION_OF, TAG_SECRET_ARN } from '../shared/constants';
import { isConcurrentModification, isConflict, isNotFound, OpsError, UsageError } from '../sdk/errors';
import { RetryPolicy, Sleep } from '../sdk/retry';
import { addKeyToPlan } from '../sdk/plan-keys';
import { managedBy, managedKeyReason, portalKeyAdvice, rotateThroughSecretsManager, rotationSecretOf } from '../shared/managed';
import { listApiKeys, listUsagePlans } from '../sdk/paginate';
import { resolveKey } from '../sdk/resolve';

export { TAG_BASE_NAME, TAG_GENERATION, TAG_RETIRE_AFTER, TAG_ROTATION_OF, TAG_SECRET_ARN, generateKeyValue } from '../shared/constants';

/** Tags that describe one key's place in a rotation and are not copied to the successor. */
const ROTATION_TAGS = [TAG_ROTATION_OF, TAG_RETIRE_AFTER, TAG_GENERATION];

/** Parses `7d`, `36h`, `90m`, `2w`, `30s` or `0` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(w|d|h|m|s)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`Invalid duration "${text}": use a number with a unit, e.g. 7d, 36h, 90m (w, d, h, m, s).`);
  const unit = (m[2] ?? 'd').toLowerCase();
  const factor = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[unit] ?? 86_400_000;
  return Math.round(Number(m[1]) * factor);
}

function generationOf(key: ApiKey): number {
  const n = Number(key.tags?.[TAG_GENERATION] ?? '1');
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/**
 * The successor's name: `<client>-gen<N>`, like the CDK constructs name key generations
 * (client = the `keygate:client` tag, else the key's name).
 */
export function successorName(key: ApiKey): string {
  const base = key.tags?.[TAG_BASE_NAME] ?? key.name ?? key.id ?? 'key';
  return `${base}-gen${generationOf(key) + 1}`;
}

function refuseManaged(key: ApiKey, what: 'rotating' | 'retiring'): void {
  const reason = managedKeyReason(key);
  const secret = rotationSecretOf(key);
  if (reason && secret !== undefined) {
    throw new UsageError(`Not ${what} key "${key.name}" (${key.id}) out of band: ${reason}. ${rotateThroughSecretsManager(secret)}`);
  }
  if (reason && managedBy(key) === 'portal') {
    throw new UsageError(`Not ${what} key "${key.name}" (${key.id}) out of band: ${reason}. ${portalKeyAdvice(what)}`);
  }
  if (reason) {
    const where = managedBy(key) === 'client-set'
      ? 'the client\'s entry in the client set (`generations` in code, or the `generations` column of its source file)'
      : 'the client in the CDK app';
    throw new UsageError(`Not ${what} key "${key.name}" (${key.id}) out of band: ${reason}. A change made here would drift from the code that manages it. `
      + `Rotate it in code instead: add the next key generation to ${where} (e.g. \`generations: [1, 2]\`), deploy, move the `
      + 'client to the new key, then drop the old generation (`generations: [2]`) and deploy again.');
  }
}

export type StepStatus = 'done' | 'already done' | 'skipped';

export interface RotationStep {
  readonly step: string;
  readonly status: StepStatus;
  readonly detail?: string;
}

export interface RotateOptions {
  /** How long the predecessor keeps working, in ms. Default 7 days. */
  readonly overlapMs?: number;
  /** Return the successor's value in the result. */
  readonly showValue?: boolean;
  readonly secrets?: SecretsManagerClient;
  readonly now?: () => Date;
  /** Value generator (tests). */
  readonly newValue?: () => string;
  /** Waits between attempts after a 409 "concurrent modification" (tests pass a fake). Default: real time. */
  readonly sleep?: Sleep;
}

/** Attempts of one plan association when API Gateway answers "concurrent modification". */
const PLAN_KEY_ATTEMPTS = 6;

/**
 * Puts a key in a plan. 409 means two different things: the key is in the plan already
 * (done), or another write of the region ran at the same time (back off and try again).
 */
async function addToPlan(client: APIGatewayClient, planId: string, keyId: string, retry: RetryPolicy): Promise<void> {
  await retry.run('CreateUsagePlanKey', () => addKeyToPlan(client, planId, keyId));
}

export interface RotateResult {
  readonly predecessor: { id: string; name: string };
  readonly successor: { id: string; name: string; enabled: boolean; value?: string };
  readonly plans: { id: string; name: string }[];
  readonly retireAfter: string;
  readonly secretArn?: string;
  readonly steps: RotationStep[];
}

/** Finds the successor of a key by its `keygate:rotation-of` tag (all pages of GetApiKeys). */
export async function findSuccessor(client: APIGatewayClient, key: ApiKey, options: { includeValue?: boolean } = {}): Promise<ApiKey | undefined> {
  const all = await listApiKeys(client, { includeValues: options.includeValue });
  const found = all.filter((k) => k.tags?.[TAG_ROTATION_OF] === key.id);
  if (found.length > 1) {
    throw new OpsError(`Key ${key.id} has ${found.length} successors (${found.map((k) => `${k.name} ${k.id}`).join(', ')}); delete the extra ones with \`keygate keys delete ID\` and re-run.`);
  }
  return found[0];
}

/** Writes `value` into the secret, keeping a JSON secret's shape. Returns false when it already held it. */
async function writeSecret(secrets: SecretsManagerClient, secretArn: string, oldValue: string | undefined, value: string, token: string): Promise<boolean> {
  let current: string | undefined;
  try {
    current = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  let next = value;
  if (current !== undefined) {
    try {
      const parsed: unknown = JSON.parse(current);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const obj = parsed as Record<string, unknown>;
        const field = Object.keys(obj).find((k) => obj[k] === oldValue || obj[k] === value)
          ?? ['apiKey', 'value', 'key', 'api_key'].find((k) => typeof obj[k] === 'string');
        if (field) {
          if (obj[field] === value) return false;
          next = JSON.stringify({ ...obj, [field]: value });
        }
      }
    } catch {
      // a plain string secret
    }
    if (current === value) return false;
  }
  await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: next, ClientRequestToken: token }));
  return true;
}

/**
 * Rotates a key: creates the successor (same plans, tags, enabled state; linked to the
 * predecessor and carrying the end of the overlap in its tags), adds it to the predecessor's
 * plans and writes its value to the key's secret if it has one. The predecessor is not
 * changed. Every step checks what is already there, so a re-run after a failure completes the
 * rotation instead of creating a second successor.
 */
export async function rotateKey(client: APIGatewayClient, ref: string, options: RotateOptions = {}): Promise<RotateResult> {
  const now = options.now ?? (() => new Date());
  const steps: RotationStep[] = [];
  const old = await resolveKey(client, ref, { includeValue: true });
  refuseManaged(old, 'rotating');
  const oldId = old.id ?? '';
  const oldPlans = await listUsagePlans(client, oldId);
  const secretArn = old.tags?.[TAG_SECRET_ARN];
  if (secretArn && !options.secrets) throw new OpsError(`Key ${old.name} keeps its value in ${secretArn} but no Secrets Manager client was given.`);

  const retireAfterNew = new Date(now().getTime() + (options.overlapMs ?? 7 * 86_400_000)).toISOString();

  // 1. the successor, carrying the whole rotation state in its tags
  const successor = await ensureSuccessor(client, old, retireAfterNew, options, steps);
  const newId = successor.id ?? '';

  // 2. same enabled state (a re-run after someone toggled the predecessor)
  if ((successor.enabled ?? false) !== (old.enabled ?? false)) {
    await client.send(new UpdateApiKeyCommand({ apiKey: newId, patchOperations: [{ op: 'replace', path: '/enabled', value: String(old.enabled ?? false) }] }));
    steps.push({ step: 'match enabled state', status: 'done', detail: String(old.enabled ?? false) });
  }

  // 3. same plans (one association at a time)
  await addSuccessorToPlans(client, old, successor, oldPlans, options, steps);

  // 4. the secret
  let value = successor.value;
  if (value === undefined) value = (await client.send(new GetApiKeyCommand({ apiKey: newId, includeValue: true }))).value;
  if (secretArn && options.secrets) {
    if (value === undefined) throw new OpsError(`Could not read the value of ${newId} to store it in ${secretArn}.`);
    const wrote = await writeSecret(options.secrets, secretArn, old.value, value, `keygate-rotation-${newId}-secret-value`);
    steps.push({ step: 'write secret', status: wrote ? 'done' : 'already done', detail: secretArn });
  }

  return {
    predecessor: { id: oldId, name: old.name ?? '' },
    successor: { id: newId, name: successor.name ?? '', enabled: old.enabled ?? false, ...(options.showValue && value !== undefined ? { value } : {}) },
    plans: oldPlans.map((p) => ({ id: p.id ?? '', name: p.name ?? '' })),
    retireAfter: successor.tags?.[TAG_RETIRE_AFTER] ?? retireAfterNew,
    ...(secretArn ? { secretArn } : {}),
    steps,
  };
}

/** The predecessor's successor: the one an earlier run created, or a new one. */
async function ensureSuccessor(client: APIGatewayClient, old: ApiKey, retireAfter: string, options: RotateOptions, steps: RotationStep[]): Promise<ApiKey> {
  let successor = await findSuccessor(client, old, { includeValue: true });
  if (successor) {
    steps.push({ step: 'create successor', status: 'already done', detail: `${successor.name} (${successor.id})` });
    return successor;
  }
  const oldId = old.id ?? '';
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(old.tags ?? {})) {
    if (!ROTATION_TAGS.includes(k) && !k.startsWith('aws:')) tags[k] = v;
  }
  tags[TAG_ROTATION_OF] = oldId;
  tags[TAG_GENERATION] = String(generationOf(old) + 1);
  tags[TAG_BASE_NAME] = old.tags?.[TAG_BASE_NAME] ?? old.name ?? oldId;
  tags[TAG_RETIRE_AFTER] = retireAfter;
  try {
    successor = await client.send(new CreateApiKeyCommand({
      name: successorName(old),
      description: old.description,
      enabled: old.enabled ?? false,
      customerId: old.customerId,
      value: (options.newValue ?? generateKeyValue)(),
      tags,
    }));
  } catch (err) {
    // An SDK retry after a lost response meets the key its first attempt created (same value).
    if (!isConflict(err)) throw err;
    successor = await findSuccessor(client, old, { includeValue: true });
    if (!successor) throw err;
  }
  steps.push({ step: 'create successor', status: 'done', detail: `${successor.name} (${successor.id})` });
  return successor;
}

/** Puts the successor in every plan of the predecessor, then reads the plans back to be sure. */
async function addSuccessorToPlans(
  client: APIGatewayClient, old: ApiKey, successor: ApiKey, oldPlans: UsagePlan[], options: RotateOptions, steps: RotationStep[],
): Promise<void> {
  const newId = successor.id ?? '';
  const rerun = `keygate keys rotate ${old.name ?? old.id ?? ''}`;
  const newPlanIds = new Set((await listUsagePlans(client, newId)).map((p) => p.id));
  const added: string[] = [];
  // The SDK retries throttling itself: only a concurrent modification is tried again here.
  const retry = new RetryPolicy({ maxAttempts: PLAN_KEY_ATTEMPTS, maxDelayMs: 8000, retryable: isConcurrentModification, sleep: options.sleep });
  for (const plan of oldPlans) {
    if (newPlanIds.has(plan.id)) continue;
    try {
      await addToPlan(client, plan.id ?? '', newId, retry);
    } catch (err) {
      if (!isConcurrentModification(err)) throw err;
      throw new OpsError(`Could not add ${successor.name} (${newId}) to the plan ${plan.name} (${plan.id}): API Gateway kept answering "concurrent modification" `
        + `(another write of the region, e.g. a deployment) after ${PLAN_KEY_ATTEMPTS} attempts. The successor is not usable yet; re-run \`${rerun}\` in a minute.`);
    }
    added.push(plan.name ?? plan.id ?? '');
  }
  // Believe the plans, not the answers: the successor must be in every plan of the predecessor.
  const nowIn = new Set((await listUsagePlans(client, newId)).map((p) => p.id));
  const missing = oldPlans.filter((p) => !nowIn.has(p.id));
  if (missing.length > 0) {
    throw new OpsError(`${successor.name} (${newId}) is not in the plan(s) ${missing.map((p) => `${p.name} (${p.id})`).join(', ')} after adding it; `
      + `its requests would get 403. Re-run \`${rerun}\`.`);
  }
  steps.push({ step: 'add to plans', status: added.length > 0 ? 'done' : 'already done', detail: oldPlans.map((p) => p.name ?? p.id).join(', ') || '(no plans)' });
}

export interface RetireOptions {
  /** Retire before the overlap ends. */
  readonly force?: boolean;
  readonly now?: () => Date;
  /** Reads the client's secret (keys with a secret-arn tag): it must hold the successor's value. */
  readonly secrets?: SecretsManagerClient;
}

export interface RetireResult {
  readonly predecessor: { id: string; name: string };
  readonly successor?: { id: string; name: string };
  readonly steps: RotationStep[];
}

/**
 * Retires the predecessor of a rotation (named by its own name/id or its successor's): after
 * checking that the successor is in all its plans and enabled like it, and that the overlap
 * has ended (unless `force`), disables it, then deletes it.
 */
export async function retireKey(client: APIGatewayClient, ref: string, options: RetireOptions = {}): Promise<RetireResult> {
  const now = options.now ?? (() => new Date());
  const key = await resolveKey(client, ref);
  let pred: ApiKey;
  let succ: ApiKey | undefined;
  const predId = key.tags?.[TAG_ROTATION_OF];
  const asPredecessorOf = await findSuccessor(client, key);
  if (!asPredecessorOf && predId) {
    // named by the successor
    succ = key;
    try {
      pred = await client.send(new GetApiKeyCommand({ apiKey: predId }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return { predecessor: { id: predId, name: '' }, successor: { id: key.id ?? '', name: key.name ?? '' }, steps: [{ step: 'delete predecessor', status: 'already done' }] };
    }
  } else {
    pred = key;
    succ = asPredecessorOf;
  }
  refuseManaged(pred, 'retiring');
  const complete = `Run \`keygate keys rotate ${pred.name ?? pred.id}\` to complete the rotation first.`;
  if (!succ) throw new UsageError(`Key "${pred.name}" (${pred.id}) has no successor, so retiring it would leave its client without a key. Rotate it first: \`keygate keys rotate ${pred.name ?? pred.id}\` (or delete it with \`keygate keys delete\`).`);
  const predPlans = await listUsagePlans(client, pred.id);
  const succPlans = new Set((await listUsagePlans(client, succ.id)).map((p) => p.id));
  const missing = predPlans.filter((p) => !succPlans.has(p.id));
  if (missing.length > 0) throw new UsageError(`The successor ${succ.name} (${succ.id}) is not yet in the plan(s) ${missing.map((p) => p.name).join(', ')}. ${complete}`);
  if (pred.enabled && !succ.enabled) throw new UsageError(`The successor ${succ.name} (${succ.id}) is disabled. Enable it (\`keygate keys enable ${succ.id}\`) or ${complete}`);
  const retireAfter = succ.tags?.[TAG_RETIRE_AFTER];
  const retireAt = Date.parse(retireAfter ?? '');
  const steps: RotationStep[] = [];
  if (Number.isNaN(retireAt) || now().getTime() < retireAt) {
    if (Number.isNaN(retireAt) && !options.force) {
      throw new UsageError(`The successor ${succ.name} (${succ.id}) has no valid ${TAG_RETIRE_AFTER} tag, so the end of the overlap is unknown. Pass --force to retire "${pred.name}" anyway.`);
    }
    if (!options.force) {
      throw new UsageError(`The overlap of "${pred.name}" (${pred.id}) ends at ${retireAfter}; its client may still use it. Re-run after that time, or pass --force to retire it now.`);
    }
    steps.push({ step: 'overlap', status: 'skipped', detail: `forced before ${retireAfter}` });
  }
  await checkSecretHoldsSuccessor(client, pred, succ, options.secrets, complete);
  if (pred.enabled) {
    await client.send(new UpdateApiKeyCommand({ apiKey: pred.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
    steps.push({ step: 'disable predecessor', status: 'done' });
  } else {
    steps.push({ step: 'disable predecessor', status: 'already done' });
  }
  try {
    await client.send(new DeleteApiKeyCommand({ apiKey: pred.id }));
    steps.push({ step: 'delete predecessor', status: 'done' });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    steps.push({ step: 'delete predecessor', status: 'already done' });
  }
  return { predecessor: { id: pred.id ?? '', name: pred.name ?? '' }, successor: { id: succ.id ?? '', name: succ.name ?? '' }, steps };
}

/**
 * A client that reads its key from a secret must find the successor's value there before the
 * predecessor stops working. Compared in constant time; never printed.
 */
async function checkSecretHoldsSuccessor(client: APIGatewayClient, pred: ApiKey, succ: ApiKey, secrets: SecretsManagerClient | undefined, complete: string): Promise<void> {
  const secretArn = pred.tags?.[TAG_SECRET_ARN] ?? succ.tags?.[TAG_SECRET_ARN];
  if (!secretArn) return;
  if (!secrets) throw new OpsError(`Key ${pred.name} keeps its value in ${secretArn} but no Secrets Manager client was given.`);
  const value = (await client.send(new GetApiKeyCommand({ apiKey: succ.id, includeValue: true }))).value ?? '';
  const stored = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString ?? '';
  let candidates = [stored];
  try {
    const parsed: unknown = JSON.parse(stored);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) candidates = Object.values(parsed).filter((v): v is string => typeof v === 'string');
  } catch {
    // a plain string secret
  }
  if (!candidates.some((candidate) => sameValue(candidate, value))) {
    throw new UsageError(`The secret ${secretArn} does not hold the value of the successor ${succ.name} (${succ.id}) yet, so the client would lose access when "${pred.name}" is disabled. ${complete}`);
  }
}

function sameValue(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
