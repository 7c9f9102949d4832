/*
 * The secrets of a rotating client set: one Secrets Manager secret per client, named
 * `keygate/<setId>/<client>`, created at deploy time and put on the stack's rotation schedule.
 * The keys belong to the schedule (the rotation Lambda creates and retires them, tagged with
 * the secret's ARN); the set owns the secrets and decides, per deploy, which clients exist and
 * in which tiers.
 *
 * Same rules as the set's imported keys (reconcile.ts): no state outside the AWS services (each
 * pass lists the set's secrets by name prefix, with their tags, and the keys tagged with their
 * ARNs); the whole plan is made and checked before the first write; every step is checked
 * against what is there first, so a retried pass (the Provider framework's next isComplete, a
 * Lambda that timed out) carries on; a secret of another resource is never touched.
 *
 * Lifecycle of a client:
 * - added: CreateSecret (a random placeholder value that no key holds, like a single rotating
 *   client's CloudFormation secret), then RotateSecret with the rotation Lambda, the period and
 *   RotateImmediately, so the first rotation creates the client's first key;
 * - tiers changed: the usage-plans tag of the secret (what the next rotation reads) and the
 *   client's current keys moved to the new plans (a plan of another stage before the old is left);
 * - removed: retired — rotation cancelled, keys disabled, the secret tagged with the request;
 *   a rollback declares the client again: keys enabled, rotation on again without rotating;
 * - removed by an earlier request: its keys deleted, then the secret (with a recovery window).
 */
