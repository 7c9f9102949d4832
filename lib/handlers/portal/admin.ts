/**
 * What a portal admin (a member of the user pool's admins group) does: list consumers with
 * tier, key id, status and usage (never a value), approve or refuse pending subscriptions,
 * disable and re-enable a consumer. Only keys of this portal are reachable.
 */
import { ApiKey, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { isNotFound } from '../../sdk/errors';
import { TAG_ROTATION_OF } from '../../shared/constants';
import { isExpired } from '../../shared/expiry-rule';
import { PortalStatus, TAG_PORTAL, TAG_PORTAL_ACTIVE_SINCE, TAG_PORTAL_CONSUMER, TAG_PORTAL_EMAIL, TAG_PORTAL_STATUS, TAG_PORTAL_TIER } from '../../shared/portal';
import { activationTags, associate, Caller, dissociate, PortalDeps, PortalError, portalKeys, setKey, statusOf } from './keys';
import { expiresAtOf, usageOf } from './subscriptions';
import { tierNameOf } from './config';

function requireAdmin(deps: PortalDeps, caller: Caller): void {
  if (!caller.admin) throw new PortalError(403, `Only members of the ${deps.config.adminGroup} group may do this.`);
}

export async function listConsumers(deps: PortalDeps, caller: Caller): Promise<Record<string, unknown>> {
  requireAdmin(deps, caller);
  const keys = await portalKeys(deps);
  const consumers = await Promise.all(keys.map(async (k) => {
    const planId = k.tags![TAG_PORTAL_TIER];
    const status = statusOf(k);
    const usage = ['active', 'disabled', 'expired', 'idle'].includes(status) ? await usageOf(deps, planId, [k.id!]) : { days: [], quotaLeft: null };
    const expiresAt = expiresAtOf(k);
    return {
      consumer: k.tags![TAG_PORTAL_CONSUMER], email: k.tags![TAG_PORTAL_EMAIL] ?? '', keyId: k.id, enabled: k.enabled, status, ...(expiresAt ? { expiresAt } : {}),
      tier: tierNameOf(deps.config, planId), createdDate: k.createdDate?.toISOString(),
      used30Days: usage.days.reduce((s, d) => s + d.used, 0), quotaLeft: usage.quotaLeft,
    };
  }));
  return { consumers };
}

/** A key of this portal, by the id an admin sends. */
async function portalKey(deps: PortalDeps, keyId: unknown): Promise<ApiKey> {
  if (typeof keyId !== 'string' || !/^[A-Za-z0-9]{1,64}$/.test(keyId)) throw new PortalError(400, 'keyId must be an API key id');
  let key: ApiKey;
  try {
    key = await deps.apigw.send(new GetApiKeyCommand({ apiKey: keyId }));
  } catch (e) {
    if (isNotFound(e)) throw new PortalError(404, `no key ${keyId} in this portal`);
    throw e;
  }
  if (key.tags?.[TAG_PORTAL] !== deps.config.portalId) throw new PortalError(404, `no key ${keyId} in this portal`);
  return key;
}

export type AdminAction = 'approve' | 'refuse' | 'disable' | 'enable';

export async function adminAction(deps: PortalDeps, caller: Caller, action: AdminAction, keyId: unknown): Promise<Record<string, unknown>> {
  requireAdmin(deps, caller);
  const key = await portalKey(deps, keyId);
  const status = statusOf(key);
  const planId = key.tags![TAG_PORTAL_TIER];
  // An expired or idle consumer can be disabled too, so that they cannot roll their way back in.
  const want: Record<AdminAction, PortalStatus[]> = { approve: ['pending'], refuse: ['pending'], disable: ['active', 'expired', 'idle'], enable: ['disabled'] };
  if (!want[action].includes(status)) throw new PortalError(409, `cannot ${action} a subscription that is ${status}`);
  let after: PortalStatus;
  if (action === 'approve') {
    await associate(deps, key.id!, planId);
    await setKey(deps, key.id!, { enabled: true, tags: { [TAG_PORTAL_STATUS]: 'active', ...activationTags(deps) } });
    after = 'active';
  } else if (action === 'refuse') {
    await setKey(deps, key.id!, { tags: { [TAG_PORTAL_STATUS]: 'refused' } });
    after = 'refused';
  } else {
    after = await setConsumerEnabled(deps, key, action === 'enable');
  }
  deps.audit({ actor: caller.sub, action, keyId: key.id, consumer: key.tags![TAG_PORTAL_CONSUMER], detail: `admin ${caller.email}` });
  return { keyId: key.id, status: after };
}

/**
 * Disables (out of the plan) or re-enables a consumer's key and a predecessor in its overlap.
 * Re-enabling a key past its lifetime leaves it disabled and `expired` (the expiry rule would
 * disable it again): the consumer rolls it for a new one. A re-enabled key counts as in service
 * from now for the idle rule.
 */
async function setConsumerEnabled(deps: PortalDeps, key: ApiKey, enable: boolean): Promise<PortalStatus> {
  const planId = key.tags![TAG_PORTAL_TIER];
  const ids = [key.id!, ...(key.tags?.[TAG_ROTATION_OF] ? [key.tags[TAG_ROTATION_OF]] : [])];
  if (!enable) {
    for (const id of ids) await setKey(deps, id, { enabled: false });
    await setKey(deps, key.id!, { tags: { [TAG_PORTAL_STATUS]: 'disabled' } });
    for (const id of ids) await dissociate(deps, id, planId);
    return 'disabled';
  }
  for (const id of ids) await associate(deps, id, planId);
  if (isExpired({ createdDate: key.createdDate?.getTime() ?? 0, tags: key.tags }, deps.now())) {
    await setKey(deps, key.id!, { tags: { [TAG_PORTAL_STATUS]: 'expired' } });
    return 'expired';
  }
  for (const id of ids) await setKey(deps, id, { enabled: true });
  await setKey(deps, key.id!, { tags: { [TAG_PORTAL_STATUS]: 'active', [TAG_PORTAL_ACTIVE_SINCE]: new Date(deps.now()).toISOString() } });
  return 'active';
}
