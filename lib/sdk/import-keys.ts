import { APIGatewayClient, ApiKey, CreateUsagePlanKeyCommand, ImportApiKeysCommand, ImportApiKeysCommandOutput, UsagePlan } from '@aws-sdk/client-api-gateway';
import { parse } from 'csv-parse/sync';
import { asAwsError, isAlreadyInPlan, isServerError, OpsError, unreachableCode, UsageError } from './errors';
import { RetryPolicy, RetryPolicyOptions } from './retry';
import { csvCell } from '../shared/csv';
import { scrubKeyValues } from '../shared/scrub';
import { listApiKeys, listUsagePlans } from './paginate';
import { API_KEY_VALUE_PATTERN, MAX_PLANS_PER_KEY } from '../shared/constants';
import { findPlan, planStages, resolvePlan } from './resolve';

/** One data row of an API key file, as written. */
export interface KeyFileRow {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly name: string;
  readonly key: string;
  readonly description: string;
  /** Raw Enabled cell ('' when absent). */
  readonly enabled: string;
  /** Plan references (ids or names) of the UsagePlanIds cell. */
  readonly plans: string[];
}

export interface ParsedKeyFile {
  readonly rows: KeyFileRow[];
  /** Problems found while reading the file itself (line-numbered). */
  readonly errors: ImportProblem[];
}

export interface ImportProblem {
  readonly line: number;
  readonly message: string;
}

const REQUIRED = ['name', 'key'];
export { API_KEY_VALUE_PATTERN as KEY_VALUE_PATTERN, MAX_PLANS_PER_KEY };
export const MAX_NAME_LENGTH = 1024;

/** Splits a UsagePlanIds cell (`a,b`, `"a,b"` or `'a,b'`) into ids. */
function splitPlans(cell: string): string[] {
  const unquoted = cell.replace(/^'(.*)'$/s, '$1');
  return unquoted.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Reads an API Gateway key file (CSV; headers Name, Key, Description, Enabled, UsagePlanIds,
 * case-insensitive, in any order, unknown columns ignored).
 */
export function parseKeyFile(text: string): ParsedKeyFile {
  const errors: ImportProblem[] = [];
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    // csv-parse quotes the record it failed on, which may hold a key value.
    const e = err as { message?: string; lines?: number };
    return { rows: [], errors: [{ line: e.lines ?? 1, message: `not valid CSV: ${scrubKeyValues(e.message ?? String(err))}` }] };
  }
  if (records.length === 0) return { rows: [], errors: [{ line: 1, message: 'the file is empty: expected a header line with Name and Key' }] };
  const header = records[0].record.map((h) => h.trim().toLowerCase());
  const headerLine = records[0].info.lines;
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    errors.push({ line: headerLine, message: `missing required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => (m === 'name' ? 'Name' : 'Key')).join(', ')} (header: ${records[0].record.join(',')})` });
    return { rows: [], errors };
  }
  const col = (name: string): number => header.indexOf(name);
  const cell = (rec: string[], name: string): string => (col(name) >= 0 ? (rec[col(name)] ?? '') : '');
  const rows: KeyFileRow[] = [];
  for (const { record, info } of records.slice(1)) {
    if (record.length > header.length && col('usageplanids') === header.length - 1) {
      // An unquoted plan list in the last column: "a,b" written without quotes.
      const extra = record.slice(header.length - 1).join(',');
      record.splice(header.length - 1, record.length, extra);
    }
    rows.push({
      line: info.lines,
      name: cell(record, 'name'),
      key: cell(record, 'key'),
      description: cell(record, 'description'),
      enabled: cell(record, 'enabled'),
      plans: splitPlans(cell(record, 'usageplanids')),
    });
  }
  if (rows.length === 0) errors.push({ line: headerLine, message: 'the file has a header but no keys' });
  return { rows, errors };
}

/** A row after validation: plans resolved to ids. */
export interface ValidatedRow {
  readonly line: number;
  readonly name: string;
  readonly key: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly planIds: string[];
  /** Already present with the same name and value (a re-run): not imported again. */
  readonly alreadyPresent: boolean;
}

export interface ImportPlan {
  readonly rows: ValidatedRow[];
  readonly errors: ImportProblem[];
}

/**
 * Validates every row against the rules and against the account: value length/charset,
 * duplicate names or values in the file and against existing keys, unknown plans, two plans
 * covering the same API stage, at most 10 plans per key. `extraPlans` (names or ids) are
 * added to every row.
 */