import type { ApiKey, UsagePlanKey } from '@aws-sdk/client-api-gateway';
import {
  CancelRotateSecretCommand, CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, ListSecretsCommand, RestoreSecretCommand,
  RotateSecretCommand, SecretListEntry, SecretsManagerClient, TagResourceCommand, UntagResourceCommand, UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { isSecretNameTaken } from '../../sdk/errors';
import { realSleep } from '../../sdk/retry';
import { collectPages } from '../../sdk/paginate';
import { CLIENT_SET_TAG, generateKeyValue, TAG_BASE_NAME } from '../../shared/constants';
import {
  clientSetSecretName, clientSetSecretPrefix, SECRET_TAG_OVERLAP_SECONDS, SECRET_TAG_SET_ADOPTED_FROM, SECRET_TAG_SET_OWNER,
  SECRET_TAG_SET_RETIRED, SECRET_TAG_USAGE_PLANS, TAG_ROTATION_SECRET,
} from '../../shared/rotation-tags';
import { ControlPlane, DeadlineReached } from './control-plane';
import type { ClientSetManifest } from '../../shared/manifest';
import type { ReconcileContext } from './reconcile';

/** The rotation settings of a set, as the custom resource passes them. */
export interface RotationSettings {
  readonly lambdaArn: string;
  readonly scheduleExpression: string;
  readonly overlapSeconds: number;
  readonly recoveryWindowDays: number;
}

/** A client's secret as it should be. */
export interface DesiredSecret {
  readonly client: string;
  readonly name: string;
  readonly description?: string;
  /** Usage plan ids, sorted. */
  readonly planIds: string[];
  /** The client's own tags (copied to its keys by the rotation). */
  readonly tags: { [key: string]: string };
}

/** A secret of the set, as listed. */
export interface ListedSecret {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly tags: { [key: string]: string };
  readonly rotationEnabled: boolean;
  readonly lambdaArn?: string;
  readonly scheduleExpression?: string;
  /** Scheduled for deletion (restorable during the recovery window). */
  readonly deleted: boolean;
}

/** A key the rotation created for one of the set's secrets. */
export interface RotationKey {
  readonly id: string;
  readonly secretArn: string;
  readonly enabled: boolean;
  /** Plans in scope the key is in, sorted. */
  readonly planIds: string[];
}

/** One write, in the order they run. */
export type SecretAction =
  | { readonly kind: 'create'; readonly want: DesiredSecret }
  | { readonly kind: 'restore'; readonly secret: ListedSecret }
  | { readonly kind: 'describe'; readonly secret: ListedSecret; readonly description: string }
  | { readonly kind: 'tag'; readonly secret: ListedSecret; readonly tags: { [key: string]: string } }
  | { readonly kind: 'untag'; readonly secret: ListedSecret; readonly keys: string[] }
  | { readonly kind: 'enable-key' | 'disable-key' | 'delete-key'; readonly key: RotationKey }
  | { readonly kind: 'move-key'; readonly key: RotationKey; readonly addPlans: string[]; readonly removePlans: string[] }
  | { readonly kind: 'start-rotation'; readonly secret: ListedSecret; readonly immediately: boolean }
  | { readonly kind: 'cancel-rotation' | 'delete-secret'; readonly secret: ListedSecret };

export interface SecretPlan {
  readonly actions: SecretAction[];
  /** Secrets of the set that another resource owns (no adoption declared). */
  readonly foreign: ListedSecret[];
  readonly clients: number;
  readonly retired: number;
}

/** The secrets a manifest declares. */
export function desiredSecrets(manifest: ClientSetManifest, tiers: { [tierKey: string]: string }, setId: string): DesiredSecret[] {
  return manifest.clients.map((client) => ({
    client: client.name,
    name: clientSetSecretName(setId, client.name),
    description: client.description,
    planIds: [...new Set(client.tiers.map((tier) => {
      const planId = tiers[tier];
      if (planId === undefined) throw new Error(`client ${client.name} refers to tier ${tier}, which the resource does not define`);
      return planId;
    }))].sort(),
    tags: client.tags ?? {},
  }));
}

/** Secrets Manager as the reconciler uses it: counted calls, none started after the deadline. */
export class SecretsPlane {
  public readonly calls: { [operation: string]: number } = {};
  public writes = 0;

  constructor(public readonly client: SecretsManagerClient, private readonly options: { deadline?: number; now?: () => number } = {}) {}

  public async send<T>(operation: string, write: boolean, task: () => Promise<T>): Promise<T> {
    const now = this.options.now ?? Date.now;
    if (this.options.deadline !== undefined && now() >= this.options.deadline) throw new DeadlineReached(operation);
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
    if (write) this.writes++;
    return task();
  }

  /** The set's secrets, those scheduled for deletion included (a removed client may come back). */
  public async list(setId: string): Promise<ListedSecret[]> {
    const prefix = clientSetSecretPrefix(setId);
    const out: ListedSecret[] = [];
    let token: string | undefined;
    do {
      const page = await this.send('ListSecrets', false, () => this.client.send(new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [prefix] }], IncludePlannedDeletion: true, MaxResults: 100, NextToken: token,
      })));
      for (const entry of page.SecretList ?? []) if (entry.ARN && entry.Name?.startsWith(prefix)) out.push(listed(entry));
      token = page.NextToken;
    } while (token);
    return out;
  }

  public async describe(secretId: string): Promise<ListedSecret> {
    return listed(await this.send('DescribeSecret', false, () => this.client.send(new DescribeSecretCommand({ SecretId: secretId }))));
  }
}

function listed(entry: SecretListEntry): ListedSecret {
  return {
    arn: entry.ARN ?? '',
    name: entry.Name ?? '',
    description: entry.Description,
    tags: Object.fromEntries((entry.Tags ?? []).filter((t) => t.Key && !t.Key.startsWith('aws:')).map((t) => [t.Key ?? '', t.Value ?? ''])),
    rotationEnabled: entry.RotationEnabled === true,
    lambdaArn: entry.RotationLambdaARN,
    scheduleExpression: entry.RotationRules?.ScheduleExpression,
    deleted: entry.DeletedDate !== undefined,
  };
}

