/**
 * Builds the Model from a loaded cloud assembly: assigns AWS-shaped physical ids,
 * resolves intrinsic functions, and turns API Gateway / Lambda resources into model
 * objects. Everything it cannot emulate is recorded by logical id.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AssemblyStack, CloudAssembly } from './assembly';
import { generateKeyValue, stableId, stableUuid } from './ids';
import { TemplateResolver, UnresolvableError } from './intrinsics';
import {
  ApiGatewayError, ApiResource, Authorizer, GatewayResponseOverride, Integration, IntegrationResponse,
  LambdaFunction, Method, Model, QuotaPeriod, RestApi, Stage, ThrottleSettings, UsagePlan,
} from './model';
import { generateSecretString, GenerateSecretStringOptions, secretJsonKey } from './secrets';
import { rateMs, ScheduledInvocation } from './schedules';
import { SecretSeed } from './secrets-manager';
import { API_KEY_VALUE_PATTERN } from '../api-gateway-limits';
import { LOCAL_EMULATION_METADATA } from '../lifecycle/local-emulation';

/** Values kept from a previous run (from the state file), so keys and secrets keep their values. */
export interface PersistedTemplateValues {
  /** `stack/logicalId` → key value. */
  readonly keyValues: Record<string, string>;
  /** `stack/logicalId` → secret string. */
  readonly secrets: Record<string, string>;
}

export interface BuildResult {
  readonly model: Model;
  /** Generated values to persist: key values and secret strings by `stack/logicalId`. */
  readonly generated: PersistedTemplateValues;
  /** The app's secrets with their values and rotation schedules, for the local Secrets Manager. */
  readonly secrets: SecretSeed[];
  /** Lambda targets of the app's `rate(...)` schedule rules. */
  readonly schedules: ScheduledInvocation[];
}

/** Resource types that have no effect on the served APIs. */
const INERT_TYPES = new Set([
  'AWS::CDK::Metadata', 'AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::Lambda::Permission',
  'AWS::ApiGateway::Account', 'AWS::Logs::LogGroup', 'AWS::ApiGateway::Model',
  'AWS::ApiGateway::DocumentationPart', 'AWS::ApiGateway::DocumentationVersion', 'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::SSM::Parameter', 'AWS::KMS::Key', 'AWS::KMS::Alias',
  // Monitoring (dashboard, alarms, access-log metrics, audit trail, alert topics): it watches the APIs, it doesn't serve them.
  'AWS::CloudWatch::Dashboard', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::InsightRule', 'AWS::Logs::MetricFilter',
  'AWS::Logs::ResourcePolicy', 'AWS::SNS::Topic', 'AWS::SNS::TopicPolicy', 'AWS::SecretsManager::ResourcePolicy',
]);

const HANDLED_TYPES = new Set([
  'AWS::ApiGateway::RestApi', 'AWS::ApiGateway::Resource', 'AWS::ApiGateway::Method', 'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Stage', 'AWS::ApiGateway::ApiKey', 'AWS::ApiGateway::UsagePlan', 'AWS::ApiGateway::UsagePlanKey',
  'AWS::ApiGateway::GatewayResponse', 'AWS::ApiGateway::Authorizer', 'AWS::Lambda::Function', 'AWS::SecretsManager::Secret',
  'AWS::SecretsManager::RotationSchedule', 'AWS::Events::Rule',
]);

