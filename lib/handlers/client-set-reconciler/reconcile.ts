/*
 * Reconciles API Gateway with a declared client set, by diff.
 *
 * State is never stored outside API Gateway: every pass lists the keys of the set (the
 * description marker says set, owner resource, adoption and retirement), compares them with
 * the declared keys and makes only the calls needed. Re-running a pass is safe, and a pass
 * with nothing to do makes no write call.
 *
 * Lifecycle rules (see README "Scale"):
 * - a resource changes or deletes only keys it owns (stack id + logical id in the marker);
 *   keys of the set owned by another resource are adopted only when the set says so, and
 *   handed back if the adopting resource is rolled back (deleted);
 * - a client removed by an update is retired (disabled, marked with the request), not
 *   deleted: a rollback declares it again and re-enables it with its same value; a later
 *   request deletes it;
 * - creates first (ImportApiKeys in batches, each whole or not at all), then updates (a plan
 *   of another stage is added before the old plan is left, so the key never has none), then
 *   retirements and deletes.
 *
 * Long runs: a pass stops starting calls at `deadline` and reports `complete: false`; the
 * next pass (the Provider framework's isComplete) lists again and carries on.
 */
import type { ApiKey, PatchOperation } from '@aws-sdk/client-api-gateway';
import { CONTROL_PLANE_RATES } from '../../shared/constants';
import { ValidatedRow } from '../../sdk/import-keys';
import { collectPages } from '../../sdk/paginate';
import { generateKeyValue } from '../../shared/constants';
import { ControlPlane, DeadlineReached, Operation } from './control-plane';
import { DEFAULT_IMPORT_BATCH_SIZE, describeKey, DesiredKey, KeyMarker, parseDescription } from '../../shared/manifest';

/** A key of the set, as listed. */
export interface ListedKey {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly marker: KeyMarker;
  /** The declared part of the description (after the marker). */
  readonly text?: string;
  /** Tags except AWS's own (aws:*). */
  readonly tags: { [key: string]: string };
  readonly createdDate?: Date;
  /** Plans in scope the key is in, sorted. */
  readonly planIds: string[];
}

/** Who is asking, and for what. */
export interface ReconcileContext {
  readonly setId: string;
  /** The resource making the request (`ownerOf(stackId, logicalId)`). */
  readonly owner: string;
  /** The CloudFormation request (retirements are marked with it). */
  readonly requestToken: string;
  /** Take over keys of the set that another resource owns. */
  readonly adopt: boolean;
}

export interface KeyUpdate {
  readonly key: ListedKey;
  readonly patch: PatchOperation[];
  readonly removePlans: string[];
  readonly addPlans: string[];
  readonly tag: { [key: string]: string };
  readonly untag: string[];
  /** What the update does, for progress lines: update, retire, restore, adopt, hand back, release. */
  readonly kind: 'update' | 'retire' | 'hand-back' | 'release';
}

/** What a pass will do. */
export interface ChangeSet {
  readonly creates: DesiredKey[];
  readonly updates: KeyUpdate[];
  /** Retired keys of an earlier request, extra keys of a name declared once, or (Delete) every owned key. */
  readonly deletes: ListedKey[];
  readonly unchanged: number;
  /** Keys of the set owned by another resource that this request may not touch. */
  readonly foreign: ListedKey[];
  /** Keys kept (declared or retired) once the change is done. */
  readonly kept: number;
  readonly retired: number;
}

/**
 * The diff for a Create or Update: pure. `plansInScope` are the plans whose associations the
 * set manages (the declared tiers of this and the previous deployment); associations with
 * other plans are left alone.
 */
