import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Annotations, CfnResource } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IKeyProtectedApi } from './api-contract';
import { KeygateAccessLogFormat } from './monitoring/access-log';
import { StageAccessLogInsights } from './monitoring/access-log-insights';
import { KeygateAlarms, KeygateAlarmsOptions } from './monitoring/alarms';
import { KeygateAlertTopic } from './monitoring/alert-topic';
import { KeygateAuditTrail, KeygateAuditTrailOptions } from './monitoring/audit-trail';
import { ClientSet, ClientSetOptions } from './bulk/client-set';
import { Client, ClientOptions } from './client';
import { KeygateDashboard, KeygateDashboardOptions } from './monitoring/dashboard';
import { formatProblem, KeygateError } from './errors';
import { pascal } from './monitoring/names';
import { KeyHygiene, KeyHygieneOptions } from './lifecycle/key-hygiene';
import { QUOTA_WARNINGS_CONSTRUCT_ID } from './shared/quota-metrics';
import { QuotaWarnings, QuotaWarningsOptions } from './lifecycle/quota-warnings';
import { defaultGatewayResponses } from './gateway-responses';
import { acknowledgeNag } from './common/nag';
import { recordStageName, registryOf, stageNameOf } from './registry';
import { formatRoute, methodSettingsKey, ParsedRoute, parseRoute } from './route';
import { Tier, TierOptions } from './tier';
import { validateStageName, validateThrottle } from './validation';

/** Settings of one deployed stage. */
export interface ApiStageOptions {
  /**
   * Stage-level throttle, applied to all clients together.
   * @default - the account's limit applies (10,000 rps, burst 5,000 by default)
   */
  readonly throttle?: apigw.ThrottleSettings;

  /**
   * Stage-level throttles per route, e.g. `{ 'POST /pets': { rateLimit: 10, burstLimit: 5 } }`.
   * @default - none
   */
  readonly methodThrottles?: { [route: string]: apigw.ThrottleSettings };

  /**
   * Execution log level in CloudWatch Logs. Data tracing (full request logging) is never
   * switched on, since it would log the `x-api-key` header.
   * @default apigw.MethodLoggingLevel.ERROR
   */
  readonly loggingLevel?: apigw.MethodLoggingLevel;

  /**
   * Writes one JSON access-log line per request (request id, API key id, method, path,
   * status, error message and type) to a log group of this stage.
   * @default true
   */
  readonly accessLogging?: boolean;

  /**
   * How long access logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly accessLogRetention?: logs.RetentionDays;

  /**
   * Detailed CloudWatch metrics per method.
   * @default true
   */
  readonly metricsEnabled?: boolean;

  /**
   * AWS X-Ray tracing.
   * @default false
   */
  readonly tracingEnabled?: boolean;

  /**
   * Stage variables.
   * @default - none
   */
  readonly variables?: { [name: string]: string };

  /**
   * Description of the stage.
   * @default - none
   */
  readonly description?: string;

  /**
   * Set when usage plans outside this app (imported with `Tier.fromUsagePlanId`) cover this
   * stage. Without it, keygate fails synth when a key-required route is on a stage that no
   * tier covers, since every caller would get 403.
   * @default false
   */
  readonly coveredByExternalTiers?: boolean;
}

/** Properties of a KeyProtectedApi. */
export interface KeyProtectedApiProps {
  /**
   * Name of the REST API.
   * @default - the construct id
   */
  readonly restApiName?: string;

  /**
   * Description of the REST API.
   * @default - none
   */
  readonly description?: string;

  /**
   * Where API Gateway reads the key: the `x-api-key` header, or the `usageIdentifierKey`
   * that a Lambda authorizer returns. With AUTHORIZER, every key-required route needs a
   * Lambda (token or request) authorizer.
   * @default apigw.ApiKeySourceType.HEADER
   */
  readonly apiKeySource?: apigw.ApiKeySourceType;

  /**
   * Authorizer for key-required routes that don't name their own. API keys identify clients
   * for usage plans; AWS advises an authorizer (Cognito, Lambda or IAM) for access control.
   * @default - none: the API key is the only check, and keygate warns at synth
   */
  readonly defaultAuthorizer?: apigw.IAuthorizer;

