/**
 * A slice of the API Gateway REST control plane (restJson1), enough for the real
 * `@aws-sdk/client-api-gateway` pointed at the local gateway: APIs, stages, keys,
 * usage plans, plan keys and usage, with the service's JSON shapes and error types.
 */
import { ApiGatewayError, ApiKey, Model, RestApi, Stage, UsagePlan } from './model';
import { generateKeyValue, randomId } from './ids';
import { QuotaCounter, utcDay } from './quota';
import { ThrottleRegistry } from './throttle';
import { routeTags } from './control-plane-tags';
import { API_KEY_VALUE_PATTERN } from '../api-gateway-limits';

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

type Json = Record<string, unknown>;


function secs(ms: number): number {
  return Math.floor(ms / 1000);
}

function bad(message: string): ApiGatewayError {
  return new ApiGatewayError('BadRequestException', message);
}

function parseJsonBody(body: Buffer): Json {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiGatewayError('BadRequestException', 'Invalid JSON in request body');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('Request body must be a JSON object');
  return v as Json;
}

function optString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${field} must be a string`);
  return v;
}

/** Paging with an opaque `position` token, as API Gateway lists do. */
function page<T>(items: T[], query: URLSearchParams): { item: T[]; position?: string } {
  const limitRaw = query.get('limit');
  let limit = 25;
  if (limitRaw !== null) {
    limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw bad(`limit must be an integer between 1 and 500, got ${limitRaw}`);
  }
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

export class ControlPlane {
  private readonly throttles = new ThrottleRegistry();
  private planKeyLockUntil = 0;

  constructor(private readonly model: Model, private readonly opts: ControlPlaneOptions) {}

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

  private route(req: ControlPlaneRequest): { status: number; body?: unknown } {
    const parts = req.path.split('/').filter((p) => p !== '').map((p) => {
      try { return decodeURIComponent(p); } catch { throw bad(`Invalid path segment ${p}`); }
    });
    const m = req.method;
    const q = req.query;
    const [a, b, c, d] = parts;
    const n = parts.length;
    if (a === 'restapis') {
      if (n === 1 && m === 'GET') return { status: 200, body: page([...this.model.apis.values()].map(restApiJson), q) };
      const api = b !== undefined ? this.model.apis.get(b) : undefined;
      if (b !== undefined && !api) throw new ApiGatewayError('NotFoundException', 'Invalid API identifier specified');
      if (api && n === 2 && m === 'GET') return { status: 200, body: restApiJson(api) };
      if (api && c === 'stages' && n === 3 && m === 'GET') return { status: 200, body: { item: [...api.stages.values()].map(stageJson) } };
      if (api && c === 'stages' && n === 4 && m === 'GET') {
        const s = api.stages.get(d);
        if (!s) throw new ApiGatewayError('NotFoundException', 'Invalid Stage identifier specified');
        return { status: 200, body: stageJson(s) };
      }
    }
    if (a === 'apikeys') {
      if (n === 1 && m === 'GET') return { status: 200, body: this.getApiKeys(q) };
      if (n === 1 && m === 'POST' && q.get('mode') === 'import') return { status: 201, body: this.importApiKeys(req) };
      if (n === 1 && m === 'POST') return { status: 201, body: this.createApiKey(parseJsonBody(req.body)) };
      if (n === 2 && m === 'GET') return { status: 200, body: keyJson(this.model.getKey(b), q.get('includeValue') === 'true') };
      if (n === 2 && m === 'PATCH') return { status: 200, body: this.updateApiKey(b, parseJsonBody(req.body)) };
      if (n === 2 && m === 'DELETE') {
        this.model.deleteKey(b);
        this.changed();
        return { status: 202 };
      }
    }
    if (a === 'usageplans') {
      if (n === 1 && m === 'GET') {
        const keyId = q.get('keyId');
        let plans = [...this.model.plans.values()];
        if (keyId) {
          this.model.getKey(keyId);
          plans = this.model.plansOfKey(keyId);
        }
        return { status: 200, body: page(plans.map(planJson), q) };
      }
      if (n >= 2) {
        const plan = this.model.getPlan(b);
        if (n === 2 && m === 'GET') return { status: 200, body: planJson(plan) };
        if (c === 'keys' && n === 3 && m === 'GET') {
          const nameQuery = q.get('name');
          const keys = [...(this.model.planKeys.get(plan.id) ?? [])].map((id) => this.model.keys.get(id)).filter((k): k is ApiKey => !!k)
            .filter((k) => !nameQuery || k.name.startsWith(nameQuery));
          return { status: 200, body: page(keys.map(planKeyJson), q) };
        }
        if (c === 'keys' && n === 3 && m === 'POST') {
          const body = parseJsonBody(req.body);
          const keyId = optString(body.keyId, 'keyId');
          const keyType = optString(body.keyType, 'keyType');
          if (!keyId) throw bad('Invalid API Key identifier specified');
          if (keyType !== 'API_KEY') throw bad(`Invalid key type specified: ${keyType ?? '(none)'}; must be API_KEY`);
          this.model.addPlanKey(plan.id, keyId);
          this.changed();
          return { status: 201, body: planKeyJson(this.model.getKey(keyId)) };
        }
        if (c === 'keys' && n === 4 && m === 'GET') {
          if (!this.model.planKeys.get(plan.id)?.has(d)) throw new ApiGatewayError('NotFoundException', 'Invalid API Key identifier specified');
          return { status: 200, body: planKeyJson(this.model.getKey(d)) };
        }
        if (c === 'keys' && n === 4 && m === 'DELETE') {
          this.model.removePlanKey(plan.id, d);
          this.changed();
          return { status: 202 };
        }
        if (c === 'usage' && n === 3 && m === 'GET') return { status: 200, body: this.getUsage(plan, q) };
      }
    }
    if (a === 'tags' && n === 2) return routeTags(this.model, { method: m, resourceArn: b, query: q, body: req.body }, () => this.changed());
    throw new ApiGatewayError('NotFoundException', `keygate local does not implement ${m} ${req.path}`);
  }

  private getApiKeys(q: URLSearchParams): unknown {
    const nameQuery = q.get('name');
    const customerId = q.get('customerId');
    const includeValues = q.get('includeValues') === 'true';
    const keys = [...this.model.keys.values()]
      .filter((k) => !nameQuery || k.name.startsWith(nameQuery))
      .filter((k) => !customerId || k.customerId === customerId)
      .sort((x, y) => x.createdDate - y.createdDate || x.id.localeCompare(y.id));
    const p = page(keys.map((k) => keyJson(k, includeValues)), q);
    return { ...p, warnings: undefined };
  }

  private createApiKey(body: Json): unknown {
    const name = optString(body.name, 'name');
    const description = optString(body.description, 'description');
    const customerId = optString(body.customerId, 'customerId');
    let value = optString(body.value, 'value');
    if (value !== undefined && !API_KEY_VALUE_PATTERN.test(value)) {
      throw bad('API Key value should be at least 20 characters long and contain only alphanumeric characters');
    }
    if (name !== undefined && name.length > 1024) throw bad('API Key name cannot exceed 1024 characters');
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
    value ??= generateKeyValue();
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
      if (op !== 'replace') throw bad(`Invalid patch operation specified. Must be one of: [replace] for path ${path}`);
      switch (path) {
        case '/enabled':
          if (value !== 'true' && value !== 'false') throw bad(`Invalid enabled value: ${String(value)}; must be true or false`);
          updates.push(() => { key.enabled = value === 'true'; });
          break;
        case '/name':
          if (typeof value !== 'string' || value.length > 1024) throw bad('Invalid name');
          updates.push(() => { key.name = value; });
          break;
        case '/description':
          updates.push(() => { key.description = value === undefined || value === null ? undefined : String(value); });
          break;
        case '/customerId':
          updates.push(() => { key.customerId = value === undefined || value === null ? undefined : String(value); });
          break;
        default:
          throw bad(`Invalid patch path ${path}`);
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

function restApiJson(api: RestApi): Json {
  return {
    id: api.id, name: api.name, description: api.description, createdDate: secs(api.createdDate),
    apiKeySource: api.apiKeySource, endpointConfiguration: { types: ['EDGE'] }, rootResourceId: api.rootResourceId,
    binaryMediaTypes: api.binaryMediaTypes.length ? api.binaryMediaTypes : undefined, minimumCompressionSize: api.minimumCompressionSize,
    disableExecuteApiEndpoint: api.disableExecuteApiEndpoint, tags: api.tags,
  };
}

function stageJson(s: Stage): Json {
  const methodSettings: Record<string, Json> = {};
  for (const [k, v] of s.methodSettings) {
    const [p, method] = k.split(' ');
    // API Gateway's keys: `*/*` for the defaults, else the resource path with `/` escaped as `~1`, then `/METHOD`.
    const key = p === '/*' ? `*/${method}` : `${p.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}`;
    methodSettings[key] = { throttlingRateLimit: v.rateLimit, throttlingBurstLimit: v.burstLimit };
  }
  return {
    deploymentId: s.deploymentId, stageName: s.name, description: s.description, cacheClusterEnabled: false,
    methodSettings, variables: s.variables, tracingEnabled: false, tags: s.tags,
    createdDate: secs(s.createdDate), lastUpdatedDate: secs(s.createdDate),
  };
}

function keyJson(k: ApiKey, includeValue: boolean): Json {
  return {
    id: k.id, name: k.name, description: k.description, customerId: k.customerId, enabled: k.enabled,
    createdDate: secs(k.createdDate), lastUpdatedDate: secs(k.lastUpdatedDate), stageKeys: k.stageKeys, tags: k.tags,
    ...(includeValue ? { value: k.value } : {}),
  };
}

function planJson(p: UsagePlan): Json {
  return {
    id: p.id, name: p.name, description: p.description,
    apiStages: p.apiStages.map((s) => ({
      apiId: s.apiId, stage: s.stage,
      ...(Object.keys(s.throttle).length ? { throttle: Object.fromEntries(Object.entries(s.throttle).map(([k, t]) => [k, { rateLimit: t.rateLimit, burstLimit: t.burstLimit }])) } : {}),
    })),
    throttle: p.throttle ? { rateLimit: p.throttle.rateLimit, burstLimit: p.throttle.burstLimit } : undefined,
    quota: p.quota ? { limit: p.quota.limit, offset: p.quota.offset, period: p.quota.period } : undefined,
    tags: p.tags,
  };
}

function planKeyJson(k: ApiKey): Json {
  return { id: k.id, type: 'API_KEY', name: k.name, value: k.value };
}
