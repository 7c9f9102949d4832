/*
 * Unused keys: keys with no request in the last N days, from GetUsage across all the plans
 * each key is in. One implementation for `keygate keys unused` and the KeyHygiene job.
 */
import { APIGatewayClient, ApiKey, GetUsagePlanCommand, UsagePlan } from '@aws-sdk/client-api-gateway';
import { UsageError } from './errors';
import { managedKeyReason } from '../shared/managed';
import { listApiKeys, listUsagePlanKeys, listUsagePlans } from './paginate';
import { getPlanUsage } from './usage';

const DAY_MS = 86_400_000;
/** The longest date range one GetUsage call accepts. */
export const MAX_USAGE_RANGE_DAYS = 90;

export interface UnusedKeysOptions {
  /** The window: today (UTC) and the days before it, `days` in all. */
  readonly days: number;
  /** Only keys in these usage plans (the KeyHygiene job passes its API's tiers). Default: every key. */
  readonly usagePlanIds?: string[];
  /** Milliseconds since the epoch. Default: Date.now. */
  readonly now?: () => number;
  /** Called after each plan's usage was read. */
  readonly onProgress?: (plansDone: number, plansTotal: number) => void;
}

export interface UnusedKey {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly createdDate?: string;
  readonly customerId?: string;
  readonly plans: { readonly id: string; readonly name: string }[];
  /** Why the key belongs to a CloudFormation stack or a client set, if it does. */
  readonly managed?: string;
  /** The raw tags (for callers that decide by them). */
  readonly tags: Record<string, string>;
}

export interface UnusedKeysReport {
  /** First and last day of the window (YYYY-MM-DD, UTC). */
  readonly from: string;
  readonly to: string;
  readonly days: number;
  readonly unused: UnusedKey[];
  /** Keys looked at. */
  readonly checked: number;
  /** Keys without requests that are younger than the window, so not counted as unused. */
  readonly tooNew: number;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * A plan's daily [used, remaining] pairs by key id from `from` to `to` (YYYY-MM-DD, any length:
 * read in ranges GetUsage accepts), and the ids of the plan's keys.
 */
export async function planUsageByKeyId(client: APIGatewayClient, planId: string, from: string, to: string): Promise<{ members: string[]; daily: Map<string, number[][]> }> {
  const members = await listUsagePlanKeys(client, planId);
  const idByValue = new Map<string, string>();
  for (const m of members) if (m.value) idByValue.set(m.value, m.id ?? '');
  const daily = new Map<string, number[][]>();
  const last = Date.parse(`${to}T00:00:00Z`);
  for (let start = Date.parse(`${from}T00:00:00Z`); start <= last; start += MAX_USAGE_RANGE_DAYS * DAY_MS) {
    const end = Math.min(last, start + (MAX_USAGE_RANGE_DAYS - 1) * DAY_MS);
    const items = await getPlanUsage(client, planId, isoDay(start), isoDay(end));
    for (const [itemKey, days] of Object.entries(items)) {
      // AWS indexes usage by key id (its documentation says by key value): accept both.
      const keyId = idByValue.get(itemKey) ?? itemKey;
      daily.set(keyId, [...(daily.get(keyId) ?? []), ...days]);
    }
  }
  return { members: members.map((m) => m.id ?? ''), daily };
}

/** Keys with no requests in the window across every plan they are in; keys younger than the window don't count. */
export async function findUnusedKeys(client: APIGatewayClient, options: UnusedKeysOptions): Promise<UnusedKeysReport> {
  if (!Number.isInteger(options.days) || options.days < 1) throw new UsageError(`--days must be a whole number of days ≥ 1, not ${options.days}.`);
  const now = (options.now ?? Date.now)();
  const toStart = Date.parse(`${isoDay(now)}T00:00:00Z`);
  const fromStart = toStart - (options.days - 1) * DAY_MS;

  const plans: UsagePlan[] = options.usagePlanIds
    ? await Promise.all(options.usagePlanIds.map((usagePlanId) => client.send(new GetUsagePlanCommand({ usagePlanId }))))
    : await listUsagePlans(client);
  const used = new Map<string, number>();
  const plansOf = new Map<string, { id: string; name: string }[]>();
  let done = 0;
  for (const plan of plans) {
    const planId = plan.id ?? '';
    const { members, daily } = await planUsageByKeyId(client, planId, isoDay(fromStart), isoDay(toStart));
    for (const id of members) plansOf.set(id, [...(plansOf.get(id) ?? []), { id: planId, name: plan.name ?? '' }]);
    for (const [keyId, days] of daily) used.set(keyId, (used.get(keyId) ?? 0) + days.reduce((sum, [requests]) => sum + (requests ?? 0), 0));
    options.onProgress?.(++done, plans.length);
  }

  const keys: ApiKey[] = (await listApiKeys(client)).filter((k) => !options.usagePlanIds || plansOf.has(k.id ?? ''));
  const unused: UnusedKey[] = [];
  let tooNew = 0;
  for (const k of keys) {
    if ((used.get(k.id ?? '') ?? 0) > 0) continue;
    if (k.createdDate && k.createdDate.getTime() > fromStart) {
      tooNew++;
      continue;
    }
    unused.push({
      id: k.id ?? '', name: k.name ?? '', enabled: k.enabled === true, createdDate: k.createdDate?.toISOString(), customerId: k.customerId,
      plans: plansOf.get(k.id ?? '') ?? [], managed: managedKeyReason(k), tags: k.tags ?? {},
    });
  }
  unused.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { from: isoDay(fromStart), to: isoDay(toStart), days: options.days, unused, checked: keys.length, tooNew };
}