  /**
   * OAuth scopes for the default authorizer (Cognito).
   * @default - none
   */
  readonly defaultAuthorizationScopes?: string[];

  /**
   * Name of the stage deployed with the API.
   * @default 'prod'
   */
  readonly stageName?: string;

  /**
   * Settings of the stage deployed with the API.
   * @default - see ApiStageOptions
   */
  readonly stage?: ApiStageOptions;

  /**
   * Endpoint types.
   * @default [apigw.EndpointType.REGIONAL]
   */
  readonly endpointTypes?: apigw.EndpointType[];

  /**
   * Creates the account-level role that lets API Gateway write logs. Logging fails to deploy
   * in an account where no such role is set; switch this off where another stack sets it.
   * @default true
   */
  readonly cloudWatchRole?: boolean;

  /**
   * Adds keygate's JSON gateway responses for INVALID_API_KEY (403),
   * MISSING_AUTHENTICATION_TOKEN (403), THROTTLED (429) and QUOTA_EXCEEDED (429). Each can
   * be replaced with `addGatewayResponse`.
   * @default true
   */
  readonly jsonGatewayResponses?: boolean;
}

/** Options of one route. */
export interface RouteOptions {
  /**
   * Whether a caller must send an API key. Set false for public routes such as `/health`.
   * @default true
   */
  readonly apiKeyRequired?: boolean;

  /**
   * Authorizer of this route.
   * @default - the API's defaultAuthorizer for key-required routes, none for public ones
   */
  readonly authorizer?: apigw.IAuthorizer;

  /**
   * Authorization type, e.g. IAM. Not needed with an authorizer, which sets its own.
   * @default - from the authorizer, else NONE
   */
  readonly authorizationType?: apigw.AuthorizationType;

  /**
   * OAuth scopes (Cognito authorizers).
   * @default - the API's defaultAuthorizationScopes when the default authorizer applies
   */
  readonly authorizationScopes?: string[];

  /**
   * Further method options (request parameters, validators, method responses, models).
   * Its authorization and apiKeyRequired fields are ignored in favour of the ones above.
   * @default - none
   */
  readonly methodOptions?: apigw.MethodOptions;
}

interface RouteEntry {
  readonly route: ParsedRoute;
  readonly method: apigw.Method;
  readonly apiKeyRequired: boolean;
  readonly customAuthorizer: boolean;
}

interface StageEntry {
  readonly stage: apigw.Stage;
  readonly options: ApiStageOptions;
  /** The stage's JSON access log, unless accessLogging is off. */
  readonly accessLogGroup?: logs.LogGroup;
}

/**
 * A REST API on Amazon API Gateway whose routes require an API key unless declared public,
 * with a deployed stage, JSON access logs, JSON gateway responses, usage-plan tiers and
 * clients. It wraps `aws-cdk-lib/aws-apigateway` RestApi, which stays reachable as `restApi`.
 */
export class KeyProtectedApi extends Construct implements IKeyProtectedApi {
  /** The underlying RestApi. */
  public readonly restApi: apigw.RestApi;
  /** The stage deployed with the API. */
  public readonly defaultStage: apigw.Stage;
  /** Where API Gateway reads the key. */
  public readonly apiKeySource: apigw.ApiKeySourceType;

  private readonly routes = new Map<string, RouteEntry>();
  private readonly stageEntries: StageEntry[] = [];
  /** keygate's default responses by type, until addGatewayResponse replaces one. */
  private readonly defaultResponses = new Map<string, { readonly holder: Construct; readonly resource: apigw.CfnGatewayResponse }>();
  /** Responses added with addGatewayResponse, by type. */
  private readonly gatewayResponses = new Map<string, apigw.GatewayResponse>();
  private readonly defaultAuthorizer?: apigw.IAuthorizer;
  private readonly defaultAuthorizationScopes?: string[];