type Obj = Record<string, unknown>;
function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v))) return Number(v);
  return undefined;
}
function bool(v: unknown, d: boolean): boolean {
  if (v === undefined) return d;
  return v === true || v === 'true';
}
function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) {
    const s = str(x) ?? (typeof x === 'boolean' ? String(x) : undefined);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

function throttleOf(v: unknown): ThrottleSettings | undefined {
  const o = obj(v);
  const rateLimit = num(o.RateLimit);
  const burstLimit = num(o.BurstLimit);
  if (rateLimit === undefined && burstLimit === undefined) return undefined;
  return { rateLimit, burstLimit };
}

interface StackCtx {
  readonly stack: AssemblyStack;
  readonly stackName: string;
  readonly stackId: string;
  readonly resources: Obj;
  readonly resolver: TemplateResolver;
  /** Logical ids whose Condition is false. */
  readonly skipped: Set<string>;
}

interface SecretEntry {
  readonly key: string;
  readonly arn: string;
  readonly name: string;
  readonly props: Obj;
  value?: string;
}

/** Builds the model. `persisted` values (from a state file) take precedence over generated ones. */
export function buildModel(asm: CloudAssembly, persisted?: PersistedTemplateValues, now: number = Date.now()): BuildResult {
  const model = new Model();
  const region = model.region;
  const account = model.accountId;
  const exportsByName = new Map<string, string>();
  const generated: { keyValues: Record<string, string>; secrets: Record<string, string> } = { keyValues: {}, secrets: {} };
  const secrets: SecretEntry[] = [];
  const refMemo = new Map<string, string>();
  const secretSeeds: SecretSeed[] = [];
  const schedules: ScheduledInvocation[] = [];

  // Pass 1: secrets of every stack (they can be referenced from any stack by ARN or name).
  for (const stack of asm.stacks) {
    const stackName = stack.stackName;
    for (const [logicalId, rRaw] of Object.entries(obj(stack.template.Resources))) {
      const r = obj(rRaw);
      if (r.Type !== 'AWS::SecretsManager::Secret') continue;
      const props = obj(r.Properties);
      const name = str(props.Name) ?? `${logicalId}-${stableId(`${stackName}/${logicalId}/name`, 12)}`;
      const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${stableId(`${stackName}/${logicalId}`, 6)}`;
      secrets.push({ key: `${stackName}/${logicalId}`, arn, name, props });
      refMemo.set(`${stackName}/${logicalId}`, arn);
    }
  }

  const externalReported = new Set<string>();
  const secretValue = (secretId: string, jsonKey: string | undefined): string | undefined => {
    let s = secrets.find((x) => x.arn === secretId || x.name === secretId || secretId.startsWith(x.arn) || x.arn.startsWith(secretId));
    if (!s) {
      // A secret the app does not create (imported by name or ARN): a local stand-in value, kept in the state file.
      s = { key: `external:${secretId}`, arn: secretId, name: secretId, props: { GenerateSecretString: { PasswordLength: 40, ExcludePunctuation: true } } };
      secrets.push(s);
      if (!externalReported.has(secretId)) {
        externalReported.add(secretId);
        model.unsupported.push({
          stack: '(external)', logicalId: secretId, type: 'AWS::SecretsManager::Secret',
          reason: 'the app reads this secret but does not create it; a random stand-in value is used locally (see the key values with --show-values)',
        });
      }
    }
    if (s.value === undefined) {
      const prev = persisted?.secrets[s.key];
      if (prev !== undefined) s.value = prev;
      else if (typeof s.props.SecretString === 'string') s.value = s.props.SecretString;
      else s.value = generateSecretString(obj(s.props.GenerateSecretString) as GenerateSecretStringOptions);
      generated.secrets[s.key] = s.value;
    }
    return jsonKey ? secretJsonKey(s.value, jsonKey) : s.value;
  };

  const report = (stackName: string, logicalId: string, type: string, reason: string): void => {
    model.unsupported.push({ stack: stackName, logicalId, type, reason });
  };

  const apiByLogical = new Map<string, RestApi>();
  const deploymentStage = new Map<string, string>();

  for (const stack of asm.stacks) {
    const stackName = stack.stackName;
    const stackId = `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${stableUuid(stackName)}`;
    const resources = obj(stack.template.Resources);
    const tagsFor = (logicalId: string): Record<string, string> => ({
      'aws:cloudformation:logical-id': logicalId,
      'aws:cloudformation:stack-id': stackId,
      'aws:cloudformation:stack-name': stackName,
    });
    const seed = (logicalId: string): string => `${stackName}/${logicalId}`;

    const resolveOr = (prop: unknown): unknown => {
      try {
        return resolver.resolve(prop);
      } catch (e) {
        if (e instanceof UnresolvableError) return undefined;
        throw e;
      }
    };
    const ref = (logicalId: string): string | undefined => {
      const r = obj(resources[logicalId]);
      if (!r.Type) return undefined;
      const memoKey = seed(logicalId);
      const memo = refMemo.get(memoKey);
      if (memo !== undefined) return memo;
      const props = obj(r.Properties);
      let v: string;
      switch (r.Type) {
        case 'AWS::ApiGateway::RestApi':
        case 'AWS::ApiGateway::ApiKey':
          v = stableId(seed(logicalId), 10);
          break;
        case 'AWS::ApiGateway::Stage':
          v = str(resolveOr(props.StageName)) ?? logicalId;
          break;
        case 'AWS::ApiGateway::UsagePlanKey':
          v = str(resolveOr(props.KeyId)) ?? stableId(seed(logicalId), 10);
          break;
        case 'AWS::Lambda::Function':
          v = str(resolveOr(props.FunctionName)) ?? `${stackName}-${logicalId}-${stableId(seed(logicalId), 12)}`.slice(0, 64);
          break;
        case 'AWS::IAM::Role':
          v = str(resolveOr(props.RoleName)) ?? `${stackName}-${logicalId}-${stableId(seed(logicalId), 12)}`.slice(0, 64);
          break;
        case 'AWS::Cognito::UserPool':
          v = `${region}_${stableId(seed(logicalId), 9)}`;
          break;
        default:
          if (String(r.Type).startsWith('AWS::ApiGateway::')) v = stableId(seed(logicalId), 6);
          else v = `${stackName}-${logicalId}-${stableId(seed(logicalId), 12)}`;
      }
      refMemo.set(memoKey, v);
      return v;
    };
    const getAtt = (logicalId: string, attr: string): unknown => {
      const r = obj(resources[logicalId]);
      const type = str(r.Type);
      if (!type) return undefined;
      const id = ref(logicalId);
      if (id === undefined) return undefined;
      switch (`${type}.${attr}`) {
        case 'AWS::ApiGateway::RestApi.RootResourceId': return stableId(seed(logicalId) + '/root', 10);
        case 'AWS::ApiGateway::RestApi.RestApiId': return id;
        case 'AWS::ApiGateway::ApiKey.APIKeyId': return id;
        case 'AWS::ApiGateway::UsagePlan.Id': return id;
        case 'AWS::ApiGateway::Authorizer.AuthorizerId': return id;
        case 'AWS::ApiGateway::Resource.ResourceId': return id;
        case 'AWS::ApiGateway::Deployment.DeploymentId': return id;
        case 'AWS::Lambda::Function.Arn': return `arn:aws:lambda:${region}:${account}:function:${id}`;
        case 'AWS::IAM::Role.Arn': return `arn:aws:iam::${account}:role/${id}`;
        case 'AWS::IAM::Role.RoleId': return `AROA${stableId(seed(logicalId), 17).toUpperCase()}`;
        case 'AWS::Cognito::UserPool.Arn': return `arn:aws:cognito-idp:${region}:${account}:userpool/${id}`;
        case 'AWS::Cognito::UserPool.ProviderName': return `cognito-idp.${region}.amazonaws.com/${id}`;
        case 'AWS::Cognito::UserPool.ProviderURL': return `https://cognito-idp.${region}.amazonaws.com/${id}`;
        case 'AWS::SecretsManager::Secret.Id': return id;
      }
      if (attr === 'Arn') {
        const svc = type.split('::')[1]?.toLowerCase() ?? 'unknown';
        return `arn:aws:${svc}:${region}:${account}:${logicalId.toLowerCase()}/${id}`;
      }
      return `${id}.${attr}`;
    };
    const resolver = new TemplateResolver(stack.template, {
      pseudo: { region, accountId: account, partition: 'aws', urlSuffix: 'amazonaws.com', stackName, stackId },
      ref,
      getAtt,
      importValue: (name) => exportsByName.get(name),
      secretValue,
    }, stack.parameters);
    const ctx: StackCtx = { stack, stackName, stackId, resources, resolver, skipped: new Set() };

    // Conditions on resources.
    for (const [logicalId, rRaw] of Object.entries(resources)) {
      const cond = str(obj(rRaw).Condition);
      if (!cond) continue;
      try {
        if (!resolver.condition(cond)) ctx.skipped.add(logicalId);
      } catch (e) {
        report(stackName, logicalId, String(obj(rRaw).Type), `condition ${cond} cannot be evaluated: ${(e as Error).message}`);
        ctx.skipped.add(logicalId);
      }
    }

    const props = (logicalId: string): Obj | undefined => {
      const r = obj(resources[logicalId]);
      try {
        return obj(resolver.resolve(r.Properties ?? {}));
      } catch (e) {
        if (!(e instanceof UnresolvableError)) throw e;
        report(stackName, logicalId, String(r.Type), `cannot resolve its properties: ${e.message}`);
        return undefined;
      }
    };
    const ofType = (type: string): string[] =>
      Object.entries(resources).filter(([id, r]) => obj(r).Type === type && !ctx.skipped.has(id)).map(([id]) => id);

    // Unknown / inert types.
    for (const [logicalId, rRaw] of Object.entries(resources)) {
      const type = String(obj(rRaw).Type);
      if (ctx.skipped.has(logicalId) || HANDLED_TYPES.has(type)) continue;
      const item = { stack: stackName, logicalId, type, reason: '' };
      const localNote = obj(obj(rRaw).Metadata)[LOCAL_EMULATION_METADATA];
      if (typeof localNote === 'string') model.ignored.push({ ...item, reason: localNote });
      else if (INERT_TYPES.has(type)) model.ignored.push({ ...item, reason: 'no effect on the local APIs' });
      else if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') report(stackName, logicalId, type, 'custom resources are not run locally');
      else if (type === 'AWS::ApiGateway::DomainName' || type === 'AWS::ApiGateway::BasePathMapping') report(stackName, logicalId, type, 'custom domain names are not emulated; use the stage URLs');
      else if (type === 'AWS::ApiGateway::RequestValidator') report(stackName, logicalId, type, 'request validation is not emulated: requests reach the integration without being validated');
      else report(stackName, logicalId, type, `resource type ${type} is not emulated`);
    }

    // Lambda functions.
    for (const logicalId of ofType('AWS::Lambda::Function')) {
      const p = props(logicalId);
      if (!p) continue;
      const name = ref(logicalId) as string;
      const arn = getAtt(logicalId, 'Arn') as string;
      const runtime = str(p.Runtime) ?? '';
      const handler = str(p.Handler) ?? 'index.handler';
      const code = obj(p.Code);
      const meta = obj(obj(resources[logicalId]).Metadata);
      let codeDir: string | undefined;
      let inlineCode: string | undefined;
      let reason: string | undefined;
      if (typeof code.ZipFile === 'string') inlineCode = code.ZipFile;
      else if (typeof code.ImageUri === 'string') reason = 'container image functions are not run locally';
      else {
        const assetPath = str(meta['aws:asset:path']);
        const candidates: string[] = [];
        if (assetPath) candidates.push(path.isAbsolute(assetPath) ? assetPath : path.join(stack.assemblyDir, assetPath));
        const key = str(code.S3Key);
        const hash = key?.replace(/\.zip$/, '');
        const asset = hash ? asm.assets.get(hash) : undefined;
        if (asset) candidates.push(asset.path);
        codeDir = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isDirectory());
        if (!codeDir) {
          reason = candidates.length > 0
            ? `its code asset ${path.relative(asm.dir, candidates[0]) || candidates[0]} is missing from the assembly`
            : `its code is in S3 (${str(code.S3Bucket) ?? '?'}/${key ?? '?'}), not in the assembly`;
        }
      }
      if (!reason && !/^nodejs/.test(runtime)) reason = `runtime ${runtime || '(none)'} is not supported locally (Node.js only)`;
      const env = strMap(obj(p.Environment).Variables);
      const fn: LambdaFunction = {
        logicalId, stack: stackName, name, arn, runtime, handler, codeDir, inlineCode,
        environment: env, timeoutSeconds: num(p.Timeout) ?? 3, memorySize: num(p.MemorySize) ?? 128, region,
        unsupportedReason: reason,
      };
      if (reason) report(stackName, logicalId, 'AWS::Lambda::Function', reason);
      model.functions.set(arn, fn);
    }

    // REST APIs.
    for (const logicalId of ofType('AWS::ApiGateway::RestApi')) {
      const p = props(logicalId);
      if (!p) continue;
      const id = ref(logicalId) as string;
      const rootId = getAtt(logicalId, 'RootResourceId') as string;
      const root: ApiResource = { id: rootId, pathPart: '', path: '/', methods: new Map() };
      if (p.BodyS3Location !== undefined) {
        report(stackName, logicalId, 'AWS::ApiGateway::RestApi', 'its OpenAPI definition is in S3 (BodyS3Location); the routes it defines are not served, only those declared as resources in the template');
      } else if (p.Body !== undefined) {
        report(stackName, logicalId, 'AWS::ApiGateway::RestApi', 'its inline OpenAPI definition (Body) is not imported; only routes declared as resources in the template are served');
      }
      if (p.CloneFrom !== undefined) report(stackName, logicalId, 'AWS::ApiGateway::RestApi', 'CloneFrom is not emulated');
      if (bool(p.DisableExecuteApiEndpoint, false)) report(stackName, logicalId, 'AWS::ApiGateway::RestApi', 'DisableExecuteApiEndpoint is ignored: the local stage URLs serve the API anyway (there are no custom domains locally)');
      if (p.Policy !== undefined) report(stackName, logicalId, 'AWS::ApiGateway::RestApi', 'the resource policy (Policy) is not evaluated locally');
      const api: RestApi = {
        id, name: str(p.Name) ?? logicalId, description: str(p.Description), stack: stackName, logicalId,
        createdDate: now, rootResourceId: rootId, resources: new Map([[rootId, root]]), stages: new Map(),
        authorizers: new Map(), gatewayResponses: new Map(), apiKeySource: str(p.ApiKeySourceType) ?? 'HEADER',
        binaryMediaTypes: Array.isArray(p.BinaryMediaTypes) ? p.BinaryMediaTypes.map(String) : [],
        minimumCompressionSize: num(p.MinimumCompressionSize),
        disableExecuteApiEndpoint: bool(p.DisableExecuteApiEndpoint, false), tags: { ...strMap(tagsToMap(p.Tags)), ...tagsFor(logicalId) },
      };
      model.apis.set(id, api);
      apiByLogical.set(seed(logicalId), api);
    }
    const apiOf = (logicalId: string, restApiId: unknown): RestApi | undefined => {
      const api = typeof restApiId === 'string' ? model.apis.get(restApiId) : undefined;
      if (!api) report(stackName, logicalId, String(obj(resources[logicalId]).Type), `its RestApiId ${JSON.stringify(restApiId)} is not an API of this app`);
      return api;
    };

    // Resources: parents may come in any order.
    const pending = ofType('AWS::ApiGateway::Resource').map((lid) => ({ lid, p: props(lid) }));
    let progress = true;
    while (pending.length > 0 && progress) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const { lid, p } = pending[i];
        if (!p) { pending.splice(i--, 1); progress = true; continue; }
        const api = typeof p.RestApiId === 'string' ? model.apis.get(p.RestApiId) : undefined;
        if (!api) { apiOf(lid, p.RestApiId); pending.splice(i--, 1); progress = true; continue; }
        const parent = api.resources.get(String(p.ParentId));
        if (!parent) continue;
        const id = ref(lid) as string;
        const part = str(p.PathPart) ?? '';
        api.resources.set(id, { id, parentId: parent.id, pathPart: part, path: parent.path === '/' ? `/${part}` : `${parent.path}/${part}`, methods: new Map(), logicalId: lid });
        pending.splice(i--, 1);
        progress = true;
      }
    }
    for (const { lid } of pending) report(stackName, lid, 'AWS::ApiGateway::Resource', 'its ParentId is not a resource of its API');

    // Authorizers.
    for (const logicalId of ofType('AWS::ApiGateway::Authorizer')) {
      const p = props(logicalId);
      if (!p) continue;
      const api = apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      const type = str(p.Type) ?? 'TOKEN';
      let functionArn: string | undefined;
      let reason: string | undefined;
      if (type === 'TOKEN' || type === 'REQUEST') {
        functionArn = lambdaArnFromUri(str(p.AuthorizerUri));
        const fn = functionArn ? model.functions.get(functionArn) : undefined;
        if (!fn) reason = `its authorizer function (${str(p.AuthorizerUri) ?? 'no AuthorizerUri'}) is not a Lambda function of this app`;
        else if (fn.unsupportedReason) reason = `its function ${fn.logicalId} cannot run: ${fn.unsupportedReason}`;
      } else if (type === 'COGNITO_USER_POOLS') {
        reason = 'Cognito user pool tokens cannot be verified locally: requests without a token get 401, requests with one get 500';
      } else reason = `authorizer type ${type} is not supported`;
      const a: Authorizer = {
        id: ref(logicalId) as string, name: str(p.Name) ?? logicalId, type, functionArn,
        identitySource: str(p.IdentitySource) ?? (type === 'TOKEN' ? 'method.request.header.Authorization' : ''),
        identityValidationExpression: str(p.IdentityValidationExpression),
        ttlSeconds: num(p.AuthorizerResultTtlInSeconds) ?? 300, logicalId, unsupportedReason: reason,
      };
      if (reason) report(stackName, logicalId, 'AWS::ApiGateway::Authorizer', reason);
      api.authorizers.set(a.id, a);
    }

    // Methods.
    for (const logicalId of ofType('AWS::ApiGateway::Method')) {
      const p = props(logicalId);
      if (!p) continue;
      const api = apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      const res = api.resources.get(String(p.ResourceId));
      if (!res) { report(stackName, logicalId, 'AWS::ApiGateway::Method', `its ResourceId ${String(p.ResourceId)} is not a resource of API ${api.name}`); continue; }
      const httpMethod = (str(p.HttpMethod) ?? 'ANY').toUpperCase();
      const integration = integrationOf(obj(p.Integration), model);
      if (integration.unsupportedReason) report(stackName, logicalId, 'AWS::ApiGateway::Method', `${httpMethod} ${res.path}: ${integration.unsupportedReason}`);
      const authorizationType = str(p.AuthorizationType) ?? 'NONE';
      if (authorizationType === 'AWS_IAM') report(stackName, logicalId, 'AWS::ApiGateway::Method', `${httpMethod} ${res.path}: AWS_IAM (SigV4) authorization is not verified locally: signed requests get 500`);
      const m: Method = {
        httpMethod, apiKeyRequired: bool(p.ApiKeyRequired, false), authorizationType,
        authorizerId: str(p.AuthorizerId), integration, logicalId,
        methodResponses: Array.isArray(p.MethodResponses)
          ? p.MethodResponses.map((x) => ({ statusCode: String(obj(x).StatusCode ?? '200'), responseParameters: obj(obj(x).ResponseParameters) as Record<string, boolean> }))
          : [],
      };
      res.methods.set(httpMethod, m);
    }

    // Gateway responses.
    for (const logicalId of ofType('AWS::ApiGateway::GatewayResponse')) {
      const p = props(logicalId);
      if (!p) continue;
      const api = apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      const g: GatewayResponseOverride = {
        responseType: str(p.ResponseType) ?? 'DEFAULT_4XX', statusCode: str(p.StatusCode),
        responseParameters: strMap(p.ResponseParameters), responseTemplates: strMap(p.ResponseTemplates),
      };
      api.gatewayResponses.set(g.responseType, g);
    }

    // Deployments (with an inline StageName they create a stage) and stages.
    for (const logicalId of ofType('AWS::ApiGateway::Deployment')) {
      const p = props(logicalId);
      if (!p) continue;
      const api = apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      const depId = ref(logicalId) as string;
      const stageName = str(p.StageName);
      if (stageName) {
        deploymentStage.set(depId, stageName);
        const sd = obj(p.StageDescription);
        addStage(api, {
          name: stageName, deploymentId: depId, description: str(sd.Description),
          methodSettings: methodSettingsOf(sd.MethodSettings, sd), variables: strMap(sd.Variables),
          createdDate: now, tags: tagsFor(logicalId), logicalId,
        }, stackName, logicalId);
      }
    }
    for (const logicalId of ofType('AWS::ApiGateway::Stage')) {
      const p = props(logicalId);
      if (!p) continue;
      const api = apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      addStage(api, {
        name: str(p.StageName) ?? logicalId, deploymentId: str(p.DeploymentId) ?? '', description: str(p.Description),
        methodSettings: methodSettingsOf(p.MethodSettings, {}), variables: strMap(p.Variables),
        createdDate: now, tags: { ...strMap(tagsToMap(p.Tags)), ...tagsFor(logicalId) }, logicalId,
        accessLogFormat: str(obj(p.AccessLogSetting).Format),
      }, stackName, logicalId);
    }

    // Usage plans.
    for (const logicalId of ofType('AWS::ApiGateway::UsagePlan')) {
      const p = props(logicalId);
      if (!p) continue;
      const id = ref(logicalId) as string;
      const apiStages = (Array.isArray(p.ApiStages) ? p.ApiStages : []).map((sRaw) => {
        const s = obj(sRaw);
        const throttle: Record<string, ThrottleSettings> = {};
        for (const [k, v] of Object.entries(obj(s.Throttle))) {
          const t = throttleOf(v);
          if (t) throttle[k] = t;
        }
        const apiId = String(s.ApiId ?? '');
        const stage = String(s.Stage ?? '');
        const api = model.apis.get(apiId);
        if (!api) report(stackName, logicalId, 'AWS::ApiGateway::UsagePlan', `its API stage ${apiId}/${stage} is not an API of this app`);
        else if (!api.stages.has(stage)) report(stackName, logicalId, 'AWS::ApiGateway::UsagePlan', `stage ${stage} of API ${api.name} does not exist`);
        return { apiId, stage, throttle };
      });
      const planThrottle = throttleOf(p.Throttle);
      if (!planThrottle && apiStages.some((s) => Object.keys(s.throttle).length > 0)) {
        report(stackName, logicalId, 'AWS::ApiGateway::UsagePlan', 'would fail to deploy: Can not define fine grain throttling if usage plan throttle is not defined (per-method throttles ignored)');
      }
      const q = obj(p.Quota);
      const limit = num(q.Limit);
      const plan: UsagePlan = {
        id, name: str(p.UsagePlanName) ?? '', description: str(p.Description), apiStages: planThrottle ? apiStages : apiStages.map((s) => ({ ...s, throttle: {} })),
        throttle: planThrottle,
        quota: limit !== undefined ? { limit, offset: num(q.Offset) ?? 0, period: (str(q.Period) ?? 'MONTH') as QuotaPeriod } : undefined,
        tags: { ...strMap(tagsToMap(p.Tags)), ...tagsFor(logicalId) },
      };
      model.plans.set(id, plan);
      model.planKeys.set(id, new Set());
    }

    // API keys.
    for (const logicalId of ofType('AWS::ApiGateway::ApiKey')) {
      const p = props(logicalId);
      if (!p) continue;
      const key = seed(logicalId);
      let value = str(p.Value);
      if (value !== undefined && !API_KEY_VALUE_PATTERN.test(value)) {
        report(stackName, logicalId, 'AWS::ApiGateway::ApiKey', `would fail to deploy: its Value must be 20-128 alphanumeric characters (got ${value.length} characters)`);
        continue;
      }
      value = value ?? persisted?.keyValues[key] ?? generateKeyValue();
      if (str(p.Value) === undefined) generated.keyValues[key] = value;
      const stageKeys = (Array.isArray(p.StageKeys) ? p.StageKeys : []).map((s) => `${String(obj(s).RestApiId)}/${String(obj(s).StageName)}`);
      try {
        model.addKey({
          id: ref(logicalId) as string, name: str(p.Name) ?? `${stackName}-${logicalId}-${stableId(key, 12).toUpperCase()}`.slice(0, 128),
          description: str(p.Description), value, enabled: bool(p.Enabled, false), createdDate: now, lastUpdatedDate: now,
          customerId: str(p.CustomerId), stageKeys, tags: { ...strMap(tagsToMap(p.Tags)), ...tagsFor(logicalId) },
        });
      } catch (e) {
        if (!(e instanceof ApiGatewayError)) throw e;
        report(stackName, logicalId, 'AWS::ApiGateway::ApiKey', `would fail to deploy: ${e.message} (another key has the same value)`);
      }
    }

    // Secrets, with their rotation schedules (for the local Secrets Manager).
    const rotations = new Map<string, SecretSeed['rotation']>();
    for (const logicalId of ofType('AWS::SecretsManager::RotationSchedule')) {
      const p = props(logicalId);
      const secretArn = str(p?.SecretId);
      const lambdaArn = str(p?.RotationLambdaARN);
      if (!secretArn || !lambdaArn) continue;
      rotations.set(secretArn, { lambdaArn, scheduleExpression: str(obj(p?.RotationRules).ScheduleExpression) });
    }
    for (const logicalId of ofType('AWS::SecretsManager::Secret')) {
      const p = props(logicalId);
      const arn = refMemo.get(seed(logicalId));
      const entry = secrets.find((x) => x.arn === arn);
      if (!p || !arn || !entry) continue;
      secretSeeds.push({
        arn, name: entry.name, value: secretValue(arn, undefined) ?? '', description: str(p.Description),
        tags: strMap(tagsToMap(p.Tags)), rotation: rotations.get(arn),
      });
    }

    // Schedule rules that invoke the app's functions.
    for (const logicalId of ofType('AWS::Events::Rule')) {
      const p = props(logicalId);
      if (!p) continue;
      if (p.EventPattern !== undefined && p.ScheduleExpression === undefined) {
        // A rule on AWS events (e.g. the audit trail on CloudTrail calls) watches the APIs; it doesn't serve them.
        model.ignored.push({ stack: stackName, logicalId, type: 'AWS::Events::Rule', reason: 'an event-pattern rule: the local gateway emits no AWS events' });
        continue;
      }
      const rate = rateMs(str(p.ScheduleExpression) ?? '');
      if (rate === undefined || str(p.State) === 'DISABLED') {
        report(stackName, logicalId, 'AWS::Events::Rule', 'only enabled rate(...) schedules run locally (no event patterns, no cron)');
        continue;
      }
      for (const target of Array.isArray(p.Targets) ? p.Targets.map(obj) : []) {
        const lambdaArn = str(target.Arn);
        let event: object = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
        try {
          if (typeof target.Input === 'string') event = obj(JSON.parse(target.Input));
        } catch {
          report(stackName, logicalId, 'AWS::Events::Rule', 'target Input is not JSON');
          continue;
        }
        if (!lambdaArn || !model.functions.has(lambdaArn)) report(stackName, logicalId, 'AWS::Events::Rule', `target ${lambdaArn ?? '(none)'} is not a Lambda function of this app`);
        else schedules.push({ stack: stackName, ruleLogicalId: logicalId, rateMs: rate, lambdaArn, event });
      }
    }

    // Plan ↔ key associations.
    for (const logicalId of ofType('AWS::ApiGateway::UsagePlanKey')) {
      const p = props(logicalId);
      if (!p) continue;
      try {
        model.addPlanKey(String(p.UsagePlanId), String(p.KeyId));
      } catch (e) {
        if (!(e instanceof ApiGatewayError)) throw e;
        report(stackName, logicalId, 'AWS::ApiGateway::UsagePlanKey', `would fail to deploy: ${e.message}`);
      }
    }

    // Outputs with exports.
    for (const [outId, oRaw] of Object.entries(obj(stack.template.Outputs))) {
      const o = obj(oRaw);
      if (o.Export === undefined) continue;
      try {
        const name = resolver.resolve(obj(o.Export).Name);
        const value = resolver.resolve(o.Value);
        if (typeof name === 'string') exportsByName.set(name, typeof value === 'string' ? value : JSON.stringify(value));
      } catch (e) {
        if (!(e instanceof UnresolvableError)) throw e;
        report(stackName, outId, 'Output', `cannot resolve its export: ${e.message}`);
      }
    }
  }

  function addStage(api: RestApi, stage: Stage, stackName: string, logicalId: string): void {
    if (api.stages.has(stage.name)) {
      report(stackName, logicalId, 'AWS::ApiGateway::Stage', `would fail to deploy: stage ${stage.name} already exists in API ${api.name}`);
      return;
    }
    api.stages.set(stage.name, stage);
  }

  return { model, generated, secrets: secretSeeds, schedules };
}

