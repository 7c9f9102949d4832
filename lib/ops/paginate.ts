import {
  APIGatewayClient, ApiKey, GetApiKeysCommand, GetUsagePlanKeysCommand, GetUsagePlansCommand, UsagePlan, UsagePlanKey,
} from '@aws-sdk/client-api-gateway';

/** The page size used everywhere (API Gateway's maximum). */
export const PAGE_SIZE = 500;

/**
 * Collects all pages of a `position`/`limit` API. Stops when no position comes back, or when
 * the same position comes back twice (which would otherwise loop forever).
 */
export async function collectPages<T>(fetchPage: (position: string | undefined) => Promise<{ items?: T[]; position?: string }>): Promise<T[]> {
  const out: T[] = [];
  let position: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await fetchPage(position);
    out.push(...(page.items ?? []));
    if (!page.position || seen.has(page.position)) return out;
    seen.add(page.position);
    position = page.position;
  }
}

export interface ListApiKeysOptions {
  readonly includeValues?: boolean;
  /** API Gateway's name filter (a prefix match). */
  readonly nameQuery?: string;
}

/** All API keys of the account and region (all pages). */
export function listApiKeys(client: APIGatewayClient, options: ListApiKeysOptions = {}): Promise<ApiKey[]> {
  return collectPages((position) => client.send(new GetApiKeysCommand({
    position, limit: PAGE_SIZE, includeValues: options.includeValues, nameQuery: options.nameQuery,
  })));
}

/** All usage plans, or those a key belongs to (all pages). */
export function listUsagePlans(client: APIGatewayClient, keyId?: string): Promise<UsagePlan[]> {
  return collectPages((position) => client.send(new GetUsagePlansCommand({ position, limit: PAGE_SIZE, keyId })));
}

/** All keys of a usage plan (all pages). */
export function listUsagePlanKeys(client: APIGatewayClient, usagePlanId: string): Promise<UsagePlanKey[]> {
  return collectPages((position) => client.send(new GetUsagePlanKeysCommand({ usagePlanId, position, limit: PAGE_SIZE })));
}
