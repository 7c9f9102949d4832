/**
 * Optional persistence of the mutable state — keys, plan-key associations, quota counters,
 * the local Secrets Manager's secrets with their versions and staging labels, the local
 * Cognito's users and signing key, and the values
 * generated for the template (key values, secrets, random ids) — in one JSON
 * file. Read: checked against a schema before anything is used, so a damaged file is refused
 * naming the file and the field, never half-loaded. Written atomically through an exclusive,
 * randomly named temp file: fsync, rename, fsync of the directory.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { PersistedTemplateValues } from './cloudformation/build-model';
import { CustomResourceRecords } from './cloudformation/context';
import { ApiKey, Model, UsagePlan } from './apigateway/model';
import { LocalServiceError } from './service-error';
import { UsageCounts } from './apigateway/data-plane/quota';
import { PersistedSecret } from './secrets-manager/service';
import { SavedCognito } from './cognito/service';
import { STATE_SCHEMA, STATE_VERSION } from './state-schema';

export { STATE_VERSION } from './state-schema';

export interface StateFile {
  readonly version: number;
  readonly savedAt: string;
  readonly keys: ApiKey[];
  /** Ids of the template's keys when saved, to tell a deleted template key from a new one. */
  readonly templateKeyIds: string[];
  readonly planKeys: Record<string, string[]>;
  /** Every usage plan, as the control plane left it (CreateUsagePlan, UpdateUsagePlan, DeleteUsagePlan). */
  readonly plans?: UsagePlan[];
  /** planId → fingerprint of the template's plan when saved; a template plan missing from `plans` was deleted. */
  readonly templatePlans?: Record<string, string>;
  readonly usage: UsageCounts;
  readonly template: PersistedTemplateValues;
  /** The local Secrets Manager's secrets: rotated versions survive a restart with the keys they made. */
  readonly secrets?: PersistedSecret[];
  /** `stack/logicalId` → the custom resource as its last event left it (an app change sends Update or Delete). */
  readonly customResources?: CustomResourceRecords;
  /** Each scheduled job's last run (ms since the epoch, gateway clock) by name: schedules continue across restarts. */
  readonly schedules?: Record<string, number>;
  /** The local Cognito's users (password hashes, never passwords) and its signing key: accounts and tokens survive a restart. */
  readonly cognito?: SavedCognito;
}

/** What a template says about a plan, to notice when the template itself changed it. */
export function planFingerprint(p: UsagePlan): string {
  return JSON.stringify([p.name, p.description ?? null, p.apiStages, p.throttle ?? null, p.quota ?? null]);
}