function tagsToMap(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(tags)) for (const t of tags) out[String(obj(t).Key)] = String(obj(t).Value);
  else Object.assign(out, strMap(tags));
  return out;
}

/** Decodes a MethodSettings ResourcePath: `/~1pets~1{id}` → `/pets/{id}` (the leading `/` separates, `~1` is a `/`), `/*` stays. */
export function decodeSettingsPath(p: string): string {
  if (p === '/*' || p === '*') return '/*';
  const decoded = p.replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
  return decoded === '' ? '/' : decoded.startsWith('/') ? decoded : `/${decoded}`;
}

function methodSettingsOf(list: unknown, stageDescription: Obj): Map<string, ThrottleSettings> {
  const m = new Map<string, ThrottleSettings>();
  const rate = num(stageDescription.ThrottlingRateLimit);
  const burst = num(stageDescription.ThrottlingBurstLimit);
  if (rate !== undefined || burst !== undefined) m.set('/* *', { rateLimit: rate, burstLimit: burst });
  for (const sRaw of Array.isArray(list) ? list : []) {
    const s = obj(sRaw);
    const rateLimit = num(s.ThrottlingRateLimit);
    const burstLimit = num(s.ThrottlingBurstLimit);
    if (rateLimit === undefined && burstLimit === undefined) continue;
    const p = decodeSettingsPath(str(s.ResourcePath) ?? '/*');
    m.set(`${p} ${(str(s.HttpMethod) ?? '*').toUpperCase()}`, { rateLimit, burstLimit });
  }
  return m;
}

