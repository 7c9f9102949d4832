/**
 * Builds the Model from a loaded cloud assembly: assigns AWS-shaped physical ids, resolves
 * intrinsic functions, and hands each resource to the handler of its type (one module per
 * CloudFormation type, run in dependency order). Everything it cannot emulate is recorded by
 * logical id.
 */
import { CloudAssembly } from './assembly';
import { stableUuid } from '../ids';
import { TemplateResolver, UnresolvableError } from './intrinsics';
import { Model, RestApi, Stage } from '../apigateway/model';
import { apiKeyHandler, usagePlanKeyHandler } from '../apigateway/cfn-api-key';
import { authorizerHandler } from '../apigateway/cfn-authorizer';
import { BuildState, CustomResourceRecords, PersistedTemplateValues, ResourceHandler, StackContext, TemplateResource } from './context';
import { customResourceAttribute, customResourceRef, declareCustomResources, isCustomResourceType, stateMachineHandler } from './cfn-custom-resource';
import { gatewayResponseHandler } from '../apigateway/cfn-gateway-response';
import { lambdaFunctionHandler } from '../lambda/cfn-function';
import { methodHandler } from '../apigateway/cfn-method';
import { attribute, physicalId } from './physical-ids';
import { resourceHandler } from '../apigateway/cfn-resource';
import { restApiHandler } from '../apigateway/cfn-rest-api';
import { rotationScheduleHandler, secretSeedHandler } from '../secrets-manager/cfn-rotation-schedule';
import { eventsRuleHandler } from '../events/cfn-rule';
import { SecretCatalog } from '../secrets-manager/cfn-secret';
import { deploymentHandler, stageHandler } from '../apigateway/cfn-stage';
import { usagePlanHandler } from '../apigateway/cfn-usage-plan';
import { obj, str } from './values';
import { SecretSeed } from '../secrets-manager/service';
import { snsTopicHandler } from '../sns/cfn-topic';
import { s3BucketHandler } from '../s3/cfn-bucket';
import { subscriptionFilterHandler } from '../firehose/cfn-subscription-filter';
import { snsSubscriptionHandler } from '../sns/cfn-subscription';
import { alarmHandler } from '../cloudwatch/cfn-alarm';
import { metricFilterHandler } from '../logs/cfn-metric-filter';
import { insightRuleHandler } from '../cloudwatch/cfn-insight-rule';
import { LOCAL_EMULATION_METADATA } from '../../shared/local-emulation';
import { userPoolClientHandler, userPoolGroupHandler, userPoolHandler } from '../cognito/cfn-user-pool';

export type { PersistedTemplateValues } from './context';
export { decodeSettingsPath } from '../apigateway/cfn-stage';
export { lambdaArnFromUri } from '../apigateway/cfn-method';

/** What the services are seeded with: the model, the values to persist, and what each emulated service takes from the template. */
export interface BuildResult extends Pick<BuildState, 'schedules' | 'topics' | 'declaredCustomResources' | 'stateMachines' | 'buckets' | 'streams'
  | 'subscriptions' | 'alarms' | 'metricFilters' | 'insightRules'> {
  readonly model: Model;
  /** Generated values to persist: key values, secret strings and random ids by `stack/logicalId`. */
  readonly generated: PersistedTemplateValues;
  /** The app's secrets with their values and rotation schedules, for the local Secrets Manager. */
  readonly secrets: SecretSeed[];
}

/** The handlers, in the order their resources can depend on each other. */
const HANDLERS: readonly ResourceHandler[] = [
  userPoolHandler, userPoolClientHandler, userPoolGroupHandler, // keygate portal: the local Cognito's pools
  lambdaFunctionHandler, stateMachineHandler, restApiHandler, resourceHandler, authorizerHandler, methodHandler, gatewayResponseHandler,
  deploymentHandler, stageHandler, usagePlanHandler, apiKeyHandler, usagePlanKeyHandler,
  rotationScheduleHandler, secretSeedHandler, eventsRuleHandler, snsTopicHandler, s3BucketHandler, subscriptionFilterHandler, snsSubscriptionHandler, metricFilterHandler, insightRuleHandler, alarmHandler,
];