/** The keys tagged with one of `secretArns`, with their memberships in the plans in scope. */
export async function listRotationKeys(cp: ControlPlane, secretArns: ReadonlySet<string>, plansInScope: readonly string[]): Promise<RotationKey[]> {
  if (secretArns.size === 0) return [];
  const all = await collectPages<ApiKey>((position) => cp.getApiKeysPage(position));
  const keys = all.filter((key) => key.id && secretArns.has(key.tags?.[TAG_ROTATION_SECRET] ?? ''));
  const plansOf = new Map<string, string[]>(keys.map((key) => [key.id ?? '', []]));
  if (keys.length > 0) {
    for (const planId of [...new Set(plansInScope)].sort()) {
      const members = await collectPages<UsagePlanKey>((position) => cp.getUsagePlanKeysPage(planId, position));
      for (const member of members) plansOf.get(member.id ?? '')?.push(planId);
    }
  }
  return keys.map((key) => ({
    id: key.id ?? '', secretArn: key.tags?.[TAG_ROTATION_SECRET] ?? '', enabled: key.enabled ?? true, planIds: (plansOf.get(key.id ?? '') ?? []).sort(),
  }));
}

/** The secret's description: the entry's, else one that names the client and the set. */
function descriptionOf(want: DesiredSecret, setId: string): string {
  return want.description ?? `API key of client ${want.client} of keygate client set ${setId}, rotated on a schedule`;
}

/** The tags keygate writes on a client's secret (the rotation Lambda reads the rotation ones). */
function keygateTags(want: DesiredSecret, ctx: ReconcileContext, settings: RotationSettings, from: string | undefined): { [key: string]: string } {
  return {
    [TAG_BASE_NAME]: want.client,
    [CLIENT_SET_TAG]: ctx.setId,
    [SECRET_TAG_SET_OWNER]: ctx.owner,
    [SECRET_TAG_USAGE_PLANS]: want.planIds.join(' '),
    [SECRET_TAG_OVERLAP_SECONDS]: String(settings.overlapSeconds),
    ...(from ? { [SECRET_TAG_SET_ADOPTED_FROM]: from } : {}),
  };
}

/** Whether this resource owns the secret: every secret a set makes carries its owner from the start. */
function isMine(secret: ListedSecret, ctx: ReconcileContext): boolean {
  return secret.tags[SECRET_TAG_SET_OWNER] === ctx.owner;
}

/** Whether this resource may take the secret over: another resource of the same set made it, and the set adopts. */
function mayAdopt(secret: ListedSecret, ctx: ReconcileContext): boolean {
  return ctx.adopt && secret.tags[CLIENT_SET_TAG] === ctx.setId && secret.tags[SECRET_TAG_SET_OWNER] !== undefined;
}

/**
 * The plan for a Create or Update: pure. `scope` holds the plans of this and the previous
 * deployment's tiers (memberships in other plans are left alone).
 */
