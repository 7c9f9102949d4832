/*
 * Reconciles API Gateway with a declared client set, by diff.
 *
 * State is never stored: every pass lists the keys the set owns (the description marker) and
 * their associations with the usage plans in scope, compares them with the declared keys and
 * makes only the calls needed. Re-running a pass is therefore safe, and a pass with nothing to
 * do makes no write call.
 *
 * Order, for safety: creates first (ImportApiKeys in batches, each batch whole or not at all),
 * then updates (enabled, description, tags, plan moves), and deletes last. A failure part-way
 * therefore leaves every key of the old set in place (with new keys beside them); the failed
 * deployment's CloudFormation rollback sends the old manifest again, and reconciling to it
 * deletes the new keys and moves changed keys back — API Gateway ends up matching either the
 * old set or the new one. A plan move takes the key out of its old plan before putting it in
 * the new one, since a key may be in only one plan per API stage.
 *
 * Long runs: a pass stops starting new calls at `deadline` and reports `complete: false`; the
 * next pass (the Provider framework's isComplete) lists again and carries on.
 */
import type { ApiKey, PatchOperation } from '@aws-sdk/client-api-gateway';
import { toKeyFileCsv, ValidatedRow } from '../../ops/import-keys';
import { collectPages } from '../../ops/paginate';
import { generateKeyValue } from '../../ops/rotate';
import { ControlPlane, Operation } from './control-plane';
import { DEFAULT_IMPORT_BATCH_SIZE, DesiredKey, isOwnedBy } from './manifest';


/** A key the set owns, as listed. */
export interface OwnedKey {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly description: string;
  /** Tags except AWS's own (aws:*). */
  readonly tags: { [key: string]: string };
  readonly createdDate?: Date;
  /** Plans in scope the key is in, sorted. */
  readonly planIds: string[];
}

export interface KeyUpdate {
  readonly key: OwnedKey;
  readonly desired: DesiredKey;
  readonly patch: PatchOperation[];
  readonly removePlans: string[];
  readonly addPlans: string[];
  readonly tag: { [key: string]: string };
  readonly untag: string[];
}

/** What a pass will do. */
export interface ChangeSet {
  readonly creates: DesiredKey[];
  readonly updates: KeyUpdate[];
  /** Owned keys no longer declared, and extra keys of a name declared once. */
  readonly deletes: OwnedKey[];
  readonly unchanged: number;
}

/**
 * The diff: pure. `plansInScope` are the plans whose associations the set manages (the
 * declared tiers of this and the previous deployment); associations with other plans are
 * left alone.
 */
export function planChanges(desired: readonly DesiredKey[], owned: readonly OwnedKey[], plansInScope: readonly string[]): ChangeSet {
  const scope = new Set(plansInScope);
  const byName = new Map<string, OwnedKey[]>();
  for (const key of owned) {
    const list = byName.get(key.name);
    if (list) list.push(key);
    else byName.set(key.name, [key]);
  }
  const creates: DesiredKey[] = [];
  const updates: KeyUpdate[] = [];
  const deletes: OwnedKey[] = [];
  let unchanged = 0;
  const declared = new Set<string>();
  for (const want of desired) {
    declared.add(want.name);
    const [keep, ...extra] = oldestFirst(byName.get(want.name) ?? []);
    deletes.push(...extra);
    if (!keep) {
      creates.push(want);
      continue;
    }
    const update = diffKey(keep, want, scope);
    if (update) updates.push(update);
    else unchanged++;
  }
  for (const [name, keys] of byName) if (!declared.has(name)) deletes.push(...keys);
  return { creates, updates, deletes, unchanged };
}

function oldestFirst(keys: OwnedKey[]): OwnedKey[] {
  return [...keys].sort((a, b) => (a.createdDate?.getTime() ?? 0) - (b.createdDate?.getTime() ?? 0) || a.id.localeCompare(b.id));
}

function diffKey(key: OwnedKey, want: DesiredKey, scope: Set<string>): KeyUpdate | undefined {
  const patch: PatchOperation[] = [];
  if (key.enabled !== want.enabled) patch.push({ op: 'replace', path: '/enabled', value: String(want.enabled) });
  if (key.description !== want.description) patch.push({ op: 'replace', path: '/description', value: want.description });
  const removePlans = key.planIds.filter((id) => scope.has(id) && !want.planIds.includes(id));
  const addPlans = want.planIds.filter((id) => !key.planIds.includes(id));
  const tag: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(want.tags)) if (key.tags[k] !== v) tag[k] = v;
  const untag = Object.keys(key.tags).filter((k) => !(k in want.tags));
  if (patch.length + removePlans.length + addPlans.length + Object.keys(tag).length + untag.length === 0) return undefined;
  return { key, desired: want, patch, removePlans, addPlans, tag, untag };
}

/** Lists the keys `setId` owns and their associations with the plans in scope. */
export async function listOwnedKeys(cp: ControlPlane, setId: string, plansInScope: readonly string[]): Promise<OwnedKey[]> {
  const all = await collectPages<ApiKey>((position) => cp.getApiKeysPage(position));
  const owned = all.filter((key) => key.id && isOwnedBy(key.description, setId));
  const plansOf = new Map<string, string[]>(owned.map((key) => [key.id ?? '', []]));
  for (const planId of [...new Set(plansInScope)].sort()) {
    const members = await collectPages((position) => cp.getUsagePlanKeysPage(planId, position));
    for (const member of members) plansOf.get(member.id ?? '')?.push(planId);
  }
  return owned.map((key) => ({
    id: key.id ?? '',
    name: key.name ?? '',
    enabled: key.enabled ?? true,
    description: key.description ?? '',
    tags: Object.fromEntries(Object.entries(key.tags ?? {}).filter(([k]) => !k.startsWith('aws:'))),
    createdDate: key.createdDate,
    planIds: (plansOf.get(key.id ?? '') ?? []).sort(),
  }));
}

