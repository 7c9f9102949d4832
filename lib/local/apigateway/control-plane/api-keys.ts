/**
 * API keys in the control plane: GetApiKeys, CreateApiKey, UpdateApiKey (patch operations)
 * and ImportApiKeys (API Gateway's CSV key file).
 */
import { randomId } from '../../ids';
import { Json, LocalServiceError } from '../../service-error';
import { ApiKey } from '../model';
import { keyJson } from './shapes';
import { bad, ControlPlaneContext, ControlPlaneRequest, optString, page } from './routes';
import { API_KEY_VALUE_MAX_LENGTH, API_KEY_VALUE_MIN_LENGTH, API_KEY_VALUE_PATTERN, generateKeyValue, MAX_API_KEY_DESCRIPTION_LENGTH, MAX_API_KEY_NAME_LENGTH } from '../../../shared/constants';

/** Parses CSV with double- or single-quoted fields (API Gateway's key file format). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quote: string | undefined;
  let i = 0;
  const src = text.replace(/^\uFEFF/, '');
  while (i < src.length) {
    const c = src[i];
    if (quote) {
      if (c === quote) {
        if (src[i + 1] === quote) { field += c; i += 2; continue; }
        quote = undefined;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if ((c === '"' || c === "'") && field.trim() === '') { quote = c; field = ''; i++; continue; }
    if (c === ',') { row.push(field.trim()); field = ''; i++; continue; }
    if (c === '\n' || c === '\r') {
      row.push(field.trim());
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
      if (c === '\r' && src[i + 1] === '\n') i++;
      i++;
      continue;
    }
    field += c;
    i++;
  }
  if (quote) throw bad('Invalid CSV: unterminated quoted field');
  row.push(field.trim());
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/** API Gateway reads booleans in patches as Java does: "true" (any case) is true, anything else false. */
function patchBoolean(value: unknown): boolean {
  return typeof value === 'string' && value.toLowerCase() === 'true';
}

export function getApiKeys(cp: ControlPlaneContext, q: URLSearchParams): unknown {
  const nameQuery = q.get('name');
  const customerId = q.get('customerId');
  const includeValues = q.get('includeValues') === 'true';
  // Newest first, as API Gateway lists keys.
  const keys = [...cp.model.keys.values()]
    .filter((k) => !nameQuery || k.name.startsWith(nameQuery))
    .filter((k) => !customerId || k.customerId === customerId)
    .sort((x, y) => y.createdDate - x.createdDate || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));
  return page(keys.map((k) => keyJson(k, includeValues)), q);
}

/** AWS's wording for an over-long name and description (recorded answers, issue #19). */
const INVALID_NAME = `Invalid API Key name, can be at most ${MAX_API_KEY_NAME_LENGTH} characters.`;
const INVALID_DESCRIPTION = 'Invalid API Key description specified.';
/** The paths UpdateApiKey patches (REF PatchOperation / UpdateApiKey), listed in its refusal. */
const KEY_PATCH_PATHS = ['/name', '/description', '/enabled', '/customerId'];

function checkKeyFields(value: string, name: string | undefined, description: string | undefined): void {
  if (value.length < API_KEY_VALUE_MIN_LENGTH) throw bad(`API Key value should be at least ${API_KEY_VALUE_MIN_LENGTH} characters`);
  if (value.length > API_KEY_VALUE_MAX_LENGTH) throw bad(`API Key value exceeds maximum size of ${API_KEY_VALUE_MAX_LENGTH} characters`);
  if (!API_KEY_VALUE_PATTERN.test(value)) throw bad('API Key value should contain only alphanumeric characters');
  if (name !== undefined && name.length > MAX_API_KEY_NAME_LENGTH) throw bad(INVALID_NAME);
  if (description !== undefined && description.length > MAX_API_KEY_DESCRIPTION_LENGTH) throw bad(INVALID_DESCRIPTION);
}