export function planSecrets(desired: readonly DesiredSecret[], secrets: readonly ListedSecret[], keys: readonly RotationKey[], scope: readonly string[],
  ctx: ReconcileContext, settings: RotationSettings): SecretPlan {
  const byName = new Map(secrets.map((s) => [s.name, s]));
  const keysOf = (arn: string) => keys.filter((k) => k.secretArn === arn);
  const inScope = new Set(scope);
  const actions: SecretAction[] = [];
  const foreign: ListedSecret[] = [];
  const starts: SecretAction[] = [];
  let retired = 0;
  for (const want of desired) {
    const secret = byName.get(want.name);
    if (!secret) {
      actions.push({ kind: 'create', want });
      continue;
    }
    if (!isMine(secret, ctx) && !mayAdopt(secret, ctx)) {
      foreign.push(secret);
      continue;
    }
    if (secret.deleted) actions.push({ kind: 'restore', secret });
    const owner = secret.tags[SECRET_TAG_SET_OWNER];
    const from = owner !== undefined && owner !== ctx.owner ? owner : secret.tags[SECRET_TAG_SET_ADOPTED_FROM];
    const tags = { ...want.tags, ...keygateTags(want, ctx, settings, from) };
    const changed = Object.fromEntries(Object.entries(tags).filter(([k, v]) => secret.tags[k] !== v));
    if (Object.keys(changed).length > 0) actions.push({ kind: 'tag', secret, tags: changed });
    const description = descriptionOf(want, ctx.setId);
    if ((secret.description ?? '') !== description) actions.push({ kind: 'describe', secret, description });
    const own = keysOf(secret.arn);
    for (const key of own) {
      const addPlans = want.planIds.filter((id) => !key.planIds.includes(id));
      const removePlans = key.planIds.filter((id) => inScope.has(id) && !want.planIds.includes(id));
      if (addPlans.length + removePlans.length > 0) actions.push({ kind: 'move-key', key, addPlans, removePlans });
    }
    const wasRetired = secret.tags[SECRET_TAG_SET_RETIRED] !== undefined;
    // A restored client: its keys work again before its rotation does.
    if (wasRetired) for (const key of own) if (!key.enabled) actions.push({ kind: 'enable-key', key });
    const configured = secret.rotationEnabled && secret.lambdaArn === settings.lambdaArn && secret.scheduleExpression === settings.scheduleExpression;
    // No key yet (a new client, a first rotation that never finished, keys deleted while the
    // secret waited for deletion): rotate now, which creates one. Else only turn the schedule on.
    if (!configured || secret.deleted) starts.push({ kind: 'start-rotation', secret, immediately: own.length === 0 });
    const stale = Object.keys(secret.tags).filter((k) => !(k in tags));
    // The retired marker goes last, so an interrupted restore is taken up again.
    if (stale.length > 0) starts.push({ kind: 'untag', secret, keys: stale });
  }
  const declared = new Set(desired.map((want) => want.name));
  for (const secret of secrets) {
    if (declared.has(secret.name)) continue;
    if (!isMine(secret, ctx)) {
      if (!mayAdopt(secret, ctx)) foreign.push(secret);
      continue;
    }
    const own = keysOf(secret.arn);
    const retiredBy = secret.tags[SECRET_TAG_SET_RETIRED];
    if (secret.deleted || (retiredBy !== undefined && retiredBy !== ctx.requestToken)) {
      // Removed by an earlier deploy: keys first, then the secret (restorable for its recovery window).
      for (const key of own) actions.push({ kind: 'delete-key', key });
      if (!secret.deleted) actions.push({ kind: 'delete-secret', secret });
      continue;
    }
    retired++;
    if (secret.rotationEnabled) actions.push({ kind: 'cancel-rotation', secret });
    for (const key of own) if (key.enabled) actions.push({ kind: 'disable-key', key });
    if (retiredBy === undefined) actions.push({ kind: 'tag', secret, tags: { [SECRET_TAG_SET_RETIRED]: ctx.requestToken } });
  }
  return { actions: [...actions, ...starts], foreign, clients: desired.length, retired };
}

/**
 * The plan for a Delete of the resource: its secrets and their keys go (the secrets with a
 * recovery window); secrets it adopted in a replacement that is rolled back go back to their
 * previous owner; secrets another resource adopted from it are released.
 */
export function planSecretsDelete(secrets: readonly ListedSecret[], keys: readonly RotationKey[], ctx: ReconcileContext): SecretPlan {
  const actions: SecretAction[] = [];
  for (const secret of secrets) {
    const from = secret.tags[SECRET_TAG_SET_ADOPTED_FROM];
    if (isMine(secret, ctx) && from) {
      actions.push({ kind: 'tag', secret, tags: { [SECRET_TAG_SET_OWNER]: from } }, { kind: 'untag', secret, keys: [SECRET_TAG_SET_ADOPTED_FROM] });
    } else if (isMine(secret, ctx)) {
      for (const key of keys) if (key.secretArn === secret.arn) actions.push({ kind: 'delete-key', key });
      if (!secret.deleted) actions.push({ kind: 'delete-secret', secret });
    } else if (from === ctx.owner && !secret.deleted) {
      actions.push({ kind: 'untag', secret, keys: [SECRET_TAG_SET_ADOPTED_FROM] });
    }
  }
  return { actions, foreign: [], clients: 0, retired: 0 };
}