/** Resource types that have no effect on the served APIs. */
const INERT_TYPES = new Set([
  'AWS::CDK::Metadata', 'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::Lambda::Permission',
  'AWS::ApiGateway::Account', 'AWS::Logs::LogGroup', 'AWS::ApiGateway::Model',
  'AWS::ApiGateway::DocumentationPart', 'AWS::ApiGateway::DocumentationVersion', 'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::SSM::Parameter', 'AWS::KMS::Key', 'AWS::KMS::Alias',
  // Monitoring (dashboard, audit trail): it watches the APIs, it doesn't serve them.
  'AWS::CloudWatch::Dashboard',
  'AWS::Logs::ResourcePolicy', 'AWS::SNS::TopicPolicy', 'AWS::SecretsManager::ResourcePolicy',
]);

/** Types a handler serves (secrets are also collected across stacks first, by the SecretCatalog). */
const HANDLED_TYPES = new Set(HANDLERS.map((h) => h.type));

/** Why a type that no handler serves is not emulated. */
function unsupportedReason(type: string): string {
  if (type === 'AWS::ApiGateway::DomainName' || type === 'AWS::ApiGateway::BasePathMapping') return 'custom domain names are not emulated; use the stage URLs';
  if (type === 'AWS::ApiGateway::RequestValidator') return 'request validation is not emulated: requests reach the integration without being validated';
  return `resource type ${type} is not emulated`;
}

/**
 * Builds the model. `persisted` values (from a state file) take precedence over generated ones;
 * `customResources` are the custom resources that ran (their ids and Data), filled as they run.
 */
export function buildModel(asm: CloudAssembly, persisted?: PersistedTemplateValues, now: number = Date.now(), customResources: CustomResourceRecords = {}): BuildResult {
  const model = new Model();
  const build: BuildState = {
    asm, model, now, persisted, generated: { keyValues: {}, secrets: {}, physicalIds: {} }, rotations: new Map(), secretSeeds: [], schedules: [], topics: [],
    customResources, declaredCustomResources: [], stateMachines: new Map(), buckets: [], streams: [], subscriptions: [], alarms: [], metricFilters: [], insightRules: [],
  };
  const refMemo = new Map<string, string>();
  const secrets = new SecretCatalog(build, refMemo);
  const exportsByName = new Map<string, string>();

  for (const stack of asm.stacks) {
    const stackName = stack.stackName;
    const stackId = `arn:aws:cloudformation:${model.region}:${model.accountId}:stack/${stackName}/${stableUuid(stackName)}`;
    const resources = obj(stack.template.Resources);
    const resolveOr = (prop: unknown): unknown => {
      try {
        return ctx.resolver.resolve(prop);
      } catch (e) {
        if (e instanceof UnresolvableError) return undefined;
        throw e;
      }
    };
    const ctx: StackContext = {
      ...build, stack, stackName, stackId, resources, skipped: new Set(), secrets,
      resolver: new TemplateResolver(stack.template, {
        pseudo: { region: model.region, accountId: model.accountId, partition: 'aws', urlSuffix: 'amazonaws.com', stackName, stackId },
        ref: (logicalId) => ctx.ref(logicalId),
        getAtt: (logicalId, attr) => ctx.getAtt(logicalId, attr),
        importValue: (name) => exportsByName.get(name),
        secretValue: (secretId, jsonKey) => secrets.value(secretId, jsonKey),
      }, stack.parameters),
      seed: (logicalId) => `${stackName}/${logicalId}`,
      ref: (logicalId) => isCustomResourceType(String(obj(resources[logicalId]).Type))
        ? customResourceRef(customResources, ctx.seed(logicalId)) : physicalId(ctx, refMemo, logicalId, resolveOr),
      getAtt: (logicalId, attr) => isCustomResourceType(String(obj(resources[logicalId]).Type))
        ? customResourceAttribute(customResources, ctx.seed(logicalId), attr) : attribute(ctx, logicalId, attr),
      tagsFor: (logicalId) => ({
        'aws:cloudformation:logical-id': logicalId,
        'aws:cloudformation:stack-id': stackId,
        'aws:cloudformation:stack-name': stackName,
      }),
      report: (logicalId, type, reason) => { model.unsupported.push({ stack: stackName, logicalId, type, reason }); },
      apiOf: (logicalId, restApiId) => {
        const api = typeof restApiId === 'string' ? model.apis.get(restApiId) : undefined;
        if (!api) ctx.report(logicalId, String(obj(resources[logicalId]).Type), `its RestApiId ${JSON.stringify(restApiId)} is not an API of this app`);
        return api;
      },
      addStage: (api: RestApi, stage: Stage, logicalId: string) => {
        if (api.stages.has(stage.name)) ctx.report(logicalId, 'AWS::ApiGateway::Stage', `would fail to deploy: stage ${stage.name} already exists in API ${api.name}`);
        else api.stages.set(stage.name, stage);
      },
    };

    skipFalseConditions(ctx);
    for (const [logicalId, rRaw] of Object.entries(resources)) {
      const type = String(obj(rRaw).Type);
      if (ctx.skipped.has(logicalId) || HANDLED_TYPES.has(type) || isCustomResourceType(type)) continue;
      // keygate's own resources that the local gateway emulates another way say so in their metadata.
      const localNote = obj(obj(rRaw).Metadata)[LOCAL_EMULATION_METADATA];
      if (typeof localNote === 'string') model.ignored.push({ stack: stackName, logicalId, type, reason: localNote });
      else if (INERT_TYPES.has(type)) model.ignored.push({ stack: stackName, logicalId, type, reason: 'no effect on the local APIs' });
      else ctx.report(logicalId, type, unsupportedReason(type));
    }
    for (const handler of HANDLERS) handler.build(ctx, resolvedOfType(ctx, handler.type));
    declareCustomResources(ctx, (type) => HANDLED_TYPES.has(type));
    collectExports(ctx, exportsByName);
  }
  return {
    model, generated: build.generated, secrets: build.secretSeeds, schedules: build.schedules, topics: build.topics,
    declaredCustomResources: build.declaredCustomResources, stateMachines: build.stateMachines, buckets: build.buckets, streams: build.streams,
    subscriptions: build.subscriptions, alarms: build.alarms, metricFilters: build.metricFilters, insightRules: build.insightRules,
  };
}

