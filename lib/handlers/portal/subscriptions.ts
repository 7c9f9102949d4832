/**
 * What a consumer does with their own subscription: subscribe, see it and its usage, reveal
 * the value after a fresh sign-in, roll, change tier, cancel. A consumer only ever reaches
 * keys found by their own `sub` (from the verified token), never a key id they send.
 */
import { ApiKey, DeleteApiKeyCommand, GetApiKeyCommand, GetUsageCommand, GetUsagePlanCommand, UntagResourceCommand } from '@aws-sdk/client-api-gateway';
import { TAG_RETIRE_AFTER, TAG_ROTATION_OF } from '../../shared/constants';
import { expiryOf } from '../../shared/expiry-rule';
import { PortalStatus, TAG_PORTAL_STATUS, TAG_PORTAL_TIER } from '../../shared/portal';
import { OfferedTier, tierNameOf } from './config';
import {
  associate, Caller, checkKeyHeadroom, createPortalKey, deleteKeyIfThere, dissociate, isMarketplaceKey, keyArn, PortalDeps, PortalError, portalKeys, setKey, statusOf,
} from './keys';
import { limitsInWords } from './words';

const MANAGED_ON_MARKETPLACE = 'Your subscription is billed through AWS Marketplace: change or cancel it there (Your Marketplace Software).';

/** A sign-in at most this old may reveal a key's value again. */
export const FRESH_SIGN_IN_SECONDS = 300;
const DAY = 86_400_000;

export async function listTiers(deps: PortalDeps): Promise<unknown[]> {
  return Promise.all(deps.config.tiers.map(async (t) => {
    const plan = await deps.apigw.send(new GetUsagePlanCommand({ usagePlanId: t.planId }));
    return { id: t.planId, name: t.name, description: plan.description ?? '', approval: t.approval, limits: limitsInWords(plan) };
  }));
}

function offered(deps: PortalDeps, planId: unknown): OfferedTier {
  const tier = deps.config.tiers.find((t) => t.planId === planId || t.name === planId);
  if (!tier) throw new PortalError(400, `tier ${JSON.stringify(String(planId).slice(0, 64))} is not offered here; choose one of ${deps.config.tiers.map((t) => t.name).join(', ')}`);
  return tier;
}

/** Statuses of a subscription that is still the consumer's (not cancelled or refused). */
const CURRENT: PortalStatus[] = ['pending', 'active', 'disabled', 'expired', 'idle'];
/** Statuses the portal's job sets: the key no longer works, and the consumer rolls it (or subscribes again) for a new one. */
const LAPSED: PortalStatus[] = ['expired', 'idle'];

/** The consumer's current subscription key: the newest one not cancelled or refused. */
async function current(deps: PortalDeps, caller: Caller): Promise<{ key?: ApiKey; all: ApiKey[] }> {
  const all = await portalKeys(deps, caller.sub);
  return { key: all.find((k) => CURRENT.includes(statusOf(k))), all };
}

/** When the key expires (ISO 8601), by keygate's one expiry rule, or undefined. */
export function expiresAtOf(key: ApiKey): string | undefined {
  const at = expiryOf({ createdDate: key.createdDate?.getTime() ?? 0, tags: key.tags });
  return at === undefined ? undefined : new Date(at).toISOString();
}

/** What the consumer is told about a lapsed key: why it stopped working and what to do. */
function noticeOf(deps: PortalDeps, key: ApiKey): string | undefined {
  const next = 'Roll it for a new key in the same tier, or cancel and subscribe again.';
  if (statusOf(key) === 'expired') return `Your key expired at ${expiresAtOf(key) ?? '(unknown)'} and no longer works. ${next}`;
  if (statusOf(key) === 'idle') {
    const days = deps.config.disableUnusedAfterDays;
    return `Your key was disabled because it had no requests ${days === undefined ? 'for a long time' : `for ${days} days`}. ${next}`;
  }
  return undefined;
}

export async function subscribe(deps: PortalDeps, caller: Caller, tierRef: unknown): Promise<Record<string, unknown>> {
  const tier = offered(deps, tierRef);
  const { key, all } = await current(deps, caller);
  if (key && !LAPSED.includes(statusOf(key))) throw new PortalError(409, 'You already have a subscription: change its tier, roll its key or cancel it first.');
  await checkKeyHeadroom(deps);
  // Keys of earlier, ended (or lapsed) subscriptions go: they count against the account's limit.
  for (const old of all) await deps.apigw.send(new DeleteApiKeyCommand({ apiKey: old.id! }));
  const status = tier.approval ? 'pending' : 'active';
  const made = await createPortalKey(deps, { consumer: caller, planId: tier.planId, status });
  deps.audit({ actor: caller.sub, action: 'subscribe', keyId: made.id, consumer: caller.sub, tier: tier.name, detail: status });
  if (status === 'pending') return { keyId: made.id, tier: tier.name, status };
  return { keyId: made.id, tier: tier.name, status, value: made.value };
}