export function planChanges(desired: readonly DesiredKey[], listed: readonly ListedKey[], plansInScope: readonly string[], ctx: ReconcileContext): ChangeSet {
  const scope = new Set(plansInScope);
  const foreign: ListedKey[] = [];
  const byName = new Map<string, ListedKey[]>();
  for (const key of listed) {
    const mine = key.marker.owner === undefined || key.marker.owner === ctx.owner || ctx.adopt;
    if (!mine) {
      foreign.push(key);
      continue;
    }
    const list = byName.get(key.name);
    if (list) list.push(key);
    else byName.set(key.name, [key]);
  }
  const creates: DesiredKey[] = [];
  const updates: KeyUpdate[] = [];
  const deletes: ListedKey[] = [];
  let unchanged = 0;
  let retired = 0;
  const declared = new Set<string>();
  for (const want of desired) {
    declared.add(want.name);
    const [keep, ...extra] = oldestFirst(byName.get(want.name) ?? []);
    deletes.push(...extra);
    if (!keep) {
      creates.push(want);
      continue;
    }
    const update = diffKey(keep, want, scope, ctx);
    if (update) updates.push(update);
    else unchanged++;
  }
  for (const [name, keys] of byName) {
    if (declared.has(name)) continue;
    for (const key of keys) {
      if (key.marker.retired !== undefined && key.marker.retired !== ctx.requestToken) {
        deletes.push(key);
        continue;
      }
      retired++;
      const marker = { ...ownedMarker(key, ctx), retired: key.marker.retired ?? ctx.requestToken };
      const patch: PatchOperation[] = [];
      if (key.enabled) patch.push({ op: 'replace', path: '/enabled', value: 'false' });
      const description = describeKey(marker, key.text);
      if (description !== describeKey(key.marker, key.text)) patch.push({ op: 'replace', path: '/description', value: description });
      if (patch.length > 0) updates.push({ key, patch, removePlans: [], addPlans: [], tag: {}, untag: [], kind: 'retire' });
      else unchanged++;
    }
  }
  return { creates, updates, deletes, unchanged, foreign, kept: desired.length + retired, retired };
}

/**
 * The diff for a Delete of the resource `ctx.owner`: its own keys are deleted, except keys it
 * adopted in a replacement that is being rolled back (handed back to their previous owner);
 * keys another resource adopted from it are released (the adoption is confirmed).
 */
export function planDelete(listed: readonly ListedKey[], ctx: ReconcileContext): ChangeSet {
  const updates: KeyUpdate[] = [];
  const deletes: ListedKey[] = [];
  const foreign: ListedKey[] = [];
  for (const key of listed) {
    const mine = key.marker.owner === undefined || key.marker.owner === ctx.owner;
    if (mine && key.marker.from) {
      const marker: KeyMarker = { setId: key.marker.setId, owner: key.marker.from, retired: key.marker.retired };
      updates.push({ key, patch: [{ op: 'replace', path: '/description', value: describeKey(marker, key.text) }], removePlans: [], addPlans: [], tag: {}, untag: [], kind: 'hand-back' });
    } else if (mine) {
      deletes.push(key);
    } else if (key.marker.from === ctx.owner) {
      const marker: KeyMarker = { ...key.marker, from: undefined };
      updates.push({ key, patch: [{ op: 'replace', path: '/description', value: describeKey(marker, key.text) }], removePlans: [], addPlans: [], tag: {}, untag: [], kind: 'release' });
    } else {
      foreign.push(key);
    }
  }
  return { creates: [], updates, deletes, unchanged: 0, foreign, kept: 0, retired: 0 };
}

/** The marker an owned key should carry: this resource as owner; an adopted key remembers where it came from. */
function ownedMarker(key: ListedKey, ctx: ReconcileContext): KeyMarker {
  const previous = key.marker.owner;
  const from = previous !== undefined && previous !== ctx.owner ? previous : key.marker.from;
  return { setId: ctx.setId, owner: ctx.owner, from };
}

function oldestFirst(keys: ListedKey[]): ListedKey[] {
  return [...keys].sort((a, b) => (a.createdDate?.getTime() ?? 0) - (b.createdDate?.getTime() ?? 0) || a.id.localeCompare(b.id));
}