export function validateKeyFile(file: ParsedKeyFile, existingKeys: readonly ApiKey[], plans: readonly UsagePlan[], extraPlans: readonly string[] = []): ImportPlan {
  const errors: ImportProblem[] = [...file.errors];
  const extraIds = extraPlans.map((ref) => resolvePlan(plans, ref).id ?? '');
  const byName = new Map<string, number>();
  const byValue = new Map<string, number>();
  const existingByValue = new Map<string, ApiKey>();
  const existingByName = new Map<string, ApiKey[]>();
  for (const k of existingKeys) {
    if (k.value) existingByValue.set(k.value, k);
    const list = existingByName.get(k.name ?? '') ?? [];
    list.push(k);
    existingByName.set(k.name ?? '', list);
  }
  const rows: ValidatedRow[] = [];
  for (const row of file.rows) {
    const err = (message: string) => errors.push({ line: row.line, message });
    const before = errors.length;
    const enabled = checkRowFields(row, err);
    if (row.name) {
      const first = byName.get(row.name);
      if (first !== undefined) err(`duplicate Name "${row.name}" (also on line ${first})`);
      else byName.set(row.name, row.line);
    }
    if (row.key) {
      const first = byValue.get(row.key);
      if (first !== undefined) err(`duplicate Key value for "${row.name}" (same value as line ${first})`);
      else byValue.set(row.key, row.line);
    }
    let alreadyPresent = false;
    const sameValue = row.key ? existingByValue.get(row.key) : undefined;
    const sameName = existingByName.get(row.name) ?? [];
    if (sameValue && sameValue.name === row.name) {
      alreadyPresent = true;
    } else {
      if (sameValue) err(`Key value of "${row.name}" already belongs to the existing key "${sameValue.name}" (${sameValue.id}); importing it would overwrite that key`);
      if (sameName.length > 0 && row.name) err(`a key named "${row.name}" already exists (${sameName.map((k) => k.id).join(', ')}) with a different value`);
    }
    const planIds = rowPlanIds(row, extraIds, plans, err);
    if (errors.length === before) {
      rows.push({ line: row.line, name: row.name, key: row.key, description: row.description, enabled, planIds, alreadyPresent });
    }
  }
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}

/** Checks a row's Name, Key and Enabled; returns whether the key is to be enabled. */
function checkRowFields(row: KeyFileRow, err: (message: string) => void): boolean {
  if (!row.name) err('Name is empty');
  else if (row.name.length > MAX_NAME_LENGTH) err(`Name is ${row.name.length} characters long (at most ${MAX_NAME_LENGTH})`);
  if (!row.key) err('Key is empty');
  else if (!API_KEY_VALUE_PATTERN.test(row.key)) {
    err(row.key.length < 20 || row.key.length > 128
      ? `Key of "${row.name}" is ${row.key.length} characters long (must be 20 to 128)`
      : `Key of "${row.name}" has characters other than letters and digits (must be alphanumeric)`);
  }
  let enabled = true;
  if (row.enabled !== '') {
    if (/^true$/i.test(row.enabled)) enabled = true;
    else if (/^false$/i.test(row.enabled)) enabled = false;
    else err(`Enabled must be TRUE or FALSE, not "${row.enabled}"`);
  }
  return enabled;
}

/** The ids of a row's plans (and the extra plans): unknown plans, two plans on one stage and too many plans are errors. */
function rowPlanIds(row: KeyFileRow, extraIds: readonly string[], plans: readonly UsagePlan[], err: (message: string) => void): string[] {
  const planIds: string[] = [];
  const stageOwner = new Map<string, string>();
  for (const ref of [...row.plans, ...extraIds]) {
    const plan = findPlan(plans, ref);
    if (!plan) {
      err(`unknown usage plan "${ref}"`);
      continue;
    }
    if (planIds.includes(plan.id ?? '')) continue;
    planIds.push(plan.id ?? '');
    for (const stage of planStages(plan)) {
      const other = stageOwner.get(stage);
      if (other !== undefined) err(`plans "${other}" and "${plan.name}" both cover the API stage ${stage}; a key may be in only one plan per stage`);
      else stageOwner.set(stage, plan.name ?? plan.id ?? '');
    }
  }
  if (planIds.length > MAX_PLANS_PER_KEY) err(`${planIds.length} usage plans (at most ${MAX_PLANS_PER_KEY} per key)`);
  return planIds;
}