export interface ReconcileOptions {
  /** Rows per ImportApiKeys call. Default 500. */
  readonly batchSize?: number;
  /** Epoch ms after which no new call is started (the pass then reports complete: false). */
  readonly deadline?: number;
  /** Calls in flight at once for updates and deletes (the limiter sets the rate). Default 4. */
  readonly concurrency?: number;
  /** Key value source. Default: 40 alphanumeric characters from the CSPRNG. */
  readonly generateValue?: () => string;
  readonly now?: () => number;
  /** Progress lines (counts and key names only; never values). */
  readonly log?: (line: string) => void;
  /** Passes at most, when a pass leaves follow-up work (tags of new keys). Default 3. */
  readonly maxPasses?: number;
}

export interface ReconcileResult {
  /** True when API Gateway matches the declared set. */
  readonly complete: boolean;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly unchanged: number;
  /** Changes found but not made before the deadline. */
  readonly pending: number;
  readonly calls: Record<Operation, number>;
  readonly writes: number;
}

/**
 * Brings the keys `setId` owns in line with `desired` (empty: delete them all). Throws on a
 * call that fails after its retries; what was done stays done, and a re-run continues.
 */
export async function reconcile(cp: ControlPlane, setId: string, desired: readonly DesiredKey[], plansInScope: readonly string[], options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const now = options.now ?? Date.now;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const timeUp = () => now() >= deadline;
  const log = options.log ?? (() => undefined);
  const totals = { created: 0, updated: 0, deleted: 0 };
  let unchanged = 0;
  let pending = 0;
  let complete = false;
  const scope = [...new Set([...plansInScope, ...desired.flatMap((key) => key.planIds)])];

  for (let pass = 1; pass <= (options.maxPasses ?? 3) && !complete && !timeUp(); pass++) {
    const owned = await listOwnedKeys(cp, setId, scope);
    const changes = planChanges(desired, owned, scope);
    unchanged = changes.unchanged;
    log(`pass ${pass}: ${owned.length} owned keys; ${changes.creates.length} to create, ${changes.updates.length} to update, ${changes.deletes.length} to delete, ${changes.unchanged} unchanged`);
    const done = await apply(cp, changes, { ...options, timeUp });
    totals.created += done.created;
    totals.updated += done.updated;
    totals.deleted += done.deleted;
    pending = changes.creates.length + changes.updates.length + changes.deletes.length - done.created - done.updated - done.deleted;
    // Tags can't be set by ImportApiKeys: keys created with tags get them on the next pass.
    const followUp = changes.creates.some((key) => Object.keys(key.tags).length > 0);
    complete = pending === 0 && !followUp;
    if (followUp && pending === 0) pending = changes.creates.filter((key) => Object.keys(key.tags).length > 0).length;
  }
  log(`${complete ? 'complete' : 'not complete'}: created ${totals.created}, updated ${totals.updated}, deleted ${totals.deleted}, pending ${pending}; ${cp.writes} write calls`);
  return { complete, ...totals, unchanged, pending, calls: { ...cp.calls }, writes: cp.writes };
}

interface ApplyOptions extends ReconcileOptions {
  readonly timeUp: () => boolean;
}

async function apply(cp: ControlPlane, changes: ChangeSet, options: ApplyOptions): Promise<{ created: number; updated: number; deleted: number }> {
  const done = { created: 0, updated: 0, deleted: 0 };
  const generate = options.generateValue ?? (() => generateKeyValue(40));
  const batchSize = options.batchSize ?? DEFAULT_IMPORT_BATCH_SIZE;
  const concurrency = options.concurrency ?? 4;

  // 1. Creates: whole batches, each imported with failOnWarnings (all rows or none).
  for (let i = 0; i < changes.creates.length; i += batchSize) {
    if (options.timeUp()) return done;
    const batch = changes.creates.slice(i, i + batchSize);
    const values = batch.map(() => generate());
    const rows: ValidatedRow[] = batch.map((key, n) => ({
      line: n + 2, name: key.name, key: values[n], description: key.description, enabled: key.enabled, planIds: key.planIds, alreadyPresent: false,
    }));
    await cp.importApiKeys(toKeyFileCsv(rows), values);
    done.created += batch.length;
  }

  // 2. Updates: attributes, then plan moves (out of the old plan before into the new one).
  await forEachUntil(changes.updates, concurrency, options.timeUp, async (update) => {
    const id = update.key.id;
    if (update.patch.length > 0) await cp.updateApiKey(id, update.patch);
    for (const planId of update.removePlans) await cp.deleteUsagePlanKey(planId, id);
    for (const planId of update.addPlans) await cp.createUsagePlanKey(planId, id);
    if (Object.keys(update.tag).length > 0) await cp.tagApiKey(id, update.tag);
    if (update.untag.length > 0) await cp.untagApiKey(id, update.untag);
    done.updated++;
  });
  if (done.updated < changes.updates.length) return done;

  // 3. Deletes, last: only keys whose description carries this set's marker reach here.
  await forEachUntil(changes.deletes, concurrency, options.timeUp, async (key) => {
    await cp.deleteApiKey(key.id);
    done.deleted++;
  });
  return done;
}

/**
 * Runs `task` over `items`, `concurrency` at a time, starting none after `stop()` says so.
 * The first failure stops further starts and is rethrown once the calls in flight end.
 */
export async function forEachUntil<T>(items: readonly T[], concurrency: number, stop: () => boolean, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length && !stop()) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failure) throw failure.error;
}