function diffKey(key: ListedKey, want: DesiredKey, scope: Set<string>, ctx: ReconcileContext): KeyUpdate | undefined {
  const patch: PatchOperation[] = [];
  if (key.enabled !== want.enabled) patch.push({ op: 'replace', path: '/enabled', value: String(want.enabled) });
  const description = describeKey(ownedMarker(key, ctx), want.description);
  if (describeKey(key.marker, key.text) !== description) patch.push({ op: 'replace', path: '/description', value: description });
  const removePlans = key.planIds.filter((id) => scope.has(id) && !want.planIds.includes(id));
  const addPlans = want.planIds.filter((id) => !key.planIds.includes(id));
  const tag: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(want.tags)) if (key.tags[k] !== v) tag[k] = v;
  const untag = Object.keys(key.tags).filter((k) => !(k in want.tags));
  if (patch.length + removePlans.length + addPlans.length + Object.keys(tag).length + untag.length === 0) return undefined;
  return { key, patch, removePlans, addPlans, tag, untag, kind: 'update' };
}

/** Lists the keys of `setId` and their associations with the plans in scope; `accountKeys` counts every key of the region. */
export async function listSetKeys(cp: ControlPlane, setId: string, plansInScope: readonly string[], counts: { accountKeys?: number } = {}): Promise<ListedKey[]> {
  const all = await collectPages<ApiKey>((position) => cp.getApiKeysPage(position));
  counts.accountKeys = all.length;
  const ofSet: Array<{ key: ApiKey; parsed: NonNullable<ReturnType<typeof parseDescription>> }> = [];
  for (const key of all) {
    const parsed = parseDescription(key.description);
    if (key.id && parsed?.marker.setId === setId) ofSet.push({ key, parsed });
  }
  const plansOf = new Map<string, string[]>(ofSet.map(({ key }) => [key.id ?? '', []]));
  for (const planId of [...new Set(plansInScope)].sort()) {
    const members = await collectPages((position) => cp.getUsagePlanKeysPage(planId, position));
    for (const member of members) plansOf.get(member.id ?? '')?.push(planId);
  }
  return ofSet.map(({ key, parsed }) => ({
    id: key.id ?? '',
    name: key.name ?? '',
    enabled: key.enabled ?? true,
    marker: parsed.marker,
    text: parsed.text,
    tags: Object.fromEntries(Object.entries(key.tags ?? {}).filter(([k]) => !k.startsWith('aws:'))),
    createdDate: key.createdDate,
    planIds: (plansOf.get(key.id ?? '') ?? []).sort(),
  }));
}

/** The calls a change set needs, by the rate that limits them. */
export interface CallEstimate {
  /** Calls at the shared rate (imports, updates, plan keys, tags, listings). */
  readonly shared: number;
  /** DeleteApiKey calls (their own rate). */
  readonly keyWrites: number;
  readonly total: number;
  /** Seconds at API Gateway's documented rates. */
  readonly seconds: number;
}

/** How many calls `changes` takes, and how long at API Gateway's documented rates. */
export function estimateCalls(changes: ChangeSet, batchSize: number, listingCalls: number): CallEstimate {
  let shared = listingCalls + Math.ceil(changes.creates.length / batchSize);
  // Tags can't be imported: one TagResource per new key with tags.
  shared += changes.creates.filter((key) => Object.keys(key.tags).length > 0).length;
  for (const u of changes.updates) {
    shared += (u.patch.length > 0 ? 1 : 0) + u.removePlans.length + u.addPlans.length + (Object.keys(u.tag).length > 0 ? 1 : 0) + (u.untag.length > 0 ? 1 : 0);
  }
  const keyWrites = changes.deletes.length;
  const seconds = Math.ceil(shared / CONTROL_PLANE_RATES.shared + keyWrites / CONTROL_PLANE_RATES.keyWrite);
  return { shared, keyWrites, total: shared + keyWrites, seconds };
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
  /** Listings at most in one run, when a listing leaves follow-up work (tags of new keys). Default 3. */
  readonly maxPasses?: number;
  /** A progress line every this many changes. Default 1,000. */
  readonly progressEvery?: number;
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
  /** Keys the set keeps once complete (declared, plus retired ones awaiting deletion). */
  readonly keys: number;
  /** Retired keys (disabled; deleted by a later request). */
  readonly retired: number;
  readonly calls: Record<Operation, number>;
  readonly writes: number;
}