/** Writes rows in API Gateway's key file format. */
export function toKeyFileCsv(rows: readonly ValidatedRow[]): string {
  const lines = ['Name,Key,Description,Enabled,UsagePlanIds'];
  for (const r of rows) {
    lines.push([r.name, r.key, r.description, r.enabled ? 'TRUE' : 'FALSE', r.planIds.join(',')].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export interface ImportOptions {
  /** Plans (names or ids) added to every row. */
  readonly plans?: readonly string[];
  readonly dryRun?: boolean;
  /** Rows per ImportApiKeys call. Default 100. */
  readonly batchSize?: number;
  /** Called after each batch with the number of rows done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Called once the work is known (total rows to import). */
  readonly onStart?: (total: number) => void;
  /** Retries of a batch whose outcome is unknown (see {@link importRowsSafely}). */
  readonly retry?: RetryPolicyOptions;
}

export interface ImportResult {
  readonly dryRun: boolean;
  /** Rows imported now (name, id, line). */
  readonly imported: { line: number; name: string; id?: string }[];
  /** Rows already present (same name and value) and skipped. */
  readonly skipped: { line: number; name: string }[];
  /** Rows that would be imported (dry run). */
  readonly planned: { line: number; name: string; planIds: string[]; planNames: string[] }[];
  readonly warnings: string[];
}

/**
 * Validates the whole file, then (unless dry-run) imports it with ImportApiKeys
 * (failOnWarnings) in batches. Any validation problem → UsageError (exit 2) and nothing is
 * written. A failing batch stops the import: earlier batches stay imported (a re-run skips them).
 */
export async function importKeys(client: APIGatewayClient, csvText: string, options: ImportOptions = {}): Promise<ImportResult> {
  const file = parseKeyFile(csvText);
  if (file.errors.length > 0 && file.rows.length === 0) {
    throw new UsageError(`The key file is not valid; nothing was imported:`, file.errors.map((e) => `line ${e.line}: ${e.message}`));
  }
  const [existing, plans] = await Promise.all([listApiKeys(client, { includeValues: true }), listUsagePlans(client)]);
  const plan = validateKeyFile(file, existing, plans, options.plans ?? []);
  if (plan.errors.length > 0) {
    throw new UsageError(`The key file has ${plan.errors.length} problem${plan.errors.length > 1 ? 's' : ''}; nothing was imported:`,
      plan.errors.map((e) => `line ${e.line}: ${e.message}`));
  }
  const todo = plan.rows.filter((r) => !r.alreadyPresent);
  const skipped = plan.rows.filter((r) => r.alreadyPresent).map((r) => ({ line: r.line, name: r.name }));
  if (options.dryRun) {
    const nameOf = (id: string) => plans.find((p) => p.id === id)?.name ?? id;
    return { dryRun: true, imported: [], skipped, planned: todo.map((r) => ({ line: r.line, name: r.name, planIds: r.planIds, planNames: r.planIds.map(nameOf) })), warnings: [] };
  }
  const batchSize = options.batchSize ?? 100;
  const imported: { line: number; name: string; id?: string }[] = [];
  const warnings: string[] = [];
  options.onStart?.(todo.length);
  for (let i = 0; i < todo.length; i += batchSize) {
    const batch = todo.slice(i, i + batchSize);
    let res;
    try {
      res = await importRowsSafely(client, batch, options.retry);
    } catch (err) {
      const e = err as { name?: string; message?: string };
      throw new OpsError(
        `ImportApiKeys failed for lines ${batch[0].line}–${batch[batch.length - 1].line} (${e.name ?? 'Error'}: ${scrubKeyValues(e.message ?? String(err), batch.map((r) => r.key))}). `
        + `${imported.length} of ${todo.length} keys were imported before; re-run the same command to import the rest (imported keys are skipped).`,
        { details: imported.map((r) => `imported line ${r.line}: ${r.name}${r.id ? ` (${r.id})` : ''}`) },
      );
    }
    warnings.push(...res.warnings.map((warning) => scrubKeyValues(warning, batch.map((r) => r.key))));
    batch.forEach((r, j) => imported.push({ line: r.line, name: r.name, id: res.ids[j] }));
    options.onProgress?.(Math.min(i + batch.length, todo.length), todo.length);
  }
  return { dryRun: false, imported, skipped, planned: [], warnings };
}

/**
 * ImportApiKeys answered 5xx, or the connection broke after the request went out: the call
 * may have created some or all of its keys. Carries no `$metadata` or `cause`, so the SDK's
 * own retry (which resends 5xx and resets) does not resend it blindly.
 */
export class ImportOutcomeUnknown extends Error {
  constructor(public readonly original: unknown) {
    super(`ImportApiKeys outcome unknown: ${asAwsError(original).message ?? String(original)}`);
    this.name = 'ImportOutcomeUnknown';
  }
}

const NO_BLIND_RESEND = { step: 'deserialize', priority: 'high', name: 'keygateNoBlindImportResend' } as const;

function outcomeUnknown(err: unknown): boolean {
  const e = asAwsError(err);
  return isServerError(err) || unreachableCode(err) === 'ECONNRESET' || e.name === 'TimeoutError' || e.code === 'ETIMEDOUT' || e.code === 'EPIPE';
}

/** Sends one ImportApiKeys (failOnWarnings): the SDK may resend a throttled call, never one whose outcome is unknown. */
export function sendImportOnce(client: APIGatewayClient, rows: readonly ValidatedRow[]): Promise<ImportApiKeysCommandOutput> {
  const command = new ImportApiKeysCommand({ format: 'csv', failOnWarnings: true, body: new TextEncoder().encode(toKeyFileCsv(rows)) });
  command.middlewareStack.add((next) => async (args) => {
    try {
      return await next(args);
    } catch (err) {
      throw outcomeUnknown(err) ? new ImportOutcomeUnknown(err) : err;
    }
  }, NO_BLIND_RESEND);
  return client.send(command);
}

/**
 * Imports `rows` (name + value unique) with ImportApiKeys, which is not safe to repeat:
 * after an answer whose outcome is unknown (5xx, reset, timeout) the keys are listed first,
 * a row whose name and value exist counts as created by the failed call (its plans are
 * completed, "already in the plan" is done), and only the missing rows are sent again.
 * Other errors are thrown as they are (the SDK already resends a throttled call; the
 * caller's own policy may resend a 409 concurrent modification, which did nothing). Returns the key ids in row order and the import's warnings.
 */
export async function importRowsSafely(client: APIGatewayClient, rows: readonly ValidatedRow[], retry: RetryPolicyOptions = {}): Promise<{ ids: (string | undefined)[]; warnings: string[] }> {
  const ids = new Map<ValidatedRow, string | undefined>();
  const warnings: string[] = [];
  let pending = [...rows];
  let uncertain = false;
  const policy = new RetryPolicy({
    maxAttempts: 4, ...retry,
    retryable: (err) => err instanceof ImportOutcomeUnknown,
  });
  await policy.run('ImportApiKeys', async () => {
    if (uncertain) {
      pending = await settleRows(client, pending, ids);
      uncertain = false;
      if (pending.length === 0) return;
    }
    try {
      const res = await sendImportOnce(client, pending);
      const got = res.ids ?? [];
      pending.forEach((r, j) => ids.set(r, got.length === pending.length ? got[j] : undefined));
      warnings.push(...(res.warnings ?? []));
      pending = [];
    } catch (err) {
      if (err instanceof ImportOutcomeUnknown) uncertain = true;
      throw err;
    }
  }, (err) => (err instanceof ImportOutcomeUnknown ? err.original : err));
  return { ids: rows.map((r) => ids.get(r)), warnings };
}

/**
 * After an import whose outcome is unknown: records the rows that exist (same name and value)
 * with their ids, puts them in their plans (a key may have been created before its plans
 * were), and returns the rows still missing.
 */
async function settleRows(client: APIGatewayClient, rows: readonly ValidatedRow[], ids: Map<ValidatedRow, string | undefined>): Promise<ValidatedRow[]> {
  const existing = await listApiKeys(client, { includeValues: true });
  const byFingerprint = new Map(existing.map((k) => [`${k.name}\u0000${k.value}`, k]));
  const missing: ValidatedRow[] = [];
  for (const row of rows) {
    const key = byFingerprint.get(`${row.name}\u0000${row.key}`);
    if (!key?.id) {
      missing.push(row);
      continue;
    }
    ids.set(row, key.id);
    for (const usagePlanId of row.planIds) {
      await client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id, keyType: 'API_KEY' })).catch((err: unknown) => {
        if (!isAlreadyInPlan(err)) throw err;
      });
    }
  }
  return missing;
}