/** Fingerprints of the template's plans, taken right after the model is built. */
export function templatePlanFingerprints(model: Model): Record<string, string> {
  return Object.fromEntries([...model.plans.values()].map((p) => [p.id, planFingerprint(p)]));
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(v: unknown): string | undefined {
  validator ??= new Ajv({ allErrors: false, strict: true }).compile(STATE_SCHEMA);
  if (validator(v)) return stageProblem(v as { secrets?: PersistedSecret[] });
  const e = validator.errors?.[0];
  if (!e) return 'does not match the state file schema';
  const where = e.instancePath === '' ? '(the top level)' : e.instancePath;
  const allowed = e.keyword === 'const' ? ` (expected ${JSON.stringify(e.params.allowedValue)})` : '';
  return `field ${where} ${e.message ?? 'is invalid'}${allowed}`;
}

/** A staging label is on at most one version of a secret (what the schema can't say). */
function stageProblem(state: { secrets?: PersistedSecret[] }): string | undefined {
  for (const [i, secret] of (state.secrets ?? []).entries()) {
    const seen = new Set<string>();
    for (const stage of secret.versions.flatMap((v) => v.stages)) {
      if (seen.has(stage)) return `field /secrets/${i}/versions has the staging label ${stage} on two versions`;
      seen.add(stage);
    }
  }
  return undefined;
}

/** Reads a state file; undefined if it does not exist or is empty (start fresh). Throws naming the file and the bad field. */
export function readState(file: string): StateFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read state file ${file}: ${(e as Error).message}`);
  }
  if (text.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`state file ${file} is not valid JSON (${(e as Error).message}); move it away to start fresh`);
  }
  const problem = validate(v);
  if (problem) throw new Error(`state file ${file} is not a valid keygate local state file (version ${STATE_VERSION}): ${problem}; fix it or move it away to start fresh`);
  const s = v as Partial<StateFile> & { template?: Partial<PersistedTemplateValues> };
  return {
    version: STATE_VERSION, savedAt: s.savedAt ?? '', keys: s.keys ?? [], templateKeyIds: s.templateKeyIds ?? [],
    planKeys: s.planKeys ?? {}, plans: s.plans, templatePlans: s.templatePlans, usage: s.usage ?? {},
    template: { keyValues: s.template?.keyValues ?? {}, secrets: s.template?.secrets ?? {}, physicalIds: s.template?.physicalIds ?? {} },
    secrets: s.secrets, customResources: s.customResources, schedules: s.schedules, cognito: s.cognito,
  };
}

/**
 * Writes `data` to `file` atomically: a crash leaves either the old or the new file, never a
 * torn one. The temp file has an unguessable name and is created exclusively (O_EXCL, mode
 * 0600), so nobody can plant it or a symlink in its place beforehand.
 */
export function writeFileAtomic(file: string, data: string): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(12).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  }
}

/**
 * Plans as the control plane left them. A template plan keeps the saved fields unless the
 * template changed the plan since the save (then the template wins, as a redeploy would).
 */
function applyPlans(model: Model, state: StateFile, templatePlans: Record<string, string>): void {
  if (!state.plans) return;
  const savedTemplate = state.templatePlans ?? {};
  const saved = new Set(state.plans.map((p) => p.id));
  for (const id of Object.keys(savedTemplate)) {
    if (templatePlans[id] === savedTemplate[id] && !saved.has(id)) { model.plans.delete(id); model.planKeys.delete(id); }
  }
  for (const p of state.plans) {
    const apiStages = p.apiStages.filter((s) => model.apis.get(s.apiId)?.stages.has(s.stage));
    const existing = model.plans.get(p.id);
    if (existing) {
      // Not a template field (only UpdateUsagePlan sets it): it survives a template change, as on AWS.
      existing.productCode = p.productCode;
      if (templatePlans[p.id] !== savedTemplate[p.id]) continue;
      existing.name = p.name;
      existing.description = p.description;
      existing.apiStages = apiStages;
      existing.throttle = p.throttle;
      existing.quota = p.quota;
    } else if (savedTemplate[p.id] === undefined) {
      model.plans.set(p.id, { ...p, apiStages, tags: p.tags ?? {} });
      model.planKeys.set(p.id, new Set());
    }
  }
}

/** Applies a loaded state to a freshly built model (plans, keys, associations). */
export function applyState(model: Model, state: StateFile, templateKeyIds: Set<string>, templatePlans: Record<string, string> = {}): void {
  applyPlans(model, state, templatePlans);
  const stateKeyIds = new Set(state.keys.map((k) => k.id));
  // Template keys deleted through the control plane stay deleted.
  for (const id of state.templateKeyIds) if (templateKeyIds.has(id) && !stateKeyIds.has(id)) model.deleteKey(id);
  const savedTemplateKeys = new Set(state.templateKeyIds);
  for (const k of state.keys) {
    // A key of the saved template that this template no longer declares: the update deleted it.
    if (savedTemplateKeys.has(k.id) && !templateKeyIds.has(k.id)) continue;
    const existing = model.keys.get(k.id);
    if (existing) {
      existing.name = k.name;
      existing.description = k.description;
      existing.enabled = k.enabled;
      existing.customerId = k.customerId;
      existing.lastUpdatedDate = k.lastUpdatedDate;
      // The key's age counts for keygate's expiry: a restart isn't a new deploy.
      Object.assign(existing, { createdDate: k.createdDate });
      continue;
    }
    try {
      model.addKey({ ...k, stageKeys: k.stageKeys ?? [], tags: k.tags ?? {} });
    } catch (e) {
      if (!(e instanceof LocalServiceError)) throw e;
      // A key whose value the template now uses under another id: the template wins.
    }
  }
  for (const [planId, set] of model.planKeys) {
    const saved = state.planKeys[planId];
    if (!saved) continue;
    const next = new Set(saved.filter((id) => model.keys.has(id)));
    // Associations of template keys that are new since the save come from the template.
    for (const id of set) if (!savedTemplateKeys.has(id)) next.add(id);
    model.planKeys.set(planId, next);
  }
}

export function snapshotState(
  model: Model, usage: UsageCounts, templateKeyIds: Set<string>, template: PersistedTemplateValues, templatePlans: Record<string, string> = {},
  secrets?: PersistedSecret[], customResources?: CustomResourceRecords, schedules?: Record<string, number>, cognito?: SavedCognito,
): StateFile {
  const planKeys: Record<string, string[]> = {};
  for (const [planId, set] of model.planKeys) planKeys[planId] = [...set];
  return {
    version: STATE_VERSION, savedAt: new Date().toISOString(), keys: [...model.keys.values()],
    templateKeyIds: [...templateKeyIds], planKeys, plans: [...model.plans.values()], templatePlans, usage, template, secrets, customResources,
    // Only once a job ran: a file without scheduled runs stays as it was.
    ...(schedules && Object.keys(schedules).length > 0 ? { schedules } : {}),
    // Only for an app with user pools: other apps' files stay as they were.
    ...(cognito && Object.keys(cognito.pools).length > 0 ? { cognito } : {}),
  };
}

/** Saves on demand (synchronously, before a control-plane change is acknowledged) and coalesces counter saves. */
export class StateStore {
  private timer?: NodeJS.Timeout;

  constructor(readonly file: string, private readonly snapshot: () => StateFile, private readonly debounceMs = 200) {}

  saveNow(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    writeFileAtomic(this.file, JSON.stringify(this.snapshot()));
  }

  /** Schedules a save soon (for quota counters, which change on every request). */
  saveSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try { this.saveNow(); } catch (e) { process.stderr.write(`keygate local: cannot save state to ${this.file}: ${(e as Error).message}\n`); }
    }, this.debounceMs);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) this.saveNow();
  }
}
