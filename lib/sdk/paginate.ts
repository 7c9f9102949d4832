import {
  APIGatewayClient, ApiKey, GetApiKeysCommand, GetUsagePlanKeysCommand, GetUsagePlansCommand, UsagePlan, UsagePlanKey,
} from '@aws-sdk/client-api-gateway';

/** The page size used everywhere (API Gateway's maximum). */
export const PAGE_SIZE = 500;

/**
 * Collects all pages of a `position`/`limit` API. A position that comes back a second time
 * fails the listing: acting on a partial list (e.g. recreating keys it didn't see) is worse
 * than stopping.
 */
export async function collectPages<T>(fetchPage: (position: string | undefined) => Promise<{ items?: T[]; position?: string }>): Promise<T[]> {
  const out: T[] = [];
  let position: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await fetchPage(position);
    out.push(...(page.items ?? []));
    if (!page.position) return out;
    if (seen.has(page.position)) {
      throw new Error(`the listing returned the page position ${page.position.slice(0, 40)} twice after ${out.length} items; refusing to act on an incomplete list`);
    }
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
