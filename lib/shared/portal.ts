/*
 * What a keygate developer portal writes on the API keys it makes, shared by the portal's
 * Lambda, the ops CLI (which refuses to change such keys out of band) and the local gateway.
 * A portal keeps no database: a subscription is its key, and its state is in the key's tags.
 */

/** The portal (its id) that made the key. */
export const TAG_PORTAL = 'keygate:portal';
/** The consumer (the Cognito user's `sub`) the key belongs to. */
export const TAG_PORTAL_CONSUMER = 'keygate:portal-consumer';
/** The consumer's e-mail address when they subscribed (shown to admins). */
export const TAG_PORTAL_EMAIL = 'keygate:portal-email';
/** The usage plan (tier) the subscription is for, also while it waits for approval. */
export const TAG_PORTAL_TIER = 'keygate:portal-tier';
/**
 * `pending` (waits for an admin), `active`, `refused`, `disabled` (by an admin), `cancelled`
 * (by the consumer), `expired` (past the portal's `keyLifetime`) or `idle` (unused for the
 * portal's `disableUnusedAfter`); the last two are disabled by the portal's job, and the
 * consumer rolls the key (or subscribes again) to get a working one.
 */
export const TAG_PORTAL_STATUS = 'keygate:portal-status';
/**
 * When the key last went into service (ISO 8601): made active, approved, re-enabled by an admin.
 * The portal's idle rule counts from here, so a consumer re-enabled today is not idle tomorrow.
 */
export const TAG_PORTAL_ACTIVE_SINCE = 'keygate:portal-active-since';

export type PortalStatus = 'pending' | 'active' | 'refused' | 'disabled' | 'cancelled' | 'expired' | 'idle';

/** When the portal's idle rule starts counting for a key (ms since the epoch): its last activation, else its creation. */
export function portalActiveSince(key: { readonly createdDate: number; readonly tags?: Record<string, string> }): number {
  const since = Date.parse(key.tags?.[TAG_PORTAL_ACTIVE_SINCE] ?? '');
  return Number.isNaN(since) ? key.createdDate : Math.max(since, key.createdDate);
}

/** Key names the portal gives: `<portalId>.<consumer sub>.<timestamp>`, so GetApiKeys(nameQuery) finds one consumer's keys. */
export function portalKeyNamePrefix(portalId: string, consumer: string): string {
  return `${portalId}.${consumer}.`;
}

/** A portal id: what the construct derives and the Lambda reads (letters, digits, dashes; 1–64). */
export const PORTAL_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** The portal's REST API description starts with this, so the local gateway can point at its pages. */
export const PORTAL_API_DESCRIPTION_PREFIX = 'keygate developer portal';