/** The subscription with its usage per day in the last 30 days and what is left of the quota. */
export async function showSubscription(deps: PortalDeps, caller: Caller): Promise<Record<string, unknown>> {
  await retireDue(deps, caller.sub);
  const { key, all } = await current(deps, caller);
  if (!key) return { subscription: null, ended: all.map((k) => ({ keyId: k.id, status: statusOf(k) })) };
  const planId = key.tags![TAG_PORTAL_TIER];
  const predecessor = key.tags?.[TAG_ROTATION_OF];
  const usage = statusOf(key) === 'pending' ? { days: [], quotaLeft: null } : await usageOf(deps, planId, [key.id!, ...(predecessor ? [predecessor] : [])]);
  const expiresAt = expiresAtOf(key);
  const notice = noticeOf(deps, key);
  return {
    subscription: {
      keyId: key.id, tier: tierNameOf(deps.config, planId), status: statusOf(key), marketplace: isMarketplaceKey(key), enabled: key.enabled, createdDate: key.createdDate?.toISOString(),
      ...(expiresAt ? { expiresAt } : {}), ...(notice ? { notice } : {}),
      ...(predecessor ? { previousKeyId: predecessor, previousKeyRetiresAt: key.tags?.[TAG_RETIRE_AFTER] } : {}),
      ...usage,
    },
  };
}

/** GetUsage of the keys in the plan, summed per day (a rolled key's predecessor counts too). */
export async function usageOf(deps: PortalDeps, planId: string, keyIds: string[]): Promise<{ days: { date: string; used: number }[]; quotaLeft: number | null }> {
  const end = new Date(deps.now());
  const start = new Date(deps.now() - 29 * DAY);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const days = new Map<string, number>();
  let quotaLeft: number | null = null;
  for (const keyId of keyIds) {
    const u = await deps.apigw.send(new GetUsageCommand({ usagePlanId: planId, keyId, startDate: day(start), endDate: day(end) }));
    const first = u.startDate ? Date.parse(`${u.startDate}T00:00:00Z`) : start.getTime();
    const rows = u.items?.[keyId] ?? [];
    rows.forEach(([used, remaining], i) => {
      const date = day(new Date(first + i * DAY));
      days.set(date, (days.get(date) ?? 0) + (used ?? 0));
      if (i === rows.length - 1 && keyId === keyIds[0]) quotaLeft = remaining ?? null;
    });
  }
  return { days: [...days.entries()].map(([date, used]) => ({ date, used })), quotaLeft };
}

export async function revealValue(deps: PortalDeps, caller: Caller): Promise<Record<string, unknown>> {
  const ageSeconds = Math.floor(deps.now() / 1000) - caller.authTime;
  if (ageSeconds > FRESH_SIGN_IN_SECONDS) {
    throw new PortalError(403, `Sign in again to see your key: its value is shown only within ${FRESH_SIGN_IN_SECONDS / 60} minutes of signing in.`);
  }
  const { key } = await current(deps, caller);
  if (!key || statusOf(key) !== 'active') throw new PortalError(404, 'You have no active subscription.');
  const full = await deps.apigw.send(new GetApiKeyCommand({ apiKey: key.id!, includeValue: true }));
  deps.audit({ actor: caller.sub, action: 'reveal', keyId: key.id, consumer: caller.sub });
  return { keyId: key.id, value: full.value };
}

export async function roll(deps: PortalDeps, caller: Caller): Promise<Record<string, unknown>> {
  const { key } = await current(deps, caller);
  if (key && LAPSED.includes(statusOf(key))) return renew(deps, caller, key);
  if (!key || statusOf(key) !== 'active') throw new PortalError(409, 'Only an active, expired or idle subscription can roll its key.');
  if (key.tags?.[TAG_ROTATION_OF]) throw new PortalError(409, `Your previous key is still in its overlap until ${key.tags[TAG_RETIRE_AFTER]}: roll again after that.`);
  await checkKeyHeadroom(deps);
  const planId = key.tags![TAG_PORTAL_TIER];
  const retireAfter = new Date(deps.now() + deps.config.overlapSeconds * 1000).toISOString();
  // A Marketplace customer's new key is metered to them too (same customerId).
  const made = await createPortalKey(deps, {
    consumer: caller, planId, status: 'active', extraTags: { [TAG_ROTATION_OF]: key.id!, [TAG_RETIRE_AFTER]: retireAfter }, customerId: isMarketplaceKey(key) ? key.customerId : undefined,
  });
  // The predecessor is no longer the subscription: it only serves out its overlap.
  await setKey(deps, key.id!, { tags: { [TAG_PORTAL_STATUS]: 'cancelled' } });
  deps.audit({ actor: caller.sub, action: 'roll', keyId: made.id, consumer: caller.sub, detail: `predecessor ${key.id} retires after ${retireAfter}` });
  return { keyId: made.id, value: made.value, previousKeyId: key.id, previousKeyRetiresAt: retireAfter };
}

