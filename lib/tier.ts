import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { IResource, Lazy, Names, Resource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IKeyProtectedApi } from './api-contract';
import { associateKey } from './association';
import { formatProblem, KeygateError } from './errors';
import { registryOf, stageNameOf, TierLike } from './registry';
import { formatRoute, methodSettingsKey, parseRoute } from './route';
import { validateName, validateQuota, validateThrottle } from './validation';

/** A usage-plan tier: one managed by this app, or imported by id. */
export interface ITier extends IResource, apigw.IUsagePlan {
  /** Name of the tier (for an imported one, its usage plan id). */
  readonly tierName: string;
}

/** Options of a tier, as `api.addTier(id, options)` takes them. */
export interface TierOptions {
  /**
   * Name of the usage plan.
   * @default - the construct id
   */
  readonly tierName?: string;

  /**
   * Description of the usage plan.
   * @default - none
   */
  readonly description?: string;

  /**
   * Per-key throttle: rateLimit requests per second (token refill) and burstLimit
   * (bucket size). Needed for per-method throttles.
   * @default - no plan throttle: the stage and account limits apply
   */
  readonly throttle?: apigw.ThrottleSettings;

  /**
   * Per-key quota: limit requests per DAY, WEEK or MONTH (UTC), the period starting
   * `offset` days in.
   * @default - no quota
   */
  readonly quota?: apigw.QuotaSettings;

  /**
   * Stages the tier covers. A key may be in only one tier per stage.
   * @default - every stage of the API, including stages added later
   */
  readonly stages?: apigw.Stage[];

  /**
   * Per-key throttles of single routes of the API, e.g.
   * `{ 'GET /pets/{id}': { rateLimit: 2, burstLimit: 4 } }`. More can be added with
   * `addMethodThrottle`.
   * @default - none
   */
  readonly methodThrottles?: { [route: string]: apigw.ThrottleSettings };
}

/** Properties of a Tier. */
export interface TierProps extends TierOptions {
  /** The API whose stages (by default) and routes the tier refers to. */
  readonly api: IKeyProtectedApi;
}

abstract class TierBase extends Resource implements ITier {
  public abstract readonly usagePlanId: string;
  public abstract readonly tierName: string;

  public get usagePlanRef(): apigw.UsagePlanReference {
    return { usagePlanId: this.usagePlanId };
  }

  /**
   * Associates a key with this tier (for example a key imported with
   * `apigw.ApiKey.fromApiKeyId`). The association's logical id derives from the key's
   * construct path, so it never depends on the order of calls.
   */
  public addApiKey(apiKey: apigw.IApiKeyRef, options: apigw.AddApiKeyOptions = {}): void {
    const association = associateKey(this, `Key${Names.uniqueId(apiKey)}`, apiKey, this);
    if (options.overrideLogicalId) association.overrideLogicalId(options.overrideLogicalId);
  }
}

class ImportedTier extends TierBase {
  public readonly tierName: string;
  constructor(scope: Construct, id: string, public readonly usagePlanId: string) {
    super(scope, id);
    this.tierName = usagePlanId;
  }
}

/**
 * A usage-plan tier: throttle and quota per key, per-route throttles, on one or more stages.
 * Everything AWS would reject at deploy time is checked at synth.
 */
export class Tier extends TierBase implements TierLike {
  /** A usage plan that exists outside this app. keygate can't check its stages. */
  public static fromUsagePlanId(scope: Construct, id: string, usagePlanId: string): ITier {
    return new ImportedTier(scope, id, usagePlanId);
  }

  public readonly usagePlanId: string;
  public readonly tierName: string;
  /** The API the tier belongs to. */
  public readonly api: IKeyProtectedApi;

  private readonly stages?: apigw.Stage[];
  private readonly throttle?: apigw.ThrottleSettings;
  private readonly methodThrottles = new Map<string, apigw.ThrottleSettings>();

  constructor(scope: Construct, id: string, props: TierProps) {
    super(scope, id);
    validateName(this, 'tierName', props.tierName);
    validateThrottle(this, 'throttle', props.throttle);
    validateQuota(this, 'quota', props.quota);
    if (props.stages && props.stages.length === 0) {
      throw KeygateError.of(this, 'stages', 'a tier must cover at least one stage; leave stages out to cover every stage of the API', props.stages);
    }
    this.api = props.api;
    this.stages = props.stages;
    this.throttle = props.throttle;
    this.tierName = props.tierName ?? id;

    const plan = new apigw.CfnUsagePlan(this, 'Resource', {
      usagePlanName: this.tierName,
      description: props.description,
      throttle: props.throttle && { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      quota: props.quota && { limit: props.quota.limit, offset: props.quota.offset, period: props.quota.period },
      apiStages: Lazy.any({ produce: () => this.renderApiStages() }),
    });
    this.usagePlanId = plan.ref;

    for (const [route, throttle] of Object.entries(props.methodThrottles ?? {})) this.addMethodThrottle(route, throttle);
    registryOf(this).tiers.push(this);
    this.node.addValidation({ validate: () => this.validateAtSynth() });
  }

  /**
   * Throttles one route of the API per key, e.g. `addMethodThrottle('GET /pets/{id}',
   * { rateLimit: 2, burstLimit: 4 })`. The tier needs a plan-level throttle too.
   */
  public addMethodThrottle(route: string, throttle: apigw.ThrottleSettings): void {
    const parsed = parseRoute(route);
    if (typeof parsed === 'string') throw KeygateError.of(this, `methodThrottles['${route}']`, parsed, route);
    validateThrottle(this, `methodThrottles['${route}']`, throttle);
    const key = formatRoute(parsed);
    if (this.methodThrottles.has(key)) throw KeygateError.of(this, 'methodThrottles', 'the route has a throttle already', route);
    this.methodThrottles.set(key, throttle);
  }

  /** The stages this tier covers. */
  public coveredStages(): apigw.Stage[] {
    return this.stages ?? this.api.stages;
  }

  private renderApiStages(): apigw.CfnUsagePlan.ApiStageProperty[] {
    return this.coveredStages().map((stage) => {
      const ownApi = stage.restApi === this.api.restApi;
      const throttle: { [key: string]: apigw.CfnUsagePlan.ThrottleSettingsProperty } = {};
      if (ownApi) {
        for (const [route, settings] of this.methodThrottles) {
          const parsed = parseRoute(route);
          if (typeof parsed === 'string') continue;
          throttle[methodSettingsKey(parsed)] = { rateLimit: settings.rateLimit, burstLimit: settings.burstLimit };
        }
      }
      return {
        apiId: stage.restApi.restApiId,
        stage: stage.stageName,
        throttle: Object.keys(throttle).length > 0 ? throttle : undefined,
      };
    });
  }

  private validateAtSynth(): string[] {
    const errors: string[] = [];
    if (this.methodThrottles.size > 0 && !this.throttle) {
      errors.push(formatProblem(this, 'methodThrottles',
        'per-method throttles need a tier-level throttle (AWS: "Can not define fine grain throttling if usage plan throttle is not defined")',
        [...this.methodThrottles.keys()]));
    }
    const routes = new Set(this.api.routeKeys);
    for (const route of this.methodThrottles.keys()) {
      if (!routes.has(route)) errors.push(formatProblem(this, `methodThrottles['${route}']`, 'no such route on the API', route));
    }
    const seen = new Set<string>();
    for (const stage of this.coveredStages()) {
      const key = `${stage.node.path}`;
      if (seen.has(key)) errors.push(formatProblem(this, 'stages', 'lists a stage twice', stageNameOf(stage)));
      seen.add(key);
    }
    return errors;
  }
}
