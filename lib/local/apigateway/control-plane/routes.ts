/**
 * What every operation of the local control plane works with: the request, the route table's
 * entry and handler types, the context a handler gets, and the helpers of API Gateway's
 * REST-JSON inputs (a JSON body, paging, BadRequestException).
 */
import { parseJsonObject } from '../../json-body';
import { Json, LocalServiceError } from '../../service-error';
import { apiGatewayError, ApiResource, Model, RestApi } from '../model';
import { QuotaCounter } from '../data-plane/quota';

export interface ControlPlaneRequest {
  readonly method: string;
  /** Path without the query, e.g. `/apikeys/abc`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

/** What an operation answers: a status and a JSON body (none for 202/204). */
export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
}

/** One operation of the control plane: an HTTP method and a path pattern (`{name}` matches one segment). */
export interface ControlPlaneRoute {
  readonly method: string;
  readonly pattern: string;
  readonly handler: (req: ControlPlaneRequest, params: Record<string, string>) => RouteResult;
}

/** What an operation of the route table may use of the control plane. */
export interface ControlPlaneContext {
  readonly model: Model;
  readonly clock: () => number;
  readonly quotas: QuotaCounter;
  /** Marks the model changed and persists it. */
  changed(): void;
  /** The REST API `id`, or NotFoundException. */
  api(id: string): RestApi;
  /** The resource `id` of the REST API `apiId`, or NotFoundException. */
  resource(apiId: string, id: string): ApiResource;
}

/** An entry of the control plane's route table: the handler gets the control plane's context. */
export interface RouteSpec {
  readonly method: string;
  readonly pattern: string;
  readonly handler: (cp: ControlPlaneContext, req: ControlPlaneRequest, params: Record<string, string>) => RouteResult;
}

export function bad(message: string): LocalServiceError {
  return apiGatewayError('BadRequestException', message);
}

export function parseJsonBody(body: Buffer): Json {
  return parseJsonObject(body, bad);
}

export function optString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${field} must be a string`);
  return v;
}

/** Paging with an opaque `position` token, as API Gateway lists do. */
export function page<T>(items: T[], query: URLSearchParams): { item: T[]; position?: string } {
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
