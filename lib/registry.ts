import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * What keygate needs to see across constructs to check the rules that span them
 * (one plan per stage per key, unique key values, stages covered by a tier) and to
 * chain UsagePlanKey resources. Kept per construct tree root, so separate apps in one
 * process (tests) never see each other.
 *
 * @internal
 */
export interface TierLike extends IConstruct {
  readonly tierName: string;
  /** Stages the tier covers; undefined for an imported plan, whose stages keygate can't see. */
  coveredStages(): apigw.Stage[] | undefined;
}

export interface KeyAssociation {
  readonly tier: apigw.IUsagePlan & IConstruct;
  readonly scope: IConstruct;
}

export interface KeyValueClaim {
  /** A stable text of the resolved value or dynamic reference; never printed. */
  readonly fingerprint: string;
  readonly scope: IConstruct;
}

class Registry {
  public readonly tiers: TierLike[] = [];
  /** Associations per key construct (our own keys and imported ones alike). */
  public readonly associations = new Map<IConstruct, KeyAssociation[]>();
  public readonly values: KeyValueClaim[] = [];
  /** Client names in use per API (single clients and bulk client sets alike). */
  public readonly clientNames = new Map<IConstruct, Map<string, IConstruct>>();
  /** Last UsagePlanKey created in each stack: the next one depends on it. */
  public readonly lastUsagePlanKey = new Map<Stack, apigw.CfnUsagePlanKey>();
  /** Names of the stages keygate created. */
  public readonly stageNames = new WeakMap<IConstruct, string>();
}

const registries = new WeakMap<IConstruct, Registry>();

export function registryOf(scope: IConstruct): Registry {
  const root = scope.node.root;
  let registry = registries.get(root);
  if (!registry) {
    registry = new Registry();
    registries.set(root, registry);
  }
  return registry;
}

/**
 * Claims a client name on an API. Single clients and bulk client sets share one namespace:
 * two clients with one name would be two keys of the same name that the ops tools can't
 * tell apart. Returns the construct that holds the name already, if another one does.
 */
export function claimClientName(api: IConstruct, name: string, owner: IConstruct): IConstruct | undefined {
  const names = registryOf(api).clientNames;
  let onApi = names.get(api);
  if (!onApi) {
    onApi = new Map();
    names.set(api, onApi);
  }
  const holder = onApi.get(name);
  if (holder && holder !== owner) return holder;
  onApi.set(name, owner);
  return undefined;
}

/** Records the name a stage was created with (`Stage.stageName` is only a `Ref` token). */
export function recordStageName(stage: apigw.Stage, name: string): void {
  registryOf(stage).stageNames.set(stage, name);
}

/**
 * The name of a stage as written in the app (`prod`, `staging`), for validation messages and
 * duplicate checks; for a stage keygate didn't create, its construct path.
 */
export function stageNameOf(stage: apigw.Stage): string {
  return registryOf(stage).stageNames.get(stage) ?? stage.node.path;
}
