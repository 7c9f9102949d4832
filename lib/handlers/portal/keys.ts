/**
 * A portal's subscriptions are its API keys: one consumer's keys are found by name prefix
 * (`<portalId>.<sub>.`) and trusted only when their tags name this portal and that consumer.
 */
import {
  APIGatewayClient, ApiKey, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand,
  TagResourceCommand, UpdateApiKeyCommand,
} from '@aws-sdk/client-api-gateway';
import { generateKeyValue, MAX_API_KEYS } from '../../shared/constants';
import { TAG_EXPIRES_AT } from '../../shared/expiry-rule';
import {
  portalKeyNamePrefix, PortalStatus, TAG_PORTAL, TAG_PORTAL_ACTIVE_SINCE, TAG_PORTAL_CONSUMER, TAG_PORTAL_EMAIL, TAG_PORTAL_STATUS, TAG_PORTAL_TIER,
} from '../../shared/portal';
import { isNotFound } from '../../sdk/errors';
import { listApiKeys } from '../../sdk/paginate';
import { MARKETPLACE_CUSTOMER_TAG } from '../../shared/marketplace';
import type { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { PortalConfig } from './config';

export interface PortalDeps {
  readonly apigw: APIGatewayClient;
  readonly config: PortalConfig;
  /** AWS Marketplace Metering (ResolveCustomer), when the portal sells tiers there. */
  readonly metering?: MarketplaceMeteringClient;
  readonly now: () => number;
  /** Receives one structured audit line per key action. */
  readonly audit: (entry: AuditEntry) => void;
}

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly keyId?: string;
  readonly consumer?: string;
  readonly tier?: string;
  readonly detail?: string;
}

/** The caller, from the Cognito authorizer's claims. */
export interface Caller {
  readonly sub: string;
  readonly email: string;
  readonly admin: boolean;
  /** When the caller signed in (seconds since the epoch). */
  readonly authTime: number;
}

/** An error the portal answers with its status and message (never a key value). */
export class PortalError extends Error {
  constructor(public readonly status: number, message: string) {
    super(message);
  }
}

export function statusOf(key: ApiKey): PortalStatus {
  return (key.tags?.[TAG_PORTAL_STATUS] ?? 'active') as PortalStatus;
}

/** The keys of this portal (all consumers, or one), newest first, never with values. */
export async function portalKeys(deps: PortalDeps, consumer?: string): Promise<ApiKey[]> {
  const { portalId } = deps.config;
  const keys = await listApiKeys(deps.apigw, { nameQuery: consumer ? portalKeyNamePrefix(portalId, consumer) : `${portalId}.` });
  return keys
    .filter((k) => k.tags?.[TAG_PORTAL] === portalId && (consumer === undefined || k.tags?.[TAG_PORTAL_CONSUMER] === consumer))
    .sort((a, b) => (b.createdDate?.getTime() ?? 0) - (a.createdDate?.getTime() ?? 0));
}

/** Refuses when making one more key would eat into the owner's headroom below the account's 10,000-key limit. */
export async function checkKeyHeadroom(deps: PortalDeps): Promise<void> {
  const total = (await listApiKeys(deps.apigw, {})).length;
  const ceiling = MAX_API_KEYS - deps.config.keyHeadroom;
  if (total >= ceiling) {
    throw new PortalError(503, `New subscriptions are paused: the account holds ${total} of its ${MAX_API_KEYS} API keys and the owner keeps ${deps.config.keyHeadroom} free. Ask the API's owner.`);
  }
}

export interface NewKey {
  readonly consumer: Caller;
  readonly planId: string;
  readonly status: PortalStatus;
  readonly extraTags?: Record<string, string>;
  /** The AWS Marketplace customer the key is metered to. */
  readonly customerId?: string;
}

/** Whether a key belongs to an AWS Marketplace customer (metered to them). */
export function isMarketplaceKey(key: ApiKey): boolean {
  return key.customerId !== undefined && key.customerId !== '' && key.tags?.[MARKETPLACE_CUSTOMER_TAG] === key.customerId;
}

/** The tags that make a key a consumer's subscription in this portal. */
function portalTags(deps: PortalDeps, consumer: Caller, planId: string, status: PortalStatus): Record<string, string> {
  return {
    [TAG_PORTAL]: deps.config.portalId, [TAG_PORTAL_CONSUMER]: consumer.sub, [TAG_PORTAL_EMAIL]: tagSafe(consumer.email),
    [TAG_PORTAL_TIER]: planId, [TAG_PORTAL_STATUS]: status,
  };
}