function skipFalseConditions(ctx: StackContext): void {
  for (const [logicalId, rRaw] of Object.entries(ctx.resources)) {
    const cond = str(obj(rRaw).Condition);
    if (!cond) continue;
    try {
      if (!ctx.resolver.condition(cond)) ctx.skipped.add(logicalId);
    } catch (e) {
      ctx.report(logicalId, String(obj(rRaw).Type), `condition ${cond} cannot be evaluated: ${(e as Error).message}`);
      ctx.skipped.add(logicalId);
    }
  }
}

/** The resources of one type with their properties resolved; those that cannot be resolved are reported and left out. */
function resolvedOfType(ctx: StackContext, type: string): TemplateResource[] {
  const out: TemplateResource[] = [];
  for (const [logicalId, rRaw] of Object.entries(ctx.resources)) {
    const r = obj(rRaw);
    if (r.Type !== type || ctx.skipped.has(logicalId)) continue;
    try {
      out.push({ logicalId, props: obj(ctx.resolver.resolve(r.Properties ?? {})) });
    } catch (e) {
      if (!(e instanceof UnresolvableError)) throw e;
      ctx.report(logicalId, type, `cannot resolve its properties: ${e.message}`);
    }
  }
  return out;
}

function collectExports(ctx: StackContext, exportsByName: Map<string, string>): void {
  for (const [outId, oRaw] of Object.entries(obj(ctx.stack.template.Outputs))) {
    const o = obj(oRaw);
    if (o.Export === undefined) continue;
    try {
      const name = ctx.resolver.resolve(obj(o.Export).Name);
      const value = ctx.resolver.resolve(o.Value);
      if (typeof name === 'string') exportsByName.set(name, typeof value === 'string' ? value : JSON.stringify(value));
    } catch (e) {
      if (!(e instanceof UnresolvableError)) throw e;
      ctx.report(outId, 'Output', `cannot resolve its export: ${e.message}`);
    }
  }
}
