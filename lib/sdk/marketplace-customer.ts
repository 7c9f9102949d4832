/**
 * One API key per AWS Marketplace customer, whoever makes it: the subscription handler on
 * `subscribe-success` (SNS) and the developer portal when the buyer's registration token
 * arrives may run at the same moment. The rule both follow: the customer's key is their
 * oldest key (createdDate, then id) that is not an ended portal subscription; a maker that
 * finds one uses it; a maker that created one looks again, and if an older key of the
 * customer exists (the other maker won the race) deletes its own and uses that one.
 */
import { APIGatewayClient, ApiKey, DeleteApiKeyCommand, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { TAG_PORTAL_STATUS } from '../shared/portal';
import { collectPages, PAGE_SIZE } from './paginate';

/** The customer's keys (GetApiKeys' customerId filter, kept exact). */
export function customerKeys(client: APIGatewayClient, customerId: string): Promise<ApiKey[]> {
  return collectPages((position) => client.send(new GetApiKeysCommand({ customerId, position, limit: PAGE_SIZE })))
    .then((keys) => keys.filter((k) => k.customerId === customerId));
}

function older(a: ApiKey, b: ApiKey): number {
  return (a.createdDate?.getTime() ?? 0) - (b.createdDate?.getTime() ?? 0) || (a.id ?? '').localeCompare(b.id ?? '');
}

/** The customer's key among their keys, or undefined. */
export function customerKeyOf(keys: ApiKey[]): ApiKey | undefined {
  const ended = new Set(['cancelled', 'refused']);
  return keys.filter((k) => !ended.has(k.tags?.[TAG_PORTAL_STATUS] ?? '')).sort(older)[0];
}

/** After creating `created` for the customer: the customer's key (`created`, or an older one, after deleting `created`). */
export async function settleCreatedKey(client: APIGatewayClient, customerId: string, created: ApiKey): Promise<ApiKey> {
  const winner = customerKeyOf(await customerKeys(client, customerId)) ?? created;
  if (winner.id === created.id) return created;
  await client.send(new DeleteApiKeyCommand({ apiKey: created.id }));
  return winner;
}
