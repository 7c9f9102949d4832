import { APIGatewayClient, GetUsageCommand } from '@aws-sdk/client-api-gateway';
import { collectPages, PAGE_SIZE } from './paginate';

/** GetUsage for one plan (all pages, merged): keyId → daily [used, remaining]. */
export async function getPlanUsage(client: APIGatewayClient, usagePlanId: string, startDate: string, endDate: string, keyId?: string): Promise<Record<string, number[][]>> {
  const merged: Record<string, number[][]> = {};
  await collectPages(async (position) => {
    const page = await client.send(new GetUsageCommand({ usagePlanId, keyId, startDate, endDate, position, limit: PAGE_SIZE }));
    for (const [k, days] of Object.entries(page.items ?? {})) merged[k] = [...(merged[k] ?? []), ...days];
    return { items: [], position: page.position };
  });
  return merged;
}
