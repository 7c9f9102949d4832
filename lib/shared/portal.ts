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
/** `pending` (waits for an admin), `active`, `refused`, `disabled` (by an admin) or `cancelled` (by the consumer). */
export const TAG_PORTAL_STATUS = 'keygate:portal-status';

export type PortalStatus = 'pending' | 'active' | 'refused' | 'disabled' | 'cancelled';

/** Key names the portal gives: `<portalId>.<consumer sub>.<timestamp>`, so GetApiKeys(nameQuery) finds one consumer's keys. */
export function portalKeyNamePrefix(portalId: string, consumer: string): string {
  return `${portalId}.${consumer}.`;
}

/** A portal id: what the construct derives and the Lambda reads (letters, digits, dashes; 1–64). */
export const PORTAL_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** The portal's REST API description starts with this, so the local gateway can point at its pages. */
export const PORTAL_API_DESCRIPTION_PREFIX = 'keygate developer portal';
