/**
 * A slice of the API Gateway REST control plane (restJson1), enough for the real
 * `@aws-sdk/client-api-gateway` pointed at the local gateway: APIs, resources, methods,
 * stages, keys, usage plans, plan keys and usage, with the service's JSON shapes and error
 * types. Operations are a route table (`addRoute`), so other modules can register theirs.
 */
import { ApiGatewayError, ApiKey, ApiResource, Model, RestApi, UsagePlan } from '../model';
import { randomId } from '../../ids';
import { parseJsonObject } from '../../json-body';
import { QuotaCounter, utcDay } from '../data-plane/quota';
import { ThrottleRegistry } from '../data-plane/throttle';
import { keyJson, methodJson, planJson, planKeyJson, resourceJson, restApiJson, stageJson } from './shapes';
import { updateUsagePlan, usagePlanFromInput } from './usage-plans';
import { API_KEY_VALUE_MAX_LENGTH, API_KEY_VALUE_MIN_LENGTH, API_KEY_VALUE_PATTERN, generateKeyValue, MAX_API_KEY_DESCRIPTION_LENGTH, MAX_API_KEY_NAME_LENGTH } from '../../../shared/constants';
import { routeTags } from './tags';

export interface ControlPlaneRequest {
  readonly method: string;
  /** Path without the query, e.g. `/apikeys/abc`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

export interface ControlPlaneResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ControlPlaneOptions {
  readonly clock: () => number;
  readonly quotas: QuotaCounter;
  /** Persists the model; called after each change, before the response is sent. */
  readonly persist?: () => void;
  /**
   * Emulate API Gateway's control-plane limits: CreateApiKey/DeleteApiKey 5 rps, everything
   * else 10 rps (burst 40) → 429 TooManyRequestsException; CreateUsagePlanKey one at a time
   * (a create within 100 ms of another → 409 "concurrent modification"). Off by default.
   */
  readonly limits?: boolean;
}

/** How long a CreateUsagePlanKey keeps the (per-region) association lock when limits are emulated. */
export const PLAN_KEY_LOCK_MS = 100;

/** A JSON object of a request or an answer. */
export type Json = Record<string, unknown>;


export function bad(message: string): ApiGatewayError {
  return new ApiGatewayError('BadRequestException', message);
}

function parseJsonBody(body: Buffer): Json {
  return parseJsonObject(body, bad);
}