  constructor(scope: Construct, id: string, props: KeyProtectedApiProps = {}) {
    super(scope, id);
    this.apiKeySource = props.apiKeySource ?? apigw.ApiKeySourceType.HEADER;
    this.defaultAuthorizer = props.defaultAuthorizer;
    this.defaultAuthorizationScopes = props.defaultAuthorizationScopes;

    const stageName = props.stageName ?? 'prod';
    validateStageName(this, 'stageName', stageName);
    const stageOptions = props.stage ?? {};
    this.restApi = new apigw.RestApi(this, 'Api', {
      restApiName: props.restApiName ?? id,
      description: props.description,
      apiKeySourceType: this.apiKeySource,
      endpointTypes: props.endpointTypes ?? [apigw.EndpointType.REGIONAL],
      cloudWatchRole: props.cloudWatchRole ?? true,
      deployOptions: this.renderStageOptions(this, stageName, stageOptions),
    });
    this.defaultStage = this.restApi.deploymentStage;
    if (this.restApi.node.tryFindChild('CloudWatchRole')) {
      acknowledgeNag(this.restApi.node.findChild('CloudWatchRole'), 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The AWS-managed policy API Gateway\'s account-level role needs to write access and execution logs to CloudWatch Logs.');
    }
    this.stageEntries.push({ stage: this.defaultStage, options: stageOptions, accessLogGroup: accessLogGroupIn(this) });
    recordStageName(this.defaultStage, stageName);

    if (props.jsonGatewayResponses ?? true) {
      for (const options of defaultGatewayResponses(this.apiKeySource)) {
        this.putDefaultGatewayResponse(options);
      }
    }
    this.node.addValidation({ validate: () => this.validateAtSynth() });
  }

  /** The invoke URL of the default stage, ending in `/`. */
  public get url(): string {
    return this.restApi.url;
  }

  /** All deployed stages, the default one first. */
  public get stages(): apigw.Stage[] {
    return this.stageEntries.map((entry) => entry.stage);
  }

  /** Every declared route, as `METHOD /path`. */
  public get routeKeys(): string[] {
    return [...this.routes.keys()];
  }

  /**
   * Adds a route such as `'GET /pets/{id}'`, `'ANY /files/{proxy+}'` or `'GET /'`, served by
   * any aws-cdk-lib Integration. It requires an API key unless `apiKeyRequired: false`.
   */
  public addRoute(route: string, integration: apigw.Integration, options: RouteOptions = {}): apigw.Method {
    const parsed = parseRoute(route);
    if (typeof parsed === 'string') throw KeygateError.of(this, 'route', parsed, route);
    const key = formatRoute(parsed);
    if (this.routes.has(key)) throw KeygateError.of(this, 'route', 'is declared twice', route);

    const apiKeyRequired = options.apiKeyRequired ?? true;
    const explicitAuth = options.authorizer !== undefined || options.authorizationType !== undefined;
    const authorizer = options.authorizer ?? (apiKeyRequired && !explicitAuth ? this.defaultAuthorizer : undefined);
    const authorizationScopes = options.authorizationScopes
      ?? (authorizer !== undefined && authorizer === this.defaultAuthorizer ? this.defaultAuthorizationScopes : undefined);

    const resource = this.restApi.root.resourceForPath(parsed.path);
    const method = resource.addMethod(parsed.httpMethod, integration, {
      ...options.methodOptions,
      apiKeyRequired,
      authorizer,
      authorizationType: authorizer?.authorizationType ?? options.authorizationType ?? apigw.AuthorizationType.NONE,
      authorizationScopes,
    });
    const authorizationType = authorizer?.authorizationType ?? options.authorizationType ?? apigw.AuthorizationType.NONE;
    if (apiKeyRequired && authorizationType === apigw.AuthorizationType.NONE) {
      Annotations.of(method).addWarningV2('keygate:apiKeyOnlyAuthorization',
        `${key}: the API key is the only check on this route. API keys identify clients for usage plans and are ` +
        'not meant for authorization; add an authorizer (Cognito, Lambda or IAM) for per-user access control.');
    }
    this.routes.set(key, {
      route: parsed,
      method,
      apiKeyRequired,
      customAuthorizer: authorizationType === apigw.AuthorizationType.CUSTOM,
    });
    return method;
  }