/**
 * Brings the keys of `ctx.setId` that `ctx.owner` owns in line with `desired`, or (desired
 * undefined: a Delete) deletes them. Throws on a call that fails after its retries; what was
 * done stays done, and a re-run continues.
 */
export async function reconcile(cp: ControlPlane, ctx: ReconcileContext, desired: readonly DesiredKey[] | undefined, plansInScope: readonly string[], options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const now = options.now ?? Date.now;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const timeUp = () => now() >= deadline;
  const log = options.log ?? (() => undefined);
  const totals = { created: 0, updated: 0, deleted: 0 };
  let unchanged = 0;
  let pending = 0;
  let kept = 0;
  let retired = 0;
  let complete = false;
  const scope = [...new Set([...plansInScope, ...(desired ?? []).flatMap((key) => key.planIds)])];
  let stages = new Map<string, string[]>();
  try {
    if (desired) stages = await stagesOfPlans(cp, scope);
  } catch (err) {
    if (!(err instanceof DeadlineReached)) throw err;
    return { complete: false, ...totals, unchanged, pending, keys: kept, retired, calls: { ...cp.calls }, writes: cp.writes };
  }

  let lastListingMs = 0;
  for (let pass = 1; pass <= (options.maxPasses ?? 3) && !complete && now() + lastListingMs < deadline; pass++) {
    const listingStart = now();
    let listed: ListedKey[];
    try {
      listed = await listSetKeys(cp, ctx.setId, scope);
    } catch (err) {
      if (!(err instanceof DeadlineReached)) throw err;
      log(`listing ${pass} stopped: ${err.message}`);
      break;
    }
    lastListingMs = now() - listingStart;
    const changes = desired ? planChanges(desired, listed, scope, ctx) : planDelete(listed, ctx);
    if (desired && changes.foreign.length > 0) throw foreignKeysError(ctx, changes.foreign);
    unchanged = changes.unchanged;
    kept = changes.kept;
    retired = changes.retired;
    const todo = changes.creates.length + changes.updates.length + changes.deletes.length;
    log(`listing ${pass}: ${listed.length} keys of the set; ${changes.creates.length} to create, ${changes.updates.length} to update, ${changes.deletes.length} to delete, ${changes.unchanged} unchanged`);
    const done = await apply(cp, changes, stages, { ...options, timeUp, log, todo, ctx });
    totals.created += done.created;
    totals.updated += done.updated;
    totals.deleted += done.deleted;
    pending = todo - done.created - done.updated - done.deleted;
    // Tags can't be set by ImportApiKeys: keys created with tags get them after a new listing.
    const followUp = done.created > 0 && changes.creates.some((key) => Object.keys(key.tags).length > 0);
    complete = pending === 0 && !followUp;
    if (followUp && pending === 0) pending = changes.creates.filter((key) => Object.keys(key.tags).length > 0).length;
    if (done.outOfTime) break;
  }
  log(`${complete ? 'complete' : 'not complete, the next run carries on'}: created ${totals.created}, updated ${totals.updated}, deleted ${totals.deleted}, remaining ${pending}; ${cp.writes} write calls`);
  return { complete, ...totals, unchanged, pending, keys: kept, retired, calls: { ...cp.calls }, writes: cp.writes };
}