/** The error for secrets of the set that another resource owns. */
export function foreignSecretsError(ctx: ReconcileContext, foreign: readonly ListedSecret[]): Error {
  const owners = [...new Set(foreign.map((s) => s.tags[SECRET_TAG_SET_OWNER] ?? 'none: not made by a keygate client set'))];
  return new Error(
    `${foreign.length} secrets of the client set ${ctx.setId} (${foreign.slice(0, 3).map((s) => s.name).join(', ')}${foreign.length > 3 ? ', …' : ''}) belong to another resource (${owners.slice(0, 3).join(', ')}); `
    + `this resource is ${ctx.owner}. If the set moved, set adoptExistingKeys: true to take them over; otherwise give this set another setId. Nothing was changed.`,
  );
}

export interface SecretPassOptions {
  readonly settings: RotationSettings;
  /** Milliseconds between two RotateSecret calls that rotate at once: each creates a key, and CreateApiKey allows 5 per second per region. Default 500. */
  readonly rotationSpacingMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

export interface SecretPassResult {
  readonly complete: boolean;
  readonly done: number;
  readonly pending: number;
  readonly clients: number;
  readonly retired: number;
}

/** Lists, plans (refusing foreign secrets before any write) and applies one time-boxed pass. */
export async function reconcileSecrets(cp: ControlPlane, sm: SecretsPlane, ctx: ReconcileContext, desired: readonly DesiredSecret[] | undefined,
  scope: readonly string[], stages: Map<string, string[]>, options: SecretPassOptions): Promise<SecretPassResult> {
  let plan: SecretPlan;
  try {
    plan = await planSecretPass(cp, sm, ctx, desired, scope, options.settings);
  } catch (err) {
    if (err instanceof DeadlineReached) return { complete: false, done: 0, pending: 0, clients: 0, retired: 0 };
    throw err;
  }
  if (plan.foreign.length > 0) throw foreignSecretsError(ctx, plan.foreign);
  options.log?.(`secrets: ${plan.actions.length} changes (${summary(plan.actions)}), ${plan.retired} retired`);
  let done = 0;
  try {
    for (const action of plan.actions) {
      await applySecretAction(cp, sm, ctx, action, stages, options);
      done++;
    }
  } catch (err) {
    if (!(err instanceof DeadlineReached)) throw err;
    options.log?.(err.message);
  }
  return { complete: done === plan.actions.length, done, pending: plan.actions.length - done, clients: plan.clients, retired: plan.retired };
}

/** Listings and the plan, no writes: onEvent uses it to refuse a change before the first write. */
export async function planSecretPass(cp: ControlPlane, sm: SecretsPlane, ctx: ReconcileContext, desired: readonly DesiredSecret[] | undefined,
  scope: readonly string[], settings: RotationSettings): Promise<SecretPlan> {
  const secrets = await sm.list(ctx.setId);
  const keys = await listRotationKeys(cp, new Set(secrets.map((s) => s.arn)), scope);
  return desired ? planSecrets(desired, secrets, keys, scope, ctx, settings) : planSecretsDelete(secrets, keys, ctx);
}

function summary(actions: readonly SecretAction[]): string {
  const counts = new Map<string, number>();
  for (const a of actions) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ') || 'none';
}

async function applySecretAction(cp: ControlPlane, sm: SecretsPlane, ctx: ReconcileContext, action: SecretAction, stages: Map<string, string[]>, options: SecretPassOptions): Promise<void> {
  const { settings } = options;
  const smc = sm.client;
  switch (action.kind) {
    case 'create':
      return createSecret(cp, sm, ctx, action.want, stages, options);
    case 'restore':
      await sm.send('RestoreSecret', true, () => smc.send(new RestoreSecretCommand({ SecretId: action.secret.arn })));
      return;
    case 'describe':
      await sm.send('UpdateSecret', true, () => smc.send(new UpdateSecretCommand({ SecretId: action.secret.arn, Description: action.description })));
      return;
    case 'tag':
      await sm.send('TagResource', true, () => smc.send(new TagResourceCommand({ SecretId: action.secret.arn, Tags: Object.entries(action.tags).map(([Key, Value]) => ({ Key, Value })) })));
      return;
    case 'untag':
      await sm.send('UntagResource', true, () => smc.send(new UntagResourceCommand({ SecretId: action.secret.arn, TagKeys: action.keys })));
      return;
    case 'start-rotation':
      await startRotation(sm, action.secret.arn, settings, action.immediately, options);
      return;
    case 'cancel-rotation':
      await sm.send('CancelRotateSecret', true, () => smc.send(new CancelRotateSecretCommand({ SecretId: action.secret.arn })));
      return;
    case 'delete-secret':
      await sm.send('DeleteSecret', true, () => smc.send(new DeleteSecretCommand({ SecretId: action.secret.arn, RecoveryWindowInDays: settings.recoveryWindowDays })));
      return;
    case 'enable-key':
    case 'disable-key':
      await cp.updateApiKey(action.key.id, [{ op: 'replace', path: '/enabled', value: String(action.kind === 'enable-key') }]);
      return;
    case 'delete-key':
      await cp.deleteApiKey(action.key.id);
      return;
    case 'move-key':
      return cp.moveKey(action.key.id, action.addPlans, action.removePlans, stages);
  }
}

/** Creates a client's secret and starts its rotation (the first rotation gives the client its key). */
async function createSecret(
  cp: ControlPlane, sm: SecretsPlane, ctx: ReconcileContext, want: DesiredSecret, stages: Map<string, string[]>, options: SecretPassOptions,
): Promise<void> {
  const { settings } = options;
  let arn: string;
  try {
    const out = await sm.send('CreateSecret', true, () => sm.client.send(new CreateSecretCommand({
      Name: want.name,
      Description: descriptionOf(want, ctx.setId),
      // A placeholder no key holds: the first rotation replaces it with the client's first key.
      SecretString: generateKeyValue(40),
      Tags: Object.entries({ ...want.tags, ...keygateTags(want, ctx, settings, undefined) }).map(([Key, Value]) => ({ Key, Value })),
    })));
    arn = out.ARN ?? '';
  } catch (err) {
    // ListSecrets is eventually consistent: a secret created by an earlier pass may not be
    // listed yet. Plan it as the listing would have shown it (ours only if its tags say so).
    if (!isSecretNameTaken(err)) throw err;
    const plan = planSecrets([want], [await sm.describe(want.name)], [], [], ctx, settings);
    if (plan.foreign.length > 0) throw foreignSecretsError(ctx, plan.foreign);
    for (const next of plan.actions) await applySecretAction(cp, sm, ctx, next, stages, options);
    return;
  }
  await startRotation(sm, arn, settings, true, options);
}

async function startRotation(sm: SecretsPlane, secretArn: string, settings: RotationSettings, immediately: boolean, options: SecretPassOptions): Promise<void> {
  await sm.send('RotateSecret', true, () => sm.client.send(new RotateSecretCommand({
    SecretId: secretArn, RotationLambdaARN: settings.lambdaArn, RotationRules: { ScheduleExpression: settings.scheduleExpression }, RotateImmediately: immediately,
  })));
  // Each immediate rotation creates a key (CreateApiKey: 5 per second per region): pace them.
  if (immediately) await (options.sleep ?? realSleep)(options.rotationSpacingMs ?? 500);
}