function optString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${field} must be a string`);
  return v;
}

/** Paging with an opaque `position` token, as API Gateway lists do. */
function page<T>(items: T[], query: URLSearchParams): { item: T[]; position?: string } {
  // API Gateway takes any limit: below 1 (or not a number) means the default 25, above 500 means 500.
  const asked = Number(query.get('limit') ?? NaN);
  const limit = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 500) : 25;
  let start = 0;
  const pos = query.get('position');
  if (pos) {
    const decoded = Buffer.from(pos, 'base64url').toString('utf8');
    const m = /^o:(\d+)$/.exec(decoded);
    if (!m) throw bad('Invalid position parameter');
    start = Number(m[1]);
  }
  const slice = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(`o:${start + limit}`).toString('base64url') : undefined;
  return next ? { item: slice, position: next } : { item: slice };
}

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

/** One operation of the control plane: an HTTP method and a path pattern (`{name}` matches one segment). */
export interface ControlPlaneRoute {
  readonly method: string;
  readonly pattern: string;
  readonly handler: (req: ControlPlaneRequest, params: Record<string, string>) => { status: number; body?: unknown };
}

interface CompiledRoute extends ControlPlaneRoute {
  readonly parts: string[];
}

/** API Gateway reads booleans in patches as Java does: "true" (any case) is true, anything else false. */
function patchBoolean(value: unknown): boolean {
  return typeof value === 'string' && value.toLowerCase() === 'true';
}

export class ControlPlane {
  private readonly throttles = new ThrottleRegistry();
  private planKeyLockUntil = 0;
  private readonly routes: CompiledRoute[] = [];

  constructor(private readonly model: Model, private readonly opts: ControlPlaneOptions) {
    const r = (method: string, pattern: string, handler: ControlPlaneRoute['handler']): void => this.addRoute({ method, pattern, handler });
    r('GET', '/restapis', (req) => ({ status: 200, body: page([...this.model.apis.values()].map(restApiJson), req.query) }));
    r('GET', '/restapis/{api}', (_req, p) => ({ status: 200, body: restApiJson(this.api(p.api)) }));
    r('GET', '/restapis/{api}/stages', (_req, p) => ({ status: 200, body: { item: [...this.api(p.api).stages.values()].map(stageJson) } }));
    r('GET', '/restapis/{api}/stages/{stage}', (_req, p) => {
      const s = this.api(p.api).stages.get(p.stage);
      if (!s) throw new ApiGatewayError('NotFoundException', 'Invalid Stage identifier specified');
      return { status: 200, body: stageJson(s) };
    });
    r('GET', '/restapis/{api}/resources', (req, p) => {
      const embedMethods = req.query.getAll('embed').some((e) => e.split(',').includes('methods'));
      return { status: 200, body: page([...this.api(p.api).resources.values()].map((res) => resourceJson(res, embedMethods)), req.query) };
    });
    r('GET', '/restapis/{api}/resources/{resource}', (req, p) => {
      const embedMethods = req.query.getAll('embed').some((e) => e.split(',').includes('methods'));
      return { status: 200, body: resourceJson(this.resource(p.api, p.resource), embedMethods) };
    });
    r('GET', '/restapis/{api}/resources/{resource}/methods/{method}', (_req, p) => {
      const m = this.resource(p.api, p.resource).methods.get(p.method.toUpperCase());
      if (!m) throw new ApiGatewayError('NotFoundException', 'Invalid Method identifier specified');
      return { status: 200, body: methodJson(m) };
    });
    for (const method of ['GET', 'PUT', 'DELETE']) {
      r(method, '/tags/{arn}', (req, p) => routeTags(this.model, { method, resourceArn: p.arn, query: req.query, body: req.body }, () => this.changed()));
    }
    r('GET', '/apikeys', (req) => ({ status: 200, body: this.getApiKeys(req.query) }));
    r('POST', '/apikeys', (req) => (req.query.get('mode') === 'import'
      ? { status: 201, body: this.importApiKeys(req) }
      : { status: 201, body: this.createApiKey(parseJsonBody(req.body)) }));
    r('GET', '/apikeys/{key}', (req, p) => ({ status: 200, body: keyJson(this.model.getKey(p.key), req.query.get('includeValue') === 'true') }));
    r('PATCH', '/apikeys/{key}', (req, p) => ({ status: 200, body: this.updateApiKey(p.key, parseJsonBody(req.body)) }));
    r('DELETE', '/apikeys/{key}', (_req, p) => {
      this.model.deleteKey(p.key);
      this.changed();
      return { status: 202 };
    });
    r('GET', '/usageplans', (req) => {
      const keyId = req.query.get('keyId');
      let plans = [...this.model.plans.values()];
      if (keyId) {
        this.model.getKey(keyId);
        plans = this.model.plansOfKey(keyId);
      }
      return { status: 200, body: page(plans.map(planJson), req.query) };
    });
    r('POST', '/usageplans', (req) => {
      const plan = usagePlanFromInput(this.model, parseJsonBody(req.body), randomId(6));
      this.model.plans.set(plan.id, plan);
      this.model.planKeys.set(plan.id, new Set());
      this.changed();
      return { status: 201, body: planJson(plan) };
    });
    r('GET', '/usageplans/{plan}', (_req, p) => ({ status: 200, body: planJson(this.model.getPlan(p.plan)) }));
    r('PATCH', '/usageplans/{plan}', (req, p) => {
      const plan = updateUsagePlan(this.model, this.model.getPlan(p.plan), parseJsonBody(req.body));
      this.changed();
      return { status: 200, body: planJson(plan) };
    });
    r('DELETE', '/usageplans/{plan}', (_req, p) => {
      this.model.getPlan(p.plan);
      this.model.plans.delete(p.plan);
      this.model.planKeys.delete(p.plan);
      this.changed();
      return { status: 202 };
    });
    r('GET', '/usageplans/{plan}/keys', (req, p) => {
      // An unknown plan lists no keys (AWS answers 200 with no items).
      const nameQuery = req.query.get('name');
      const keys = [...(this.model.planKeys.get(p.plan) ?? [])].reverse().map((id) => this.model.keys.get(id))
        .filter((k): k is ApiKey => !!k && (!nameQuery || k.name.startsWith(nameQuery)));
      return { status: 200, body: page(keys.map(planKeyJson), req.query) };
    });
    r('POST', '/usageplans/{plan}/keys', (req, p) => {
      const plan = this.model.getPlan(p.plan);
      const body = parseJsonBody(req.body);
      const keyId = optString(body.keyId, 'keyId');
      const keyType = optString(body.keyType, 'keyType');
      if (!keyId) throw bad('Invalid API Key identifier specified');
      if (keyType !== 'API_KEY') throw bad(`Invalid key type specified: ${keyType ?? '(none)'}; must be API_KEY`);
      this.model.addPlanKey(plan.id, keyId);
      this.changed();
      return { status: 201, body: planKeyJson(this.model.getKey(keyId)) };
    });
    r('GET', '/usageplans/{plan}/keys/{key}', (_req, p) => {
      const plan = this.model.getPlan(p.plan);
      if (!this.model.planKeys.get(plan.id)?.has(p.key)) throw new ApiGatewayError('NotFoundException', 'Invalid API Key identifier specified');
      return { status: 200, body: planKeyJson(this.model.getKey(p.key)) };
    });
    r('DELETE', '/usageplans/{plan}/keys/{key}', (_req, p) => {
      this.model.removePlanKey(p.plan, p.key);
      this.changed();
      return { status: 202 };
    });
    r('GET', '/usageplans/{plan}/usage', (req, p) => ({ status: 200, body: this.getUsage(this.model.getPlan(p.plan), req.query) }));
  }

  /** Registers an operation (e.g. from another module of the local gateway). */
  addRoute(route: ControlPlaneRoute): void {
    this.routes.push({ ...route, parts: route.pattern.split('/').filter((x) => x !== '') });
  }

  /** API Gateway's control-plane rate limits (when enabled). */
  private checkLimits(req: ControlPlaneRequest): void {
    if (!this.opts.limits) return;
    const now = this.opts.clock();
    const keyOp = /^\/apikeys(\/[^/]+)?\/?$/.test(req.path) && ((req.method === 'POST' && req.query.get('mode') !== 'import') || req.method === 'DELETE');
    const bucket = keyOp
      ? this.throttles.bucket('cp|keys', { rateLimit: 5, burstLimit: 5 }, now)
      : this.throttles.bucket('cp|other', { rateLimit: 10, burstLimit: 40 }, now);
    if (!ThrottleRegistry.tryTakeAll([bucket], now)) throw new ApiGatewayError('TooManyRequestsException', 'Too Many Requests');
    if (req.method === 'POST' && /^\/usageplans\/[^/]+\/keys\/?$/.test(req.path)) {
      if (now < this.planKeyLockUntil) throw new ApiGatewayError('ConflictException', 'Unable to complete operation due to concurrent modification. Please try again later.');
      this.planKeyLockUntil = now + PLAN_KEY_LOCK_MS;
    }
  }

  handle(req: ControlPlaneRequest): ControlPlaneResponse {
    try {
      this.checkLimits(req);
      const { status, body } = this.route(req);
      return { status, headers: { 'content-type': 'application/json' }, body: body === undefined ? '' : JSON.stringify(body) };
    } catch (e) {
      if (e instanceof ApiGatewayError) return errorResponse(e.statusCode, e.type, e.message);
      return errorResponse(500, 'InternalServerErrorException', e instanceof Error ? e.message : String(e));
    }
  }

  private changed(): void {
    this.model.changed();
    this.opts.persist?.();
  }

  private api(id: string): RestApi {
    const api = this.model.apis.get(id);
    if (!api) throw new ApiGatewayError('NotFoundException', `Invalid API identifier specified ${this.model.accountId}:${id}`);
    return api;
  }

  private resource(apiId: string, id: string): ApiResource {
    const res = this.api(apiId).resources.get(id);
    if (!res) throw new ApiGatewayError('NotFoundException', 'Invalid Resource identifier specified');
    return res;
  }

  private route(req: ControlPlaneRequest): { status: number; body?: unknown } {
    const parts = req.path.split('/').filter((p) => p !== '').map((p) => {
      try { return decodeURIComponent(p); } catch { throw bad(`Invalid path segment ${p}`); }
    });
    for (const route of this.routes) {
      if (route.method !== req.method || route.parts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const want = route.parts[i];
        if (want.startsWith('{') && want.endsWith('}')) params[want.slice(1, -1)] = parts[i];
        else ok = want === parts[i];
      }
      if (ok) return route.handler(req, params);
    }
    throw new ApiGatewayError('NotFoundException', `keygate local does not implement ${req.method} ${req.path}`);
  }

  private getApiKeys(q: URLSearchParams): unknown {
    const nameQuery = q.get('name');
    const customerId = q.get('customerId');
    const includeValues = q.get('includeValues') === 'true';
    // Newest first, as API Gateway lists keys.
    const keys = [...this.model.keys.values()]
      .filter((k) => !nameQuery || k.name.startsWith(nameQuery))
      .filter((k) => !customerId || k.customerId === customerId)
      .sort((x, y) => y.createdDate - x.createdDate || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));
    return page(keys.map((k) => keyJson(k, includeValues)), q);
  }

  private createApiKey(body: Json): unknown {
    const name = optString(body.name, 'name');
    const description = optString(body.description, 'description');
    const customerId = optString(body.customerId, 'customerId');
    const given = optString(body.value, 'value');
    // An empty value is no value: API Gateway generates one.
    const value = given === undefined || given === '' ? generateKeyValue() : given;
    if (value.length < API_KEY_VALUE_MIN_LENGTH) throw bad(`API Key value should be at least ${API_KEY_VALUE_MIN_LENGTH} characters`);
    if (value.length > API_KEY_VALUE_MAX_LENGTH) throw bad(`API Key value should be at most ${API_KEY_VALUE_MAX_LENGTH} characters`);
    if (!API_KEY_VALUE_PATTERN.test(value)) throw bad('API Key value should contain only alphanumeric characters');
    if (name !== undefined && name.length > MAX_API_KEY_NAME_LENGTH) throw bad(`API Key name should be at most ${MAX_API_KEY_NAME_LENGTH} characters`);
    if (description !== undefined && description.length > MAX_API_KEY_DESCRIPTION_LENGTH) throw bad(`API Key description should be at most ${MAX_API_KEY_DESCRIPTION_LENGTH} characters`);
    if (body.enabled !== undefined && typeof body.enabled !== 'boolean') throw bad('enabled must be a boolean');
    const stageKeys: string[] = [];
    if (body.stageKeys !== undefined) {
      if (!Array.isArray(body.stageKeys)) throw bad('stageKeys must be a list');
      for (const sk of body.stageKeys as Json[]) {
        const api = this.model.apis.get(String(sk?.restApiId));
        if (!api || !api.stages.has(String(sk?.stageName))) throw bad('Invalid Stage identifier specified');
        stageKeys.push(`${api.id}/${String(sk.stageName)}`);
      }
    }
    const now = this.opts.clock();
    const key: ApiKey = {
      id: randomId(10), name: name ?? '', description, value, enabled: body.enabled === true, createdDate: now, lastUpdatedDate: now,
      customerId, stageKeys, tags: typeof body.tags === 'object' && body.tags !== null ? (body.tags as Record<string, string>) : {},
    };
    this.model.addKey(key);
    this.changed();
    return keyJson(key, true);
  }

  private updateApiKey(id: string, body: Json): unknown {
    const key = this.model.getKey(id);
    const ops = body.patchOperations;
    if (ops !== undefined && !Array.isArray(ops)) throw bad('patchOperations must be a list');
    const updates: (() => void)[] = [];
    for (const opRaw of (ops ?? []) as Json[]) {
      const op = String(opRaw?.op ?? '');
      const path = String(opRaw?.path ?? '');
      const value = opRaw?.value;
      if (!['/enabled', '/name', '/description', '/customerId'].includes(path)) throw bad(`Invalid patch path ${path}`);
      if (op !== 'replace') throw bad('Invalid patch operation specified. Must be one of: [replace]');
      switch (path) {
        case '/enabled':
          updates.push(() => { key.enabled = patchBoolean(value); });
          break;
        case '/name':
          if (typeof value === 'string' && value.length > MAX_API_KEY_NAME_LENGTH) throw bad(`API Key name should be at most ${MAX_API_KEY_NAME_LENGTH} characters`);
          updates.push(() => { key.name = typeof value === 'string' ? value : ''; });
          break;
        case '/description':
          if (typeof value === 'string' && value.length > MAX_API_KEY_DESCRIPTION_LENGTH) throw bad(`API Key description should be at most ${MAX_API_KEY_DESCRIPTION_LENGTH} characters`);
          updates.push(() => { key.description = value === undefined || value === null ? undefined : String(value); });
          break;
        default:
          updates.push(() => { key.customerId = value === undefined || value === null ? undefined : String(value); });
      }
    }
    for (const u of updates) u();
    key.lastUpdatedDate = this.opts.clock();
    this.changed();
    return keyJson(key, false);
  }

  private importApiKeys(req: ControlPlaneRequest): unknown {
    const format = req.query.get('format');
    if (format !== 'csv') throw bad(`Invalid format: ${format ?? '(none)'}; only csv is supported`);
    const failOnWarnings = req.query.get('failonwarnings') === 'true';
    const rows = parseCsv(req.body.toString('utf8'));
    if (rows.length === 0) throw bad('Invalid API key file: the file is empty');
    const header = rows[0].map((h) => h.toLowerCase());
    const col = (name: string): number => header.indexOf(name);
    const iKey = col('key');
    const iName = col('name');
    if (iKey < 0 || iName < 0) throw bad('Invalid API key file: the Name and Key columns are required');
    const iDesc = col('description');
    const iEnabled = col('enabled');
    const iPlans = col('usageplanids');
    const warnings: string[] = [];
    const planned: { value: string; name: string; description?: string; enabled: boolean; plans: string[]; line: number }[] = [];
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
      for (const p of plans) if (!this.model.plans.has(p)) warnings.push(`Line ${line}: Invalid Usage Plan ID specified: ${p}`);
      if (seen.has(value)) warnings.push(`Line ${line}: duplicate key in the file; the later line wins`);
      seen.add(value);
      planned.push({ value, name, description: iDesc >= 0 ? row[iDesc] || undefined : undefined, enabled: enabledRaw !== 'false', plans: plans.filter((p) => this.model.plans.has(p)), line });
    }
    if (failOnWarnings && warnings.length > 0) throw bad(`Import failed with warnings: ${warnings.join('; ')}`);
    const ids: string[] = [];
    const now = this.opts.clock();
    for (const p of planned) {
      let key = this.model.findKeyByValue(p.value);
      if (key) {
        key.name = p.name;
        key.description = p.description;
        key.enabled = p.enabled;
        key.lastUpdatedDate = now;
      } else {
        key = { id: randomId(10), name: p.name, description: p.description, value: p.value, enabled: p.enabled, createdDate: now, lastUpdatedDate: now, stageKeys: [], tags: {} };
        try {
          this.model.addKey(key);
        } catch (e) {
          if (!(e instanceof ApiGatewayError)) throw e;
          warnings.push(`Line ${p.line}: ${e.message}`);
          continue;
        }
      }
      for (const planId of p.plans) {
        if (this.model.planKeys.get(planId)?.has(key.id)) continue;
        try {
          this.model.addPlanKey(planId, key.id);
        } catch (e) {
          if (!(e instanceof ApiGatewayError)) throw e;
          warnings.push(`Line ${p.line}: ${e.message}`);
        }
      }
      if (!ids.includes(key.id)) ids.push(key.id);
    }
    this.changed();
    return warnings.length ? { ids, warnings } : { ids };
  }

  private getUsage(plan: UsagePlan, q: URLSearchParams): unknown {
    const startDate = q.get('startDate');
    const endDate = q.get('endDate');
    const dateRe = /^\d{4}-\d{2}-\d{2}$/;
    if (!startDate || !dateRe.test(startDate) || isNaN(Date.parse(startDate))) throw bad('Invalid startDate: must be YYYY-MM-DD');
    if (!endDate || !dateRe.test(endDate) || isNaN(Date.parse(endDate))) throw bad('Invalid endDate: must be YYYY-MM-DD');
    if (endDate < startDate) throw bad('The endDate must be on or after the startDate');
    const days = (Date.parse(endDate) - Date.parse(startDate)) / 86_400_000 + 1;
    if (days > 90) throw bad('The usage date range cannot exceed 90 days');
    const today = utcDay(this.opts.clock());
    const end = endDate > today ? today : endDate;
    const keyId = q.get('keyId');
    let keyIds = [...(this.model.planKeys.get(plan.id) ?? [])];
    // Keys that used the plan in the range but have left it since still have history.
    for (const k of Object.keys(this.opts.quotas.counts[plan.id] ?? {})) if (!keyIds.includes(k) && this.model.keys.has(k)) keyIds.push(k);
    if (keyId) {
      this.model.getKey(keyId);
      keyIds = keyIds.filter((k) => k === keyId);
    }
    keyIds.sort();
    const p = page(keyIds, q);
    const values: Record<string, [number, number][]> = {};
    for (const k of p.item) values[k] = end < startDate ? [] : this.opts.quotas.usage(plan.id, k, plan.quota, startDate, end);
    return { usagePlanId: plan.id, startDate, endDate, values, ...(p.position ? { position: p.position } : {}) };
  }
}

export function errorResponse(status: number, type: string, message: string): ControlPlaneResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
    body: JSON.stringify({ message, __type: type }),
  };
}