/** The error for keys of the set that another resource owns (no adoption declared). */
export function foreignKeysError(ctx: ReconcileContext, foreign: readonly ListedKey[]): Error {
  const owners = [...new Set(foreign.map((key) => key.marker.owner))];
  return new Error(
    `${foreign.length} keys of the client set ${ctx.setId} belong to another resource (${owners.slice(0, 3).join(', ')}${owners.length > 3 ? ', …' : ''}); `
    + `this resource is ${ctx.owner}. If the set moved (construct renamed or moved to another stack), set adoptExistingKeys: true to take them over; `
    + 'otherwise give this set another setId. Nothing was changed.',
  );
}

/** The API stages of each plan (a key may be in one plan per stage). */
export async function stagesOfPlans(cp: ControlPlane, planIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const planId of planIds) out.set(planId, await cp.getUsagePlanStages(planId) ?? []);
  return out;
}

interface ApplyOptions extends ReconcileOptions {
  readonly timeUp: () => boolean;
  readonly log: (line: string) => void;
  readonly todo: number;
  readonly ctx: ReconcileContext;
}

async function apply(cp: ControlPlane, changes: ChangeSet, stages: Map<string, string[]>, options: ApplyOptions): Promise<{ created: number; updated: number; deleted: number; outOfTime: boolean }> {
  const done = { created: 0, updated: 0, deleted: 0, outOfTime: false };
  const generate = options.generateValue ?? (() => generateKeyValue(40));
  const batchSize = options.batchSize ?? DEFAULT_IMPORT_BATCH_SIZE;
  const concurrency = options.concurrency ?? 4;
  const every = options.progressEvery ?? 1000;
  let reported = 0;
  const progress = () => {
    const sum = done.created + done.updated + done.deleted;
    if (sum - reported < every) return;
    reported = sum;
    options.log(`progress: created ${done.created}, updated ${done.updated}, deleted ${done.deleted}, remaining ${options.todo - sum}`);
  };
  // Running out of time inside a call's backoff is the end of this run, not a failure.
  const untilDeadline = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      if (!(err instanceof DeadlineReached)) throw err;
      options.log(err.message);
      done.outOfTime = true;
    }
  };
  const stop = () => options.timeUp();

  await untilDeadline(async () => {
    // 1. Creates: whole batches, each imported with failOnWarnings (all rows or none).
    for (let i = 0; i < changes.creates.length && !stop(); i += batchSize) {
      const batch = changes.creates.slice(i, i + batchSize);
      await importBatch(cp, batch, generate, options.ctx);
      done.created += batch.length;
      progress();
    }
    if (done.created < changes.creates.length) return;

    // 2. Updates: attributes, then plans: a plan of another stage before leaving the old one.
    await forEachUntil(changes.updates, concurrency, stop, async (update) => {
      const id = update.key.id;
      if (update.patch.length > 0) await cp.updateApiKey(id, update.patch);
      await cp.moveKey(id, update.addPlans, update.removePlans, stages);
      if (Object.keys(update.tag).length > 0) await cp.tagApiKey(id, update.tag);
      if (update.untag.length > 0) await cp.untagApiKey(id, update.untag);
      done.updated++;
      progress();
    });
    if (done.updated < changes.updates.length) return;

    // 3. Deletes, last: only keys this resource owns reach here.
    await forEachUntil(changes.deletes, concurrency, stop, async (key) => {
      await cp.deleteApiKey(key.id);
      done.deleted++;
      progress();
    });
  });
  return done;
}

/** Imports one batch of new keys (all rows or none), each with a new value. */
async function importBatch(cp: ControlPlane, batch: ChangeSet['creates'], generate: () => string, ctx: ReconcileContext): Promise<void> {
  const values = batch.map(() => generate());
  const rows: ValidatedRow[] = batch.map((key, n) => ({
    line: n + 2, name: key.name, key: values[n], description: describeKey({ setId: ctx.setId, owner: ctx.owner }, key.description), enabled: key.enabled, planIds: key.planIds, alreadyPresent: false,
  }));
  await cp.importApiKeys(rows);
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