/** `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations` → FUNCTION_ARN (unqualified). */
export function lambdaArnFromUri(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const m = /:lambda:path\/[^/]+\/functions\/(arn:[^/]+)\/invocations/.exec(uri);
  if (!m) return undefined;
  const parts = m[1].split(':');
  return parts.slice(0, 7).join(':');
}

function integrationOf(i: Obj, model: Model): Integration {
  const type = (str(i.Type) ?? 'MOCK').toUpperCase();
  const responses: IntegrationResponse[] = (Array.isArray(i.IntegrationResponses) ? i.IntegrationResponses : []).map((rRaw) => {
    const r = obj(rRaw);
    return {
      statusCode: String(r.StatusCode ?? '200'), selectionPattern: str(r.SelectionPattern),
      responseTemplates: strMap(r.ResponseTemplates), responseParameters: strMap(r.ResponseParameters),
    };
  });
  const base = {
    type, uri: str(i.Uri), httpMethod: str(i.IntegrationHttpMethod), requestTemplates: strMap(i.RequestTemplates),
    requestParameters: strMap(i.RequestParameters), integrationResponses: responses,
    passthroughBehavior: str(i.PassthroughBehavior), timeoutMs: num(i.TimeoutInMillis) ?? 29_000,
  };
  switch (type) {
    case 'MOCK':
      return base;
    case 'HTTP':
    case 'HTTP_PROXY':
      if (str(i.ConnectionType) === 'VPC_LINK') return { ...base, unsupportedReason: `${type} integration through a VPC link is not supported locally` };
      if (!base.uri || !(/^https?:\/\//.test(base.uri) || base.uri.startsWith('${stageVariables.'))) return { ...base, unsupportedReason: `${type} integration has no http(s) Uri` };
      return base;
    case 'AWS_PROXY': {
      const arn = lambdaArnFromUri(base.uri);
      const fn = arn ? model.functions.get(arn) : undefined;
      if (!fn) return { ...base, unsupportedReason: `AWS_PROXY integration to ${base.uri ?? '(no Uri)'}, which is not a Lambda function of this app` };
      if (fn.unsupportedReason) return { ...base, functionArn: arn, unsupportedReason: `Lambda function ${fn.logicalId} cannot run: ${fn.unsupportedReason}` };
      return { ...base, functionArn: arn };
    }
    case 'AWS':
      return { ...base, unsupportedReason: `AWS (non-proxy) integration to ${base.uri ?? '(no Uri)'} is not supported locally` };
    default:
      return { ...base, unsupportedReason: `integration type ${type} is not supported locally` };
  }
}
