/**
 * The portal's scheduled job: its own rules for the keys it made, which keygate's general
 * expiry and hygiene jobs leave to it (lib/shared/managed.ts `portalOf`). Each run retires
 * rolled keys whose overlap has ended, disables keys past their lifetime (the shared expiry
 * rule, read from the key's `keygate:expires-at` tag) as `expired`, and disables active keys
 * with no request for `disableUnusedAfter` days (the shared unused-key detection,
 * lib/sdk/unused.ts) as `idle`. The status tells the consumer and the admin why; the consumer
 * rolls the key for a new one.
 */
import { ApiKey } from '@aws-sdk/client-api-gateway';
import { isExpired } from '../../shared/expiry-rule';
import { portalActiveSince, TAG_PORTAL, TAG_PORTAL_CONSUMER, TAG_PORTAL_STATUS } from '../../shared/portal';
import { findUnusedKeys } from '../../sdk/unused';
import { eachKey } from '../notify';
import { PortalDeps, portalKeys, setKey, statusOf } from './keys';
import { expiresAtOf, retireDue } from './subscriptions';

export interface MaintenanceReport {
  /** Predecessors of rolled keys, deleted after their overlap. */
  readonly retired: string[];
  /** Keys disabled past their lifetime. */
  readonly expired: string[];
  /** Active keys disabled for having no request in `disableUnusedAfter`. */
  readonly idle: string[];
  readonly failures: string[];
}

export async function maintain(deps: PortalDeps): Promise<MaintenanceReport> {
  const retired = await retireDue(deps);
  const expired: string[] = [];
  const idle: string[] = [];
  const failures = [
    ...await expireDue(deps, expired),
    ...await disableIdle(deps, idle),
  ];
  return { retired, expired, idle, failures };
}

/**
 * Disables each enabled key of the portal past its expiry. The subscription's key becomes
 * `expired`; a predecessor still in its overlap (already `cancelled`) is only disabled.
 */
async function expireDue(deps: PortalDeps, expired: string[]): Promise<string[]> {
  const now = deps.now();
  const due = (await portalKeys(deps)).filter((k) => k.enabled && isExpired({ createdDate: k.createdDate?.getTime() ?? 0, tags: k.tags }, now));
  return eachKey(due, async (k: ApiKey) => {
    const subscription = statusOf(k) === 'active';
    await setKey(deps, k.id!, { enabled: false, ...(subscription ? { tags: { [TAG_PORTAL_STATUS]: 'expired' } } : {}) });
    expired.push(k.id!);
    deps.audit({ actor: 'portal', action: 'expire', keyId: k.id, consumer: k.tags?.[TAG_PORTAL_CONSUMER], detail: `expired at ${expiresAtOf(k)}` });
  });
}

/**
 * Disables the portal's active keys that had no request in the last `disableUnusedAfterDays`
 * days (across the offered tiers' plans) and were in service for all of them: made, approved or
 * re-enabled before the window began.
 */
async function disableIdle(deps: PortalDeps, idle: string[]): Promise<string[]> {
  const days = deps.config.disableUnusedAfterDays;
  if (days === undefined) return [];
  const report = await findUnusedKeys(deps.apigw, { days, usagePlanIds: deps.config.tiers.map((t) => t.planId), now: deps.now });
  const windowStart = Date.parse(`${report.from}T00:00:00Z`);
  const candidates = report.unused.filter((u) => u.tags[TAG_PORTAL] === deps.config.portalId && u.enabled
    && (u.tags[TAG_PORTAL_STATUS] ?? 'active') === 'active'
    && portalActiveSince({ createdDate: Date.parse(u.createdDate ?? '') || 0, tags: u.tags }) <= windowStart);
  return eachKey(candidates, async (u) => {
    await setKey(deps, u.id, { enabled: false, tags: { [TAG_PORTAL_STATUS]: 'idle' } });
    idle.push(u.id);
    deps.audit({ actor: 'portal', action: 'idle', keyId: u.id, consumer: u.tags[TAG_PORTAL_CONSUMER], detail: `no requests from ${report.from} to ${report.to}` });
  });
}
