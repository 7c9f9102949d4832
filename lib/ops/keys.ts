import {
  APIGatewayClient, ApiKey, DeleteApiKeyCommand, UpdateApiKeyCommand, UsagePlan,
} from '@aws-sdk/client-api-gateway';
import { UsageError } from './errors';
import { TAG_PORTAL_STATUS } from '../shared/portal';
import { managedBy, managedKeyReason, portalKeyAdvice, rotateThroughSecretsManager, rotationSecretOf } from '../shared/managed';
import { listApiKeys, listUsagePlanKeys, listUsagePlans } from '../sdk/paginate';
import { planStages, resolveKey, resolvePlan } from '../sdk/resolve';

export interface PlanRef {
  readonly id: string;
  readonly name: string;
}

export interface KeyInfo {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly description?: string;
  readonly createdDate?: string;
  readonly lastUpdatedDate?: string;
  readonly customerId?: string;
  readonly plans: PlanRef[];
  /** `apiId/stage` of every stage the key's plans cover. */
  readonly stages: string[];
  readonly tags: Record<string, string>;
  /** Only when asked for. */
  readonly value?: string;
}

export interface ListKeysOptions {
  /** Only keys in this plan (name or id). */
  readonly plan?: string;
  /** A glob (`*`, `?`) on the name; without wildcards a prefix. */
  readonly name?: string;
}

/** Converts a name pattern (glob; no wildcard = prefix) to a regular expression. */
export function namePattern(pattern: string): RegExp {
  const glob = /[*?]/.test(pattern) ? pattern : `${pattern}*`;
  const source = glob.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`);
}

function toInfo(key: ApiKey, plans: readonly UsagePlan[], withValue: boolean): KeyInfo {
  const stages = [...new Set(plans.flatMap(planStages))].sort();
  return {
    id: key.id ?? '',
    name: key.name ?? '',
    enabled: key.enabled ?? false,
    description: key.description,
    createdDate: key.createdDate?.toISOString(),
    lastUpdatedDate: key.lastUpdatedDate?.toISOString(),
    customerId: key.customerId,
    plans: plans.map((p) => ({ id: p.id ?? '', name: p.name ?? '' })),
    stages,
    tags: { ...(key.tags ?? {}) },
    ...(withValue && key.value !== undefined ? { value: key.value } : {}),
  };
}

/** Every key (all pages) with its plans and stages, filtered by plan and name pattern. */
export async function listKeys(client: APIGatewayClient, options: ListKeysOptions = {}): Promise<KeyInfo[]> {
  const [keys, allPlans] = await Promise.all([listApiKeys(client), listUsagePlans(client)]);
  const plans = options.plan ? [resolvePlan(allPlans, options.plan)] : allPlans;
  const plansOfKey = new Map<string, UsagePlan[]>();
  for (const plan of allPlans) {
    // One plan after the other: GetUsagePlanKeys shares the 10 rps quota.
    const members = await listUsagePlanKeys(client, plan.id ?? '');
    for (const m of members) {
      const list = plansOfKey.get(m.id ?? '') ?? [];
      list.push(plan);
      plansOfKey.set(m.id ?? '', list);
    }
  }
  const re = options.name ? namePattern(options.name) : undefined;
  const wanted = new Set(plans.map((p) => p.id));
  return keys
    .filter((k) => !re || re.test(k.name ?? ''))
    .filter((k) => !options.plan || (plansOfKey.get(k.id ?? '') ?? []).some((p) => wanted.has(p.id)))
    .map((k) => toInfo(k, plansOfKey.get(k.id ?? '') ?? [], false))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** One key (by name or id) with its plans; the value only when `showValue`. */
export async function showKey(client: APIGatewayClient, ref: string, options: { showValue?: boolean } = {}): Promise<KeyInfo> {
  const key = await resolveKey(client, ref, { includeValue: options.showValue });
  const plans = await listUsagePlans(client, key.id);
  return toInfo(key, plans, options.showValue === true);
}

/** Options of the commands that change one key out of band. */
export interface KeyChangeOptions {
  /** Change a key that a CloudFormation stack or a client set manages anyway. */
  readonly overrideManaged?: boolean;
}

/**
 * Refuses to change a key that infrastructure as code, a rotation schedule or a developer
 * portal manages, unless told to: the change would drift from its owner (CloudFormation puts it
 * back only when that property changes in the template; a client set's next deploy does; a
 * portal keeps the subscription's state in the key's tags).
 */
export function refuseManagedChange(key: ApiKey, action: string, options: KeyChangeOptions): void {
  const reason = managedKeyReason(key);
  if (!reason || options.overrideManaged) return;
  const anyway = 'Pass --override-managed to do it anyway (e.g. to stop a leaked key now)';
  const secret = rotationSecretOf(key);
  if (secret !== undefined) throw new UsageError(`Not ${action} "${key.name}" (${key.id}): ${reason}. ${rotateThroughSecretsManager(secret)} ${anyway}.`);
  if (managedBy(key) === 'portal') {
    throw new UsageError(`Not ${action} "${key.name}" (${key.id}): ${reason}. ${portalKeyAdvice('change')} `
      + `${anyway}; the portal's record of the subscription (the key's keygate:portal-status tag) is not changed.`);
  }
  throw new UsageError(`Not ${action} "${key.name}" (${key.id}): ${reason}. Change it in the code that manages it and deploy; `
    + `a change made here drifts from the code. ${anyway}.`);
}

/** What `keys enable|disable --override-managed` warns after changing a managed key: how its owner sees it now. */
export function overrideWarning(key: KeyInfo): string | undefined {
  const managed = managedKeyReason(key);
  if (!managed) return undefined;
  if (managedBy(key) === 'portal') {
    return `warning: ${managed}; the portal still records the subscription as ${key.tags[TAG_PORTAL_STATUS] ?? 'active'}. ${portalKeyAdvice('change')}`;
  }
  return `warning: ${managed}; this change drifts from the code until it is made there.`;
}

/** Enables or disables a key. Returns the key as it is afterwards. */
export async function setKeyEnabled(client: APIGatewayClient, ref: string, enabled: boolean, options: KeyChangeOptions = {}): Promise<KeyInfo & { changed: boolean }> {
  const key = await resolveKey(client, ref);
  refuseManagedChange(key, enabled ? 'enabling' : 'disabling', options);
  let after = key;
  const changed = (key.enabled ?? false) !== enabled;
  if (changed) {
    after = await client.send(new UpdateApiKeyCommand({
      apiKey: key.id,
      patchOperations: [{ op: 'replace', path: '/enabled', value: String(enabled) }],
    }));
  }
  const plans = await listUsagePlans(client, key.id);
  return { ...toInfo({ ...key, ...after, enabled }, plans, false), changed };
}

/** Deletes a key (by name or id). */
export async function deleteKey(client: APIGatewayClient, ref: string, options: KeyChangeOptions = {}): Promise<KeyInfo> {
  const key = await resolveKey(client, ref);
  refuseManagedChange(key, 'deleting', options);
  const plans = await listUsagePlans(client, key.id);
  await client.send(new DeleteApiKeyCommand({ apiKey: key.id }));
  return toInfo(key, plans, false);
}