  /** The method of a declared route, or undefined. */
  public findRoute(route: string): apigw.Method | undefined {
    const parsed = parseRoute(route);
    return typeof parsed === 'string' ? undefined : this.routes.get(formatRoute(parsed))?.method;
  }

  /**
   * Deploys the API's current routes to a further stage (for example staging beside prod),
   * with its own settings.
   */
  public addStage(stageName: string, options: ApiStageOptions = {}): apigw.Stage {
    validateStageName(this, 'stageName', stageName);
    if (this.stageEntries.some((entry) => stageNameOf(entry.stage) === stageName)) {
      throw KeygateError.of(this, 'stageName', 'a stage of that name exists already', stageName);
    }
    const stageScope = new Construct(this, `Stage${pascal(stageName)}`);
    const deployment = this.restApi.latestDeployment;
    if (!deployment) throw KeygateError.of(this, 'stageName', 'the API has no deployment to stage');
    const stage = new apigw.Stage(stageScope, 'Stage', {
      deployment,
      ...this.renderStageOptions(stageScope, stageName, options),
    });
    this.stageEntries.push({ stage, options, accessLogGroup: accessLogGroupIn(stageScope) });
    recordStageName(stage, stageName);
    return stage;
  }

  /** Adds a usage-plan tier; by default it covers every stage of this API. */
  public addTier(id: string, options: TierOptions = {}): Tier {
    return new Tier(this, id, { ...options, api: this });
  }

  /** Adds a client: an API key (or several key generations) in one or more tiers. */
  public addClient(id: string, options: ClientOptions): Client {
    return new Client(this.clientsScope(), id, options);
  }

  /**
   * Adds a bulk client set: thousands of clients (from code or a CSV/JSON file) in a constant
   * number of CloudFormation resources, reconciled by a custom resource.
   */
  public addClientSet(id: string, options: ClientSetOptions): ClientSet {
    return new ClientSet(this.clientsScope(), id, { ...options, api: this });
  }

  /** Disables the keys of this API's tiers that had no requests for a while, on a schedule. */
  public addKeyHygiene(options: KeyHygieneOptions): KeyHygiene {
    return new KeyHygiene(this, 'KeyHygiene', { ...options, api: this });
  }

  /** Publishes quota use per key and tier as CloudWatch metrics, with alarms at thresholds. */
  public addQuotaWarnings(options: QuotaWarningsOptions = {}): QuotaWarnings {
    return new QuotaWarnings(this, QUOTA_WARNINGS_CONSTRUCT_ID, { ...options, api: this });
  }

  /**
   * Adds a gateway response. A keygate default of the same type is replaced, so this is also
   * how to override keygate's JSON bodies.
   */
  public addGatewayResponse(id: string, options: apigw.GatewayResponseOptions): apigw.GatewayResponse {
    const type = options.type.responseType;
    if (this.gatewayResponses.has(type)) {
      throw KeygateError.of(this, 'type', 'a gateway response of this type was added already; an API has one per type', type);
    }
    const replaced = this.defaultResponses.get(type);
    if (replaced) {
      // Drop keygate's default, and the deployment's DependsOn on it with it.
      (this.restApi.latestDeployment?.node.defaultChild as CfnResource | undefined)?.removeResourceDependency(replaced.resource);
      this.node.tryRemoveChild(replaced.holder.node.id);
      this.defaultResponses.delete(type);
    }
    const response = new apigw.GatewayResponse(this, id, { restApi: this.restApi, ...options });
    this.gatewayResponses.set(type, response);
    return response;
  }