function stageKeysOf(cp: ControlPlaneContext, raw: unknown): string[] {
  const stageKeys: string[] = [];
  if (raw === undefined) return stageKeys;
  if (!Array.isArray(raw)) throw bad('stageKeys must be a list');
  for (const sk of raw as Json[]) {
    const api = cp.model.apis.get(String(sk?.restApiId));
    if (!api || !api.stages.has(String(sk?.stageName))) throw bad('Invalid Stage identifier specified');
    stageKeys.push(`${api.id}/${String(sk.stageName)}`);
  }
  return stageKeys;
}

export function createApiKey(cp: ControlPlaneContext, body: Json): unknown {
  const name = optString(body.name, 'name');
  const description = optString(body.description, 'description');
  const customerId = optString(body.customerId, 'customerId');
  const given = optString(body.value, 'value');
  // An empty value is no value: API Gateway generates one.
  const value = given === undefined || given === '' ? generateKeyValue() : given;
  checkKeyFields(value, name, description);
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean') throw bad('enabled must be a boolean');
  const stageKeys = stageKeysOf(cp, body.stageKeys);
  const now = cp.clock();
  const key: ApiKey = {
    id: randomId(10), name: name ?? '', description, value, enabled: body.enabled === true, createdDate: now, lastUpdatedDate: now,
    customerId, stageKeys, tags: typeof body.tags === 'object' && body.tags !== null ? (body.tags as Record<string, string>) : {},
  };
  cp.model.addKey(key);
  cp.changed();
  return keyJson(key, true);
}

/** The change one `replace` patch operation of UpdateApiKey makes (validated before any is applied). */
function keyPatch(key: ApiKey, path: string, value: unknown): () => void {
  switch (path) {
    case '/enabled':
      return () => { key.enabled = patchBoolean(value); };
    case '/name':
      if (typeof value === 'string' && value.length > MAX_API_KEY_NAME_LENGTH) throw bad(INVALID_NAME);
      return () => { key.name = typeof value === 'string' ? value : ''; };
    case '/description':
      if (typeof value === 'string' && value.length > MAX_API_KEY_DESCRIPTION_LENGTH) throw bad(INVALID_DESCRIPTION);
      return () => { key.description = value === undefined || value === null ? undefined : String(value); };
    default:
      return () => { key.customerId = value === undefined || value === null ? undefined : String(value); };
  }
}

export function updateApiKey(cp: ControlPlaneContext, id: string, body: Json): unknown {
  const key = cp.model.getKey(id);
  const ops = body.patchOperations;
  if (ops !== undefined && !Array.isArray(ops)) throw bad('patchOperations must be a list');
  const updates: (() => void)[] = [];
  for (const opRaw of (ops ?? []) as Json[]) {
    const op = String(opRaw?.op ?? '');
    const path = String(opRaw?.path ?? '');
    if (!KEY_PATCH_PATHS.includes(path)) throw bad(`Invalid patch path ${path}. Must be one of: [${KEY_PATCH_PATHS.join(', ')}]`);
    if (op !== 'replace') throw bad('Invalid patch operation specified. Must be one of: [replace]');
    updates.push(keyPatch(key, path, opRaw?.value));
  }
  for (const u of updates) u();
  key.lastUpdatedDate = cp.clock();
  cp.changed();
  return keyJson(key, false, true);
}

/** A key of an import file, checked. */
interface ImportedKey {
  readonly value: string;
  readonly name: string;
  readonly description?: string;
  readonly enabled: boolean;
  readonly plans: string[];
  readonly line: number;
}

