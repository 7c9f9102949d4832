import { APIGatewayClient, ApiKey, GetApiKeyCommand, UsagePlan } from '@aws-sdk/client-api-gateway';
import { isBadRequest, isNotFound, UsageError } from './errors';
import { listApiKeys } from './paginate';

/**
 * Finds a key by id, else by exact name. Fails with exit code 2 when there is none or when
 * the name is ambiguous.
 */
export async function resolveKey(client: APIGatewayClient, ref: string, options: { includeValue?: boolean } = {}): Promise<ApiKey> {
  try {
    const key = await client.send(new GetApiKeyCommand({ apiKey: ref, includeValue: options.includeValue }));
    if (key?.id) return key;
  } catch (err) {
    if (!isNotFound(err) && !isBadRequest(err)) throw err;
  }
  const matches = (await listApiKeys(client, { nameQuery: ref, includeValues: options.includeValue })).filter((k) => k.name === ref);
  if (matches.length === 0) {
    throw new UsageError(`API key "${ref}" not found (neither an id nor a name). Run \`keygate keys list\` to see the keys; check --region/--endpoint.`);
  }
  if (matches.length > 1) {
    throw new UsageError(`The name "${ref}" is used by ${matches.length} keys (${matches.map((k) => k.id).join(', ')}): pass the id instead.`);
  }
  return matches[0];
}

/** Finds a plan by id or exact name in `plans`. */
export function findPlan(plans: readonly UsagePlan[], ref: string): UsagePlan | undefined {
  return plans.find((p) => p.id === ref) ?? plans.find((p) => p.name === ref);
}

/** Finds a plan by id or name; exit code 2 when unknown or ambiguous. */
export function resolvePlan(plans: readonly UsagePlan[], ref: string): UsagePlan {
  const byId = plans.find((p) => p.id === ref);
  if (byId) return byId;
  const byName = plans.filter((p) => p.name === ref);
  if (byName.length === 1) return byName[0];
  if (byName.length > 1) throw new UsageError(`The usage plan name "${ref}" is ambiguous (${byName.map((p) => p.id).join(', ')}): pass the id.`);
  throw new UsageError(`Usage plan "${ref}" not found. Known plans: ${plans.map((p) => `${p.name} (${p.id})`).join(', ') || 'none'}.`);
}

/** `apiId/stage` strings a plan covers. */
export function planStages(plan: UsagePlan): string[] {
  return (plan.apiStages ?? []).map((s) => `${s.apiId}/${s.stage}`);
}
