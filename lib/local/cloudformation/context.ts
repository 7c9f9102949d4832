/** What every resource handler of the model builder works with: one stack, resolved. */
import { AssemblyStack, CloudAssembly } from './assembly';
import type { FirehoseSeed } from '../firehose/service';
import { TemplateResolver } from './intrinsics';
import { Model, RestApi, Stage } from '../apigateway/model';
import { ScheduledInvocation } from '../events/schedules';
import { SecretSeed } from '../secrets-manager/service';
import { TopicSeed } from '../sns/service';
import { SubscriptionSeed } from '../sns/subscriptions';
import { AlarmSeed } from '../cloudwatch/alarms';
import { MetricFilterSeed } from '../logs/metric-filters';
import { InsightRuleSeed } from '../logs/insight-rules';
import { Obj } from './values';

/** Values kept from a previous run (from the state file), so keys, secrets and ids stay the same. */
export interface PersistedTemplateValues {
  /** `stack/logicalId` → key value. */
  readonly keyValues: Record<string, string>;
  /** `stack/logicalId` → secret string. */
  readonly secrets: Record<string, string>;
  /** `stack/logicalId` → the random physical id given to a usage plan or an API key. */
  readonly physicalIds: Record<string, string>;
}

/** A custom resource as its last successful event left it. */
export interface CustomResourceRecord {
  readonly type: string;
  readonly stackId?: string;
  readonly serviceToken: string;
  /** Resolved properties of that event (ServiceToken included), the next Update's OldResourceProperties. */
  readonly properties: Obj;
  readonly physicalResourceId: string;
  /** The provider's `Data`, for `Fn::GetAtt`. */
  readonly data: Obj;
}

/** `stack/logicalId` → record. */
export type CustomResourceRecords = Record<string, CustomResourceRecord>;

/** A custom resource of the template, as CloudFormation would send it to its provider. */
export interface DeclaredCustomResource {
  /** `stack/logicalId`. */
  readonly key: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly logicalId: string;
  readonly type: string;
  /** Keys of the custom resources it depends on (DependsOn, Ref, GetAtt, Sub, directly or through other resources). */
  readonly dependsOn: string[];
  /**
   * Keys of the custom resources whose `Ref` or `Fn::GetAtt` a resource it depends on (not a
   * custom one) reads: once one of them changed, that resource is rebuilt before this one runs.
   */
  readonly waitsForRebuildAfter: string[];
  /** Whether an emulated resource of the app (or an exported output) reads its `Ref` or `Fn::GetAtt`. */
  readonly readByOthers: boolean;
  /** Its properties, resolved now (a GetAtt of another custom resource's Data needs that one to have run). */
  resolveProperties(): Obj;
}

/** The secrets of the assembly, as dynamic references (`{{resolve:secretsmanager:…}}`) read them. */
export interface SecretValues {
  /** The value of a secret (or of one JSON key of it). */
  value(secretId: string, jsonKey: string | undefined): string | undefined;
  /** The name of a secret (its ARN without the random suffix). */
  name(secretId: string): string;
}

/** What the whole build shares across stacks. */
export interface BuildState {
  readonly asm: CloudAssembly;
  readonly model: Model;
  readonly now: number;
  readonly persisted?: PersistedTemplateValues;
  /** Values generated in this run, to persist. */
  readonly generated: { keyValues: Record<string, string>; secrets: Record<string, string>; physicalIds: Record<string, string> };
  /** Secret ARN → its rotation (from AWS::SecretsManager::RotationSchedule). */
  readonly rotations: Map<string, SecretSeed['rotation']>;
  /** The app's secrets, for the local Secrets Manager. */
  readonly secretSeeds: SecretSeed[];
  /** Lambda targets of the app's `rate(...)` and `cron(...)` schedule rules. */
  readonly schedules: ScheduledInvocation[];
  /** The app's SNS topics, for the local SNS. */
  readonly topics: TopicSeed[];
  /** The custom resources that ran (filled as they run: `Ref` and `Fn::GetAtt` read it). */
  readonly customResources: CustomResourceRecords;
  /** The template's custom resources, in no particular order. */
  readonly declaredCustomResources: DeclaredCustomResource[];
  /** State machine ARN → its definition (the Provider framework's waiter). */
  readonly stateMachines: Map<string, Obj>;
  /** The app's S3 bucket names, for the local S3. */
  readonly buckets: string[];
  /** The app's access-log subscription filters into Firehose streams, for the local Firehose. */
  readonly streams: FirehoseSeed[];
  /** The topics' subscriptions (AWS::SNS::Subscription, a topic's Subscription). */
  readonly subscriptions: SubscriptionSeed[];
  /** The app's CloudWatch alarms that the local CloudWatch evaluates. */
  readonly alarms: AlarmSeed[];
  /** The app's CloudWatch Logs metric filters. */
  readonly metricFilters: MetricFilterSeed[];
  /** The app's Contributor Insights rules on log groups. */
  readonly insightRules: InsightRuleSeed[];
}

export interface StackContext extends BuildState {
  readonly stack: AssemblyStack;
  readonly stackName: string;
  readonly stackId: string;
  readonly resources: Obj;
  readonly resolver: TemplateResolver;
  /** Logical ids whose Condition is false. */
  readonly skipped: Set<string>;
  /** Every secret of the assembly, with its value (secrets-manager/cfn-secret.ts's SecretCatalog). */
  readonly secrets: SecretValues;
  /** `stack/logicalId`: the key of a resource in persisted maps. */
  seed(logicalId: string): string;
  /** The physical id (`Ref`) of a resource of this stack. */
  ref(logicalId: string): string | undefined;
  getAtt(logicalId: string, attr: string): unknown;
  /** CloudFormation's own tags on what a resource creates. */
  tagsFor(logicalId: string): Record<string, string>;
  /** Records something that cannot be emulated. */
  report(logicalId: string, type: string, reason: string): void;
  /** The API a resource belongs to (reports it if not an API of the app). */
  apiOf(logicalId: string, restApiId: unknown): RestApi | undefined;
  addStage(api: RestApi, stage: Stage, logicalId: string): void;
}

/** One resource of a template, with its properties resolved. */
export interface TemplateResource {
  readonly logicalId: string;
  readonly props: Obj;
}

/** Builds the model objects of one CloudFormation resource type. */
export interface ResourceHandler {
  readonly type: string;
  /** Called once per stack with every resource of the type (conditions applied, properties resolved). */
  build(ctx: StackContext, resources: TemplateResource[]): void;
}
