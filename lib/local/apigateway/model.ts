/**
 * The in-memory model of what the local gateway serves: REST APIs with their
 * resource trees, stages, keys, usage plans and their associations, gateway
 * responses, authorizers and Lambda functions. The control plane mutates it; the
 * data plane reads it on every request, so a change is seen by the next request.
 */
import { sha256Base64 } from '../ids';
import { LocalServiceError } from '../service-error';
import { MAX_API_KEYS, MAX_PLANS_PER_KEY } from '../../shared/constants';

export interface ThrottleSettings {
  readonly rateLimit?: number;
  readonly burstLimit?: number;
}

export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

export interface QuotaSettings {
  readonly limit: number;
  readonly offset: number;
  readonly period: QuotaPeriod;
}

export interface IntegrationResponse {
  readonly statusCode: string;
  readonly selectionPattern?: string;
  readonly responseTemplates: Record<string, string>;
  readonly responseParameters: Record<string, string>;
}

export interface Integration {
  /** MOCK, HTTP, HTTP_PROXY, AWS, AWS_PROXY. */
  readonly type: string;
  readonly uri?: string;
  readonly httpMethod?: string;
  readonly requestTemplates: Record<string, string>;
  readonly requestParameters: Record<string, string>;
  readonly integrationResponses: IntegrationResponse[];
  readonly passthroughBehavior?: string;
  readonly timeoutMs: number;
  /** For AWS_PROXY to Lambda: the function's key in Model.functions. */
  readonly functionArn?: string;
  /** Why this integration cannot run locally, if it cannot. */
  readonly unsupportedReason?: string;
}

export interface Method {
  readonly httpMethod: string;
  readonly apiKeyRequired: boolean;
  readonly authorizationType: string;
  readonly authorizerId?: string;
  readonly integration: Integration;
  readonly logicalId?: string;
  readonly methodResponses: { statusCode: string; responseParameters: Record<string, boolean> }[];
}

export interface ApiResource {
  readonly id: string;
  readonly parentId?: string;
  readonly pathPart: string;
  /** Full path, e.g. `/pets/{id}`; `/` for the root. */
  path: string;
  readonly methods: Map<string, Method>;
  readonly logicalId?: string;
}

export interface Authorizer {
  readonly id: string;
  readonly name: string;
  /** TOKEN, REQUEST or COGNITO_USER_POOLS. */
  readonly type: string;
  readonly functionArn?: string;
  readonly identitySource: string;
  readonly identityValidationExpression?: string;
  readonly ttlSeconds: number;
  readonly logicalId?: string;
  readonly unsupportedReason?: string;
  /** COGNITO_USER_POOLS: the user pools' ARNs. */
  readonly providerArns?: string[];
}

export interface GatewayResponseOverride {
  readonly responseType: string;
  readonly statusCode?: string;
  readonly responseParameters: Record<string, string>;
  readonly responseTemplates: Record<string, string>;
}

export interface Stage {
  readonly name: string;
  readonly deploymentId: string;
  readonly description?: string;
  /** Method settings keyed `RESOURCE_PATH METHOD` with the path decoded (`/*` and `*` for the defaults). */
  readonly methodSettings: Map<string, ThrottleSettings>;
  readonly variables: Record<string, string>;
  readonly createdDate: number;
  readonly tags: Record<string, string>;
  readonly logicalId?: string;
  /** AccessLogSetting.Format, if the stage has access logging. */
  readonly accessLogFormat?: string;
  /** The CloudWatch Logs group of the access log (from its DestinationArn), for the metric filters on it. */
  readonly accessLogGroup?: string;
}

export interface RestApi {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly stack: string;
  readonly logicalId: string;
  readonly createdDate: number;
  readonly rootResourceId: string;
  readonly resources: Map<string, ApiResource>;
  readonly stages: Map<string, Stage>;
  readonly authorizers: Map<string, Authorizer>;
  readonly gatewayResponses: Map<string, GatewayResponseOverride>;
  /** HEADER or AUTHORIZER. */
  readonly apiKeySource: string;
  readonly binaryMediaTypes: string[];
  readonly minimumCompressionSize?: number;
  /** EndpointConfiguration.Types (EDGE when the template says nothing). */
  readonly endpointTypes: string[];
  readonly disableExecuteApiEndpoint: boolean;
  readonly tags: Record<string, string>;
}

export interface ApiKey {
  readonly id: string;
  name: string;
  description?: string;
  readonly value: string;
  enabled: boolean;
  readonly createdDate: number;
  lastUpdatedDate: number;
  customerId?: string;
  readonly stageKeys: string[];
  readonly tags: Record<string, string>;
}

export interface ApiStage {
  readonly apiId: string;
  readonly stage: string;
  /** Per-method throttles keyed `/path/METHOD`. */
  throttle: Record<string, ThrottleSettings>;
}

/** A usage plan; UpdateUsagePlan replaces its fields (never mutates a settings object, which the throttles key on). */
export interface UsagePlan {
  readonly id: string;
  name: string;
  description?: string;
  apiStages: ApiStage[];
  throttle?: ThrottleSettings;
  quota?: QuotaSettings;
  /** The AWS Marketplace product code (set by UpdateUsagePlan `/productCode`; CloudFormation has no property for it). */
  productCode?: string;
  readonly tags: Record<string, string>;
}

export interface LambdaFunction {
  readonly logicalId: string;
  readonly stack: string;
  readonly name: string;
  readonly arn: string;
  readonly runtime: string;
  readonly handler: string;
  /** Folder holding the handler's code (asset folder, or undefined for inline code). */
  readonly codeDir?: string;
  readonly inlineCode?: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly region: string;
  readonly unsupportedReason?: string;
}