  /** Number of 4XX responses on the default stage (403 and 429 among them). */
  public metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.defaultStage.metricClientError(props);
  }

  /** Number of 5XX responses on the default stage. */
  public metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.defaultStage.metricServerError(props);
  }

  /** Number of requests on the default stage. */
  public metricCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.defaultStage.metricCount(props);
  }

  /** Latency from request to response on the default stage. */
  public metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.defaultStage.metricLatency(props);
  }

  /** The JSON access-log group of a stage of this API; undefined when its access logging is off. */
  public accessLogGroupOf(stage: apigw.Stage): logs.ILogGroup | undefined {
    return this.stageEntries.find((entry) => entry.stage === stage)?.accessLogGroup;
  }

  /**
   * The metric filters and Contributor Insights rules on a stage's access log, created on
   * first use and shared by the dashboard and the alarms. Undefined when the stage has no
   * access log.
   */
  public accessLogInsights(stage: apigw.Stage): StageAccessLogInsights | undefined {
    const logGroup = this.accessLogGroupOf(stage);
    if (!logGroup) return undefined;
    const stageName = stageNameOf(stage);
    const id = `AccessLogInsights${pascal(stageName)}`;
    return (this.node.tryFindChild(id) as StageAccessLogInsights | undefined)
      ?? new StageAccessLogInsights(this, id, { stage, stageName, logGroup });
  }

  /**
   * The SNS topic (KMS-encrypted, TLS only) that keygate's alarms and audit trail notify,
   * created on first use. Subscribe to it, or pass your own `topic` to addAlarms/addAuditTrail.
   */
  public get alertTopic(): sns.ITopic {
    const existing = this.node.tryFindChild('AlertTopic') as KeygateAlertTopic | undefined;
    return (existing ?? new KeygateAlertTopic(this, 'AlertTopic')).topic;
  }

  /** Adds the CloudWatch dashboard of this API: traffic, latency, rejections by reason and top keys per stage. */
  public addDashboard(options: KeygateDashboardOptions = {}): KeygateDashboard {
    return new KeygateDashboard(this, this.monitoringId('Dashboard'), { ...options, api: this });
  }

  /** Adds keygate's alarms (5XX rate, 429 rate, one key carrying most traffic) per stage, sent to one SNS topic. */
  public addAlarms(options: KeygateAlarmsOptions = {}): KeygateAlarms {
    return new KeygateAlarms(this, this.monitoringId('Alarms'), { ...options, api: this });
  }

  /**
   * Adds the audit trail of API keys and usage-plan keys (created, changed, deleted, value
   * revealed) from CloudTrail, to a log group and to the alert topic.
   */
  public addAuditTrail(options: KeygateAuditTrailOptions = {}): KeygateAuditTrail {
    return new KeygateAuditTrail(this, this.monitoringId('AuditTrail'), { ...options, topic: options.topic ?? this.alertTopic });
  }

  /** Whether some route of this API requires an API key. */
  public get hasKeyRequiredRoutes(): boolean {
    return [...this.routes.values()].some((entry) => entry.apiKeyRequired);
  }

  /** The construct id of a monitoring part, which an API has at most one of. */
  private monitoringId(id: string): string {
    if (this.node.tryFindChild(id)) throw KeygateError.of(this, `add${id}`, 'an API has one; it was added already');
    return id;
  }

  private clientsScope(): Construct {
    return (this.node.tryFindChild('Clients') as Construct | undefined) ?? new Construct(this, 'Clients');
  }

  /**
   * A keygate default response, as an L1 resource: unlike the L2 GatewayResponse, whose
   * deployment dependency can't be undone, it can be replaced by addGatewayResponse.
   */
  private putDefaultGatewayResponse(options: apigw.GatewayResponseOptions): void {
    const type = options.type.responseType;
    const responseParameters: { [name: string]: string } = {};
    for (const [header, value] of Object.entries(options.responseHeaders ?? {})) {
      responseParameters[`gatewayresponse.header.${header}`] = value;
    }
    // Same construct path (and so the same logical id) as an L2 GatewayResponse would have.
    const holder = new Construct(this, `Response${pascal(type)}`);
    const response = new apigw.CfnGatewayResponse(holder, 'Resource', {
      restApiId: this.restApi.restApiId,
      responseType: type,
      statusCode: options.statusCode,
      responseParameters,
      responseTemplates: options.templates,
    });
    const deployment = this.restApi.latestDeployment;
    (deployment?.node.defaultChild as CfnResource | undefined)?.addResourceDependency(response);
    // A changed response needs a new deployment to take effect.
    deployment?.addToLogicalId({ keygateGatewayResponse: { type, statusCode: options.statusCode, responseParameters, templates: options.templates } });
    this.defaultResponses.set(type, { holder, resource: response });
  }

  private renderStageOptions(scope: Construct, stageName: string, options: ApiStageOptions): apigw.StageOptions {
    validateThrottle(scope, 'throttle', options.throttle);
    const methodOptions: { [path: string]: apigw.MethodDeploymentOptions } = {};
    for (const [route, throttle] of Object.entries(options.methodThrottles ?? {})) {
      const parsed = parseRoute(route);
      if (typeof parsed === 'string') throw KeygateError.of(scope, `methodThrottles['${route}']`, parsed, route);
      validateThrottle(scope, `methodThrottles['${route}']`, throttle);
      if (methodOptions[methodSettingsKey(parsed)]) {
        throw KeygateError.of(scope, 'methodThrottles', 'names the same route twice', route);
      }
      // A per-method entry is a MethodSetting of its own: it carries the stage's logging and
      // metrics so that throttling a route doesn't switch them off for it.
      methodOptions[methodSettingsKey(parsed)] = {
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        loggingLevel: options.loggingLevel ?? apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: options.metricsEnabled ?? true,
        dataTraceEnabled: false,
      };
    }
    const accessLogGroup = (options.accessLogging ?? true)
      ? new logs.LogGroup(scope, 'AccessLogs', {
        retention: options.accessLogRetention ?? logs.RetentionDays.THREE_MONTHS,
      })
      : undefined;
    return {
      stageName,
      description: options.description,
      throttlingRateLimit: options.throttle?.rateLimit,
      throttlingBurstLimit: options.throttle?.burstLimit,
      methodOptions: Object.keys(methodOptions).length > 0 ? methodOptions : undefined,
      loggingLevel: options.loggingLevel ?? apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: options.metricsEnabled ?? true,
      tracingEnabled: options.tracingEnabled ?? false,
      variables: options.variables,
      accessLogDestination: accessLogGroup ? new apigw.LogGroupLogDestination(accessLogGroup) : undefined,
      accessLogFormat: accessLogGroup ? KeygateAccessLogFormat.json() : undefined,
    };
  }

  private validateAtSynth(): string[] {
    const errors: string[] = [];
    for (const { stage, options } of this.stageEntries) {
      for (const route of Object.keys(options.methodThrottles ?? {})) {
        const parsed = parseRoute(route);
        if (typeof parsed !== 'string' && !this.routes.has(formatRoute(parsed))) {
          errors.push(formatProblem(this, `stage '${stageNameOf(stage)}' methodThrottles`, 'no such route on this API', route));
        }
      }
    }
    if (this.apiKeySource === apigw.ApiKeySourceType.AUTHORIZER) {
      for (const [key, entry] of this.routes) {
        if (entry.apiKeyRequired && !entry.customAuthorizer) {
          errors.push(formatProblem(this, `route '${key}'`,
            'with apiKeySource AUTHORIZER a key-required route needs a Lambda authorizer that returns usageIdentifierKey; every call would get 403'));
        }
      }
    }
    if (this.hasKeyRequiredRoutes) {
      const tiers = registryOf(this).tiers;
      for (const { stage, options } of this.stageEntries) {
        if (options.coveredByExternalTiers) continue;
        const covered = tiers.some((tier) => tier.coveredStages()?.includes(stage));
        if (!covered) {
          errors.push(formatProblem(this, `stage '${stageNameOf(stage)}'`,
            'has key-required routes but no tier covers it, so every caller would get 403; add a tier for it (or set coveredByExternalTiers)'));
        }
      }
    }
    return errors;
  }
}

function accessLogGroupIn(scope: Construct): logs.LogGroup | undefined {
  return scope.node.tryFindChild('AccessLogs') as logs.LogGroup | undefined;
}