/**
 * Rolls a lapsed (expired or idle) key: a new key in the same tier, in service from now (a new
 * lifetime), with no overlap (the old key no longer works); the old key and a predecessor it
 * still had are deleted, as they count against the account's limit.
 */
async function renew(deps: PortalDeps, caller: Caller, key: ApiKey): Promise<Record<string, unknown>> {
  await checkKeyHeadroom(deps);
  const made = await createPortalKey(deps, { consumer: caller, planId: key.tags![TAG_PORTAL_TIER], status: 'active' });
  for (const id of [key.id!, ...(key.tags?.[TAG_ROTATION_OF] ? [key.tags[TAG_ROTATION_OF]] : [])]) await deleteKeyIfThere(deps, id);
  deps.audit({ actor: caller.sub, action: 'roll', keyId: made.id, consumer: caller.sub, detail: `replaces ${statusOf(key)} key ${key.id}` });
  return { keyId: made.id, value: made.value, previousKeyId: key.id };
}

/** Disables and deletes predecessors whose overlap has ended (for one consumer, or all of the portal's). */
export async function retireDue(deps: PortalDeps, consumer?: string): Promise<string[]> {
  const retired: string[] = [];
  for (const k of await portalKeys(deps, consumer)) {
    const pred = k.tags?.[TAG_ROTATION_OF];
    const after = Date.parse(k.tags?.[TAG_RETIRE_AFTER] ?? '');
    if (!pred || !(after <= deps.now())) continue;
    await deleteKeyIfThere(deps, pred);
    await deps.apigw.send(new UntagResourceCommand({ resourceArn: keyArn(k.id!), tagKeys: [TAG_ROTATION_OF, TAG_RETIRE_AFTER] }));
    deps.audit({ actor: 'portal', action: 'retire', keyId: pred, consumer: k.tags?.['keygate:portal-consumer'], detail: `overlap of ${k.id} ended` });
    retired.push(pred);
  }
  return retired;
}

export async function changeTier(deps: PortalDeps, caller: Caller, tierRef: unknown): Promise<Record<string, unknown>> {
  if (!deps.config.tierChangeAllowed) throw new PortalError(403, 'This portal does not allow changing tiers: cancel and subscribe again.');
  const tier = offered(deps, tierRef);
  const { key } = await current(deps, caller);
  if (!key || statusOf(key) !== 'active') throw new PortalError(409, 'Only an active subscription can change its tier.');
  if (isMarketplaceKey(key)) throw new PortalError(409, MANAGED_ON_MARKETPLACE);
  if (tier.approval) throw new PortalError(409, `The tier ${tier.name} needs an admin's approval: cancel and subscribe to it.`);
  const from = key.tags![TAG_PORTAL_TIER];
  if (from === tier.planId) return { keyId: key.id, tier: tier.name, status: 'active' };
  const ids = [key.id!, ...(key.tags?.[TAG_ROTATION_OF] ? [key.tags[TAG_ROTATION_OF]] : [])];
  for (const id of ids) {
    await dissociate(deps, id, from);
    await associate(deps, id, tier.planId);
  }
  await setKey(deps, key.id!, { tags: { [TAG_PORTAL_TIER]: tier.planId } });
  deps.audit({ actor: caller.sub, action: 'change-tier', keyId: key.id, consumer: caller.sub, tier: tier.name });
  return { keyId: key.id, tier: tier.name, status: 'active' };
}

/** Cancels at once: the key (and a rolled predecessor still in its overlap) is disabled. */
export async function cancel(deps: PortalDeps, caller: Caller): Promise<Record<string, unknown>> {
  const { key } = await current(deps, caller);
  if (!key) throw new PortalError(404, 'You have no subscription to cancel.');
  if (isMarketplaceKey(key)) throw new PortalError(409, MANAGED_ON_MARKETPLACE);
  const ids = [key.id!, ...(key.tags?.[TAG_ROTATION_OF] ? [key.tags[TAG_ROTATION_OF]] : [])];
  for (const id of ids) {
    await setKey(deps, id, { enabled: false, tags: { [TAG_PORTAL_STATUS]: 'cancelled' } });
    await dissociate(deps, id, key.tags![TAG_PORTAL_TIER]);
  }
  deps.audit({ actor: caller.sub, action: 'cancel', keyId: key.id, consumer: caller.sub });
  return { keyId: key.id, status: 'cancelled' };
}