/** Something in the app the gateway cannot emulate, by logical id. */
export interface UnsupportedItem {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly reason: string;
}

/** The error types of API Gateway's control plane that the model throws. */
export type ApiGatewayErrorType = 'NotFoundException' | 'ConflictException' | 'BadRequestException' | 'LimitExceededException' | 'TooManyRequestsException';

const API_GATEWAY_ERROR_STATUS: Record<ApiGatewayErrorType, number> = {
  NotFoundException: 404, ConflictException: 409, BadRequestException: 400, LimitExceededException: 429, TooManyRequestsException: 429,
};

/** An API Gateway error (thrown by model operations), with the status API Gateway gives its type. */
export function apiGatewayError(type: ApiGatewayErrorType, message: string): LocalServiceError {
  return new LocalServiceError(type, message, API_GATEWAY_ERROR_STATUS[type]);
}

/** Account quotas API Gateway enforces on keys and plans. */
export { MAX_API_KEYS, MAX_PLANS_PER_KEY };

export class Model {
  readonly region: string;
  readonly accountId: string;
  readonly apis = new Map<string, RestApi>();
  readonly keys = new Map<string, ApiKey>();
  readonly plans = new Map<string, UsagePlan>();
  /** planId → key ids. */
  readonly planKeys = new Map<string, Set<string>>();
  /** Lambda functions by ARN. */
  readonly functions = new Map<string, LambdaFunction>();
  readonly unsupported: UnsupportedItem[] = [];
  /** Resources with no effect on the served APIs (IAM roles, permissions…), by logical id. */
  readonly ignored: UnsupportedItem[] = [];
  /**
   * base64 sha256(value) → key id. Keys are found by the digest of the presented value, never
   * by comparing values: how long a lookup takes says nothing about how close a guess was.
   */
  private readonly keyByDigest = new Map<string, string>();
  /** Listeners called after each mutation (used to persist state). */
  private readonly listeners: (() => void)[] = [];

  constructor(region = 'us-east-1', accountId = '123456789012') {
    this.region = region;
    this.accountId = accountId;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  changed(): void {
    for (const l of this.listeners) l();
  }

  // ---- keys ----

  addKey(key: ApiKey): void {
    if (this.keys.has(key.id)) throw apiGatewayError('ConflictException', `API Key ${key.id} already exists`);
    const digest = sha256Base64(key.value);
    if (this.keyByDigest.has(digest)) throw apiGatewayError('ConflictException', 'API Key already exists');
    if (this.keys.size >= MAX_API_KEYS) throw apiGatewayError('LimitExceededException', `Cannot exceed the limit of ${MAX_API_KEYS} API keys`);
    this.keys.set(key.id, key);
    this.keyByDigest.set(digest, key.id);
  }

  getKey(id: string): ApiKey {
    const k = this.keys.get(id);
    if (!k) throw apiGatewayError('NotFoundException', 'Invalid API Key identifier specified');
    return k;
  }

  deleteKey(id: string): void {
    const k = this.getKey(id);
    this.keys.delete(id);
    this.keyByDigest.delete(sha256Base64(k.value));
    for (const set of this.planKeys.values()) set.delete(id);
  }

  /** Finds the key with this value, by digest (see keyByDigest). */
  findKeyByValue(value: string): ApiKey | undefined {
    const id = this.keyByDigest.get(sha256Base64(value));
    return id === undefined ? undefined : this.keys.get(id);
  }

  // ---- plans ----

  getPlan(id: string): UsagePlan {
    const p = this.plans.get(id);
    if (!p) throw apiGatewayError('NotFoundException', 'Invalid Usage Plan ID specified');
    return p;
  }

  plansOfKey(keyId: string): UsagePlan[] {
    const out: UsagePlan[] = [];
    for (const [planId, set] of this.planKeys) {
      if (set.has(keyId)) {
        const p = this.plans.get(planId);
        if (p) out.push(p);
      }
    }
    return out;
  }

  /** Associates a key with a plan, with API Gateway's rules. */
  addPlanKey(planId: string, keyId: string): void {
    const plan = this.getPlan(planId);
    this.getKey(keyId);
    const set = this.planKeys.get(planId) ?? new Set<string>();
    if (set.has(keyId)) throw apiGatewayError('ConflictException', `Usage Plan ${planId} cannot be added because API Key ${keyId} is already associated with it`);
    const others = this.plansOfKey(keyId);
    if (others.length >= MAX_PLANS_PER_KEY) {
      throw apiGatewayError('LimitExceededException', `API Key ${keyId} cannot be in more than ${MAX_PLANS_PER_KEY} usage plans`);
    }
    for (const other of others) {
      for (const s of plan.apiStages) {
        if (other.apiStages.some((o) => o.apiId === s.apiId && o.stage === s.stage)) {
          throw apiGatewayError('ConflictException', `API Key ${keyId} cannot reference multiple Usage Plans with the same API Stage: ${s.apiId}:${s.stage} is in ${other.id} and ${plan.id}`);
        }
      }
    }
    set.add(keyId);
    this.planKeys.set(planId, set);
  }

  removePlanKey(planId: string, keyId: string): void {
    this.getPlan(planId);
    const set = this.planKeys.get(planId);
    if (!set || !set.has(keyId)) throw apiGatewayError('NotFoundException', 'Invalid API Key identifier specified');
    set.delete(keyId);
  }

  /** The plan through which `keyId` may call `apiId`/`stage`, if any. */
  planFor(keyId: string, apiId: string, stage: string): UsagePlan | undefined {
    for (const [planId, set] of this.planKeys) {
      if (!set.has(keyId)) continue;
      const p = this.plans.get(planId);
      if (p && p.apiStages.some((s) => s.apiId === apiId && s.stage === stage)) return p;
    }
    return undefined;
  }
}
