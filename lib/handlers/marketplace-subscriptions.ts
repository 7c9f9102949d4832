/*
 * AWS Marketplace SaaS subscription notifications (SNS) → API keys: on `subscribe-success` the
 * customer gets a key (customerId = the Marketplace customer identifier) in the tier whose
 * usage plan carries the product code, or their disabled key is enabled again; on
 * `unsubscribe-success` every key of the customer is disabled (not deleted: usage stays
 * queryable and a returning customer keeps the key). Each step is idempotent: SNS retries.
 * The developer portal may make the customer's key first (from the registration token): one
 * rule (sdk/marketplace-customer.ts) keeps it to one key per customer. Key values are never
 * read or logged.
 */
import { APIGatewayClient, CreateApiKeyCommand, UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { addKeyToPlan } from '../sdk/plan-keys';
import { customerKeys, settleCreatedKey } from '../sdk/marketplace-customer';
import { CUSTOMER_ID_PATTERN, MARKETPLACE_CUSTOMER_TAG } from '../shared/marketplace';

export interface MarketplaceConfig {
  readonly usagePlanId: string;
  readonly productCode: string;
}

/** The notification's message, as AWS Marketplace sends it. */
export interface MarketplaceMessage {
  readonly action?: string;
  readonly 'customer-identifier'?: string;
  readonly 'product-code'?: string;
}

export interface SubscriptionOutcome {
  readonly action: string;
  readonly customerId: string;
  /** What was done: created, enabled, already active, disabled, ignored (with why). */
  readonly outcome: string;
  readonly keyIds: string[];
}

export { MARKETPLACE_CUSTOMER_TAG };


async function subscribe(client: APIGatewayClient, config: MarketplaceConfig, customerId: string): Promise<SubscriptionOutcome> {
  const keys = await customerKeys(client, customerId);
  if (keys.length === 0) {
    const created = await client.send(new CreateApiKeyCommand({
      name: `marketplace-${customerId}`, customerId, enabled: true,
      description: `AWS Marketplace customer ${customerId} (product ${config.productCode})`, tags: { [MARKETPLACE_CUSTOMER_TAG]: customerId },
    }));
    // The portal may have made the customer's key meanwhile: one key survives.
    const key = await settleCreatedKey(client, customerId, created);
    if (key.id !== created.id) return subscribe(client, config, customerId);
    await addKeyToPlan(client, config.usagePlanId, key.id ?? '');
    return { action: 'subscribe-success', customerId, outcome: 'created', keyIds: [key.id ?? ''] };
  }
  let enabled = false;
  for (const k of keys) {
    if (!k.enabled) {
      await client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'true' }] }));
      enabled = true;
    }
    await addKeyToPlan(client, config.usagePlanId, k.id ?? '');
  }
  return { action: 'subscribe-success', customerId, outcome: enabled ? 'enabled' : 'already active', keyIds: keys.map((k) => k.id ?? '') };
}

async function unsubscribe(client: APIGatewayClient, customerId: string): Promise<SubscriptionOutcome> {
  const keys = await customerKeys(client, customerId);
  for (const k of keys.filter((key) => key.enabled)) {
    await client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
  }
  return { action: 'unsubscribe-success', customerId, outcome: keys.length === 0 ? 'ignored: the customer has no key' : 'disabled', keyIds: keys.map((k) => k.id ?? '') };
}

/** Handles one notification message. */
export async function handleSubscription(client: APIGatewayClient, config: MarketplaceConfig, message: MarketplaceMessage): Promise<SubscriptionOutcome> {
  const action = String(message.action ?? '');
  const customerId = String(message['customer-identifier'] ?? '');
  if (!CUSTOMER_ID_PATTERN.test(customerId)) throw new Error(`the notification's customer-identifier is missing or malformed: ${JSON.stringify(customerId.slice(0, 80))}`);
  if (message['product-code'] !== config.productCode) {
    return { action, customerId, outcome: `ignored: product ${message['product-code']} is not ${config.productCode}`, keyIds: [] };
  }
  if (action === 'subscribe-success') return subscribe(client, config, customerId);
  if (action === 'unsubscribe-success') return unsubscribe(client, customerId);
  // subscribe-fail, unsubscribe-pending: the customer keeps what they have until a success notice.
  return { action, customerId, outcome: `ignored: ${action || 'no action'}`, keyIds: [] };
}

export async function handler(event: { Records?: { Sns?: { Message?: string } }[] }): Promise<SubscriptionOutcome[]> {
  const config = { usagePlanId: process.env.USAGE_PLAN_ID ?? '', productCode: process.env.PRODUCT_CODE ?? '' };
  const client = new APIGatewayClient({ retryMode: 'adaptive' });
  const out: SubscriptionOutcome[] = [];
  for (const record of event.Records ?? []) {
    out.push(await handleSubscription(client, config, JSON.parse(record.Sns?.Message ?? '{}') as MarketplaceMessage));
  }
  console.log(JSON.stringify(out));
  return out;
}
