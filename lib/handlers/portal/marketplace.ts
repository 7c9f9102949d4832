/**
 * A buyer from AWS Marketplace: AWS Marketplace POSTs their browser to the portal's
 * fulfillment URL with a registration token (form field `x-amzn-marketplace-token`); the page
 * keeps it in the tab (sessionStorage, no cookie) through sign-up and sign-in and sends it
 * here. ResolveCustomer turns it into the customer (identifier, product code, AWS account);
 * the consumer's subscription is then the customer's one key (customerId = the customer, so
 * API Gateway meters its requests to them), made here or by the subscription handler — one
 * rule (sdk/marketplace-customer.ts) for both. The token is never logged or stored.
 * (AWS Marketplace Seller Guide, "SaaS customer onboarding"; API reference, ResolveCustomer.)
 */
import { ApiKey, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { ResolveCustomerCommand, ResolveCustomerCommandOutput } from '@aws-sdk/client-marketplace-metering';
import { customerKeyOf, customerKeys, settleCreatedKey } from '../../sdk/marketplace-customer';
import { addKeyToPlan } from '../../sdk/plan-keys';
import { CUSTOMER_ID_PATTERN } from '../../shared/marketplace';
import { TAG_PORTAL, TAG_PORTAL_CONSUMER } from '../../shared/portal';
import { MarketplaceTier } from './config';
import { Caller, checkKeyHeadroom, claimKey, createPortalKey, PortalDeps, PortalError, portalKeys, statusOf } from './keys';

/** What the fulfillment page accepts as a token: the opaque text AWS Marketplace sends (base64-like), bounded. */
export const REGISTRATION_TOKEN_PATTERN = /^[A-Za-z0-9+/=_.:-]{1,4096}$/;

const AGAIN = 'Open the product on AWS Marketplace and choose "Set up your account" again.';

async function resolve(deps: PortalDeps, token: string): Promise<ResolveCustomerCommandOutput> {
  if (!deps.metering) throw new PortalError(404, 'This portal sells no tier on AWS Marketplace.');
  try {
    return await deps.metering.send(new ResolveCustomerCommand({ RegistrationToken: token }));
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    if (name === 'InvalidTokenException') throw new PortalError(400, `The AWS Marketplace registration token is not valid. ${AGAIN}`);
    if (name === 'ExpiredTokenException') throw new PortalError(400, `The AWS Marketplace registration token has expired (it lasts 4 hours). ${AGAIN}`);
    if (name === 'ThrottlingException') throw new PortalError(429, 'AWS Marketplace is busy: try again in a minute.');
    throw e;
  }
}

/** The tier sold under the resolved product code, and the customer. */
function soldTier(deps: PortalDeps, r: ResolveCustomerCommandOutput): { tier: MarketplaceTier; customerId: string } {
  const tier = deps.config.marketplace.find((t) => t.productCode === r.ProductCode);
  if (!tier) throw new PortalError(400, `This portal does not sell the AWS Marketplace product ${JSON.stringify(String(r.ProductCode ?? '').slice(0, 64))}.`);
  const customerId = r.CustomerIdentifier ?? '';
  if (!CUSTOMER_ID_PATTERN.test(customerId)) {
    throw new PortalError(502, 'AWS Marketplace resolved the token without a customer identifier, which API Gateway meters by: ask the API\'s owner.');
  }
  return { tier, customerId };
}

/** Links the consumer to the AWS Marketplace customer of `token`: their subscription is the customer's key. */
export async function linkMarketplace(deps: PortalDeps, caller: Caller, token: unknown): Promise<Record<string, unknown>> {
  if (typeof token !== 'string' || !REGISTRATION_TOKEN_PATTERN.test(token)) throw new PortalError(400, `The AWS Marketplace registration token is missing or malformed. ${AGAIN}`);
  const { tier, customerId } = soldTier(deps, await resolve(deps, token));
  const existing = customerKeyOf(await customerKeys(deps.apigw, customerId));
  const mine = (await portalKeys(deps, caller.sub)).find((k) => ['pending', 'active', 'disabled'].includes(statusOf(k)));
  if (mine && mine.id !== existing?.id) throw new PortalError(409, 'You already have a subscription here: cancel it, then open this page from AWS Marketplace again.');
  const linked = existing ? await linkExisting(deps, caller, existing, tier) : await createCustomerKey(deps, caller, tier, customerId);
  deps.audit({ actor: caller.sub, action: 'marketplace-link', keyId: linked.keyId, consumer: caller.sub, tier: tier.name, detail: `customer ${customerId}` });
  return { ...linked, tier: tier.name, customerId };
}

async function linkExisting(deps: PortalDeps, caller: Caller, key: ApiKey, tier: MarketplaceTier): Promise<{ keyId: string; status: string; value?: string }> {
  const owner = key.tags?.[TAG_PORTAL] === deps.config.portalId ? key.tags?.[TAG_PORTAL_CONSUMER] : undefined;
  if (key.tags?.[TAG_PORTAL] !== undefined && owner !== caller.sub) {
    throw new PortalError(409, 'This AWS Marketplace subscription is already linked to another account. Sign in with that account.');
  }
  if (owner === caller.sub) return { keyId: key.id!, status: statusOf(key) };
  // The subscription handler made it (subscribe-success came first): it becomes this consumer's.
  await claimKey(deps, key, caller, tier.planId);
  const full = await deps.apigw.send(new GetApiKeyCommand({ apiKey: key.id!, includeValue: true }));
  return { keyId: key.id!, status: key.enabled ? 'active' : 'disabled', value: key.enabled ? full.value : undefined };
}

async function createCustomerKey(deps: PortalDeps, caller: Caller, tier: MarketplaceTier, customerId: string): Promise<{ keyId: string; status: string; value?: string }> {
  await checkKeyHeadroom(deps);
  const made = await createPortalKey(deps, { consumer: caller, planId: tier.planId, status: 'active', customerId });
  const key = await settleCreatedKey(deps.apigw, customerId, { id: made.id, createdDate: new Date(deps.now()) });
  if (key.id === made.id) return { keyId: made.id, status: 'active', value: made.value };
  // The subscription handler's key won the race (and ours is gone): it becomes this consumer's.
  const linked = await linkExisting(deps, caller, key, tier);
  await addKeyToPlan(deps.apigw, tier.planId, key.id!);
  return linked;
}
