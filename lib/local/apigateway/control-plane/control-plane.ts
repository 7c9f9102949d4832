/**
 * A slice of the API Gateway REST control plane (restJson1), enough for the real
 * `@aws-sdk/client-api-gateway` pointed at the local gateway: APIs, resources, methods,
 * stages, keys, usage plans, plan keys and usage, with the service's JSON shapes and error
 * types. Operations are a route table (route-table.ts; `addRoute` registers more).
 */
import { LocalServiceError, LocalServiceResponse, restJsonError } from '../../service-error';
import { LocalService } from '../../services';
import { apiGatewayError, ApiResource, Model, RestApi } from '../model';
import { QuotaCounter } from '../data-plane/quota';
import { ThrottleRegistry } from '../data-plane/throttle';
import { CONTROL_PLANE_ROUTES } from './route-table';
import { bad, ControlPlaneContext, ControlPlaneRequest, ControlPlaneRoute, RouteResult } from './routes';

export type { ControlPlaneRequest, ControlPlaneRoute } from './routes';
export type ControlPlaneResponse = LocalServiceResponse;

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

interface CompiledRoute extends ControlPlaneRoute {
  readonly parts: string[];
}

export class ControlPlane implements ControlPlaneContext {
  private readonly throttles = new ThrottleRegistry();
  private planKeyLockUntil = 0;
  private readonly routes: CompiledRoute[] = [];

  constructor(readonly model: Model, private readonly opts: ControlPlaneOptions) {
    for (const spec of CONTROL_PLANE_ROUTES) this.addRoute({ method: spec.method, pattern: spec.pattern, handler: (req, p) => spec.handler(this, req, p) });
  }

  get clock(): () => number {
    return this.opts.clock;
  }

  get quotas(): QuotaCounter {
    return this.opts.quotas;
  }

  /** Registers an operation (e.g. from another module of the local gateway). */
  addRoute(route: ControlPlaneRoute): void {
    this.routes.push({ ...route, parts: route.pattern.split('/').filter((x) => x !== '') });
  }

  /** The control plane as the gateway's registry sees it: any request no other service took, by path. */
  asService(): LocalService {
    return {
      name: 'apigateway',
      accepts: () => true,
      handle: (req) => this.handle({ method: req.method, path: req.path, query: new URLSearchParams(req.query), body: req.body }),
    };
  }

  handle(req: ControlPlaneRequest): ControlPlaneResponse {
    try {
      this.checkLimits(req);
      const { status, body } = this.route(req);
      return { status, headers: { 'content-type': 'application/json' }, body: body === undefined ? '' : JSON.stringify(body) };
    } catch (e) {
      if (e instanceof LocalServiceError) return restJsonError(e);
      return restJsonError(new LocalServiceError('InternalServerErrorException', e instanceof Error ? e.message : String(e), 500));
    }
  }

  changed(): void {
    this.model.changed();
    this.opts.persist?.();
  }

  api(id: string): RestApi {
    const api = this.model.apis.get(id);
    if (!api) throw apiGatewayError('NotFoundException', `Invalid API identifier specified ${this.model.accountId}:${id}`);
    return api;
  }

  resource(apiId: string, id: string): ApiResource {
    const res = this.api(apiId).resources.get(id);
    if (!res) throw apiGatewayError('NotFoundException', 'Invalid Resource identifier specified');
    return res;
  }

  /** API Gateway's control-plane rate limits (when enabled). */
  private checkLimits(req: ControlPlaneRequest): void {
    if (!this.opts.limits) return;
    const now = this.opts.clock();
    const keyOp = /^\/apikeys(\/[^/]+)?\/?$/.test(req.path) && ((req.method === 'POST' && req.query.get('mode') !== 'import') || req.method === 'DELETE');
    const bucket = keyOp
      ? this.throttles.bucket('cp|keys', { rateLimit: 5, burstLimit: 5 }, now)
      : this.throttles.bucket('cp|other', { rateLimit: 10, burstLimit: 40 }, now);
    if (!ThrottleRegistry.tryTakeAll([bucket], now)) throw apiGatewayError('TooManyRequestsException', 'Too Many Requests');
    if (req.method === 'POST' && /^\/usageplans\/[^/]+\/keys\/?$/.test(req.path)) {
      if (now < this.planKeyLockUntil) throw apiGatewayError('ConflictException', 'Unable to complete operation due to concurrent modification. Please try again later.');
      this.planKeyLockUntil = now + PLAN_KEY_LOCK_MS;
    }
  }

  private route(req: ControlPlaneRequest): RouteResult {
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
    throw apiGatewayError('NotFoundException', `keygate local does not implement ${req.method} ${req.path}`);
  }
}