/** The keys of an import file, with a warning for each line or plan id skipped. */
function importedKeys(cp: ControlPlaneContext, rows: string[][], warnings: string[]): ImportedKey[] {
  const header = rows[0].map((h) => h.toLowerCase());
  const col = (name: string): number => header.indexOf(name);
  const iKey = col('key');
  const iName = col('name');
  if (iKey < 0 || iName < 0) throw bad('Invalid API key file: the Name and Key columns are required');
  const iDesc = col('description');
  const iEnabled = col('enabled');
  const iPlans = col('usageplanids');
  const planned: ImportedKey[] = [];
  const seen = new Set<string>();
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const line = r + 1;
    const value = row[iKey] ?? '';
    const name = row[iName] ?? '';
    if (!API_KEY_VALUE_PATTERN.test(value)) { warnings.push(`Line ${line}: Key must be 20-128 alphanumeric characters`); continue; }
    if (name.length > 1024) { warnings.push(`Line ${line}: Name cannot exceed 1024 characters`); continue; }
    const enabledRaw = iEnabled >= 0 ? (row[iEnabled] ?? '').toLowerCase() : '';
    if (enabledRaw !== '' && enabledRaw !== 'true' && enabledRaw !== 'false') { warnings.push(`Line ${line}: Enabled must be true or false`); continue; }
    const plans = iPlans >= 0 ? (row[iPlans] ?? '').split(',').map((s) => s.trim()).filter((s) => s) : [];
    for (const p of plans) if (!cp.model.plans.has(p)) warnings.push(`Line ${line}: Invalid Usage Plan ID specified: ${p}`);
    if (seen.has(value)) warnings.push(`Line ${line}: duplicate key in the file; the later line wins`);
    seen.add(value);
    planned.push({ value, name, description: iDesc >= 0 ? row[iDesc] || undefined : undefined, enabled: enabledRaw !== 'false', plans: plans.filter((p) => cp.model.plans.has(p)), line });
  }
  return planned;
}

/** Runs a model change; an API Gateway error becomes a warning of the import's line. */
function orWarn(warnings: string[], line: number, change: () => void): boolean {
  try {
    change();
    return true;
  } catch (e) {
    if (!(e instanceof LocalServiceError)) throw e;
    warnings.push(`Line ${line}: ${e.message}`);
    return false;
  }
}

/** Creates or updates the key of one import line and adds it to its plans; its id, or undefined if it was skipped. */
function importKey(cp: ControlPlaneContext, p: ImportedKey, now: number, warnings: string[]): string | undefined {
  let key = cp.model.findKeyByValue(p.value);
  if (key) {
    key.name = p.name;
    key.description = p.description;
    key.enabled = p.enabled;
    key.lastUpdatedDate = now;
  } else {
    const created: ApiKey = { id: randomId(10), name: p.name, description: p.description, value: p.value, enabled: p.enabled, createdDate: now, lastUpdatedDate: now, stageKeys: [], tags: {} };
    if (!orWarn(warnings, p.line, () => cp.model.addKey(created))) return undefined;
    key = created;
  }
  const keyId = key.id;
  for (const planId of p.plans) {
    if (cp.model.planKeys.get(planId)?.has(keyId)) continue;
    orWarn(warnings, p.line, () => cp.model.addPlanKey(planId, keyId));
  }
  return keyId;
}

export function importApiKeys(cp: ControlPlaneContext, req: ControlPlaneRequest): unknown {
  const format = req.query.get('format');
  if (format !== 'csv') throw bad(`Invalid format: ${format ?? '(none)'}; only csv is supported`);
  const failOnWarnings = req.query.get('failonwarnings') === 'true';
  const rows = parseCsv(req.body.toString('utf8'));
  if (rows.length === 0) throw bad('Invalid API key file: the file is empty');
  const warnings: string[] = [];
  const planned = importedKeys(cp, rows, warnings);
  if (failOnWarnings && warnings.length > 0) throw bad(`Import failed with warnings: ${warnings.join('; ')}`);
  const ids: string[] = [];
  const now = cp.clock();
  for (const p of planned) {
    const id = importKey(cp, p, now, warnings);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  cp.changed();
  return warnings.length ? { ids, warnings } : { ids };
}