/** Makes a key the subscription handler made for a Marketplace customer this consumer's subscription (its name and tags). */
export async function claimKey(deps: PortalDeps, key: ApiKey, consumer: Caller, planId: string): Promise<void> {
  const name = `${portalKeyNamePrefix(deps.config.portalId, consumer.sub)}${deps.now()}`;
  await deps.apigw.send(new UpdateApiKeyCommand({ apiKey: key.id!, patchOperations: [{ op: 'replace', path: '/name', value: name }] }));
  await deps.apigw.send(new TagResourceCommand({ resourceArn: keyArn(key.id!), tags: portalTags(deps, consumer, planId, key.enabled ? 'active' : 'disabled') }));
}

/** Creates a key for a consumer (tagged in the same call) and, when active, associates it with its tier. */
export async function createPortalKey(deps: PortalDeps, k: NewKey): Promise<{ id: string; value: string }> {
  const { portalId } = deps.config;
  const value = generateKeyValue();
  const created = await deps.apigw.send(new CreateApiKeyCommand({
    name: `${portalKeyNamePrefix(portalId, k.consumer.sub)}${deps.now()}`,
    description: `Developer portal ${portalId}`.slice(0, 125),
    enabled: k.status === 'active',
    value,
    ...(k.customerId ? { customerId: k.customerId } : {}),
    tags: {
      ...portalTags(deps, k.consumer, k.planId, k.status),
      // A Marketplace customer's key lives as long as their subscription: the portal's lifetime and idle rules are for self-service keys.
      ...(k.customerId ? { [MARKETPLACE_CUSTOMER_TAG]: k.customerId } : k.status === 'active' ? activationTags(deps) : {}),
      ...k.extraTags,
    },
  }));
  if (k.status === 'active') await associate(deps, created.id!, k.planId);
  return { id: created.id!, value };
}

/**
 * The tags of a key that goes into service now (made active, approved): since when (the idle
 * rule counts from there) and, with the portal's `keyLifetime`, when it expires, in the shared
 * expiry tag that keygate's expiry rule reads (lib/shared/expiry-rule.ts).
 */
export function activationTags(deps: PortalDeps): Record<string, string> {
  const now = deps.now();
  const lifetime = deps.config.keyLifetimeSeconds;
  return {
    [TAG_PORTAL_ACTIVE_SINCE]: new Date(now).toISOString(),
    ...(lifetime === undefined ? {} : { [TAG_EXPIRES_AT]: new Date(now + lifetime * 1000).toISOString() }),
  };
}

export async function associate(deps: PortalDeps, keyId: string, planId: string): Promise<void> {
  await deps.apigw.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId, keyType: 'API_KEY' }));
}

/** Removes the key from its tier's plan (nothing to do when it is not in it). */
export async function dissociate(deps: PortalDeps, keyId: string, planId: string): Promise<void> {
  try {
    await deps.apigw.send(new DeleteUsagePlanKeyCommand({ usagePlanId: planId, keyId }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** Deletes a key (nothing to do when it is gone already). */
export async function deleteKeyIfThere(deps: PortalDeps, keyId: string): Promise<void> {
  try {
    await deps.apigw.send(new DeleteApiKeyCommand({ apiKey: keyId }));
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

export async function setKey(deps: PortalDeps, keyId: string, change: { enabled?: boolean; tags?: Record<string, string> }): Promise<void> {
  if (change.enabled !== undefined) {
    await deps.apigw.send(new UpdateApiKeyCommand({ apiKey: keyId, patchOperations: [{ op: 'replace', path: '/enabled', value: String(change.enabled) }] }));
  }
  if (change.tags) await deps.apigw.send(new TagResourceCommand({ resourceArn: keyArn(keyId), tags: change.tags }));
}

export function keyArn(keyId: string): string {
  return `arn:aws:apigateway:${process.env.AWS_REGION ?? 'us-east-1'}::/apikeys/${keyId}`;
}

/** Tag values allow letters, digits, spaces and `_ . : / = + - @`, at most 256 characters. */
function tagSafe(s: string): string {
  return s.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);
}
