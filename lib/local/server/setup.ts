/**
 * The gateway's services, set up from a cloud assembly and the state file: the model, the
 * local Secrets Manager, SNS and CloudWatch, the API Gateway data and control planes, the
 * dashboard, and the registry that dispatches the AWS services' requests.
 */
import { CloudAssembly, loadAssembly } from '../cloudformation/assembly';
import { buildModel } from '../cloudformation/build-model';
import { ControlPlane } from '../apigateway/control-plane/control-plane';
import { createDataPlane, DataPlaneHandler, RequestRecord } from '../apigateway/data-plane';
import { QuotaCounter } from '../apigateway/data-plane/quota';
import { ThrottleRegistry } from '../apigateway/data-plane/throttle';
import { Model, ThrottleSettings } from '../apigateway/model';
import { RequestActivity } from '../dashboard/activity';
import { Dashboard } from '../dashboard/dashboard';
import { ScheduledInvocation } from '../events/schedules';
import { localAwsInvoker, LocalAwsInvoker, localLambdaInvoker } from '../lambda/aws-invoker';
import { CustomResourceRecords, DeclaredCustomResource } from '../cloudformation/context';
import { ProviderFramework } from '../cloudformation/provider-framework';
import { keptAssemblyDir, keptProviders, Providers } from '../cloudformation/kept-providers';
import { assemblyAssets, LocalS3 } from '../s3/service';
import { LocalEventBus } from '../events/bus';
import { FirehoseSeed, LocalFirehose } from '../firehose/service';
import { LambdaFunction } from '../apigateway/model';
import { LambdaRunner } from '../lambda/runner';
import { localCognitoOf } from '../cognito/serve';
import { LocalCognito } from '../cognito/service';
import { LocalCloudWatch } from '../cloudwatch/service';
import { LocalSecretsManager, RotationInvoker } from '../secrets-manager/service';
import { LocalSns, TopicSeed } from '../sns/service';
import { LocalMarketplaceMetering } from '../marketplace-metering/service';
import { marketplaceTopicProductCode } from '../../shared/marketplace';
import { ServiceRegistry } from '../services';
import { applyState, readState, snapshotState, StateFile, StateStore, templatePlanFingerprints } from '../state';
import { apiInfos } from './info';
import { setUpMonitoring, withLambdaMetrics } from './monitoring';
import { AlarmEvaluator } from '../cloudwatch/alarms';
import { SnsSigner } from '../sns/signing';

export interface LocalGatewayOptions {
  /** A cloud assembly directory (a `cdk.out` folder). */
  readonly assemblyDir: string;
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Keeps keys, associations and quota counters in this file across restarts. */
  readonly statePath?: string;
  /** Milliseconds since the epoch; injectable for tests of throttles and quota periods. */
  readonly clock?: () => number;
  /** When the app's keys count as created (ms since the epoch); with a shifted `clock`, time travel. Default: `clock()` at start. */
  readonly deployedAt?: number;
  /** Include key values in `info.keys[].value`. */
  readonly showValues?: boolean;
  /** Where diagnostics go (Lambda output, integration errors). Default: stderr. */
  readonly log?: (line: string) => void;
  /** Receives the access log lines of stages that have an AccessLogSetting (rendered with their Format). Default: none. */
  readonly accessLog?: (line: string) => void;
  /**
   * Called once per finished data-plane request with what happened (never a key value), e.g.
   * for a dashboard. Keep it fast: it runs on the request's path. Default: none.
   */
  readonly onRequest?: (record: RequestRecord) => void;
  /** Account-level throttle of the data plane. Default: API Gateway's 10,000 rps with a burst of 5,000. */
  readonly accountThrottle?: ThrottleSettings;
  /** Emulate the control plane's rate limits (429) and one-at-a-time CreateUsagePlanKey (409). Default: off. */
  readonly controlPlaneLimits?: boolean;
  /**
   * Run the first rotation of every secret that has a rotation schedule once the gateway
   * listens, as Secrets Manager does when CloudFormation creates the schedule: a rotating
   * client gets its first key. Default: off.
   */
  readonly rotateOnStart?: boolean;
  /** Runs the steps of a RotateSecret. Default: the app's rotation Lambda, in a worker, calling back into this gateway. */
  readonly invokeRotation?: RotationInvoker;
  /**
   * How much faster than the wall the custom resources' handlers' clock runs (their Date,
   * timers and Lambda timeout, the waiter's intervals): the rate limits a handler keeps itself
   * (keygate's reconciler paces its calls to API Gateway's) take that much less time. Default: 100.
   */
  readonly customResourceClockRate?: number;
  /**
   * Run the template's custom resources at start (and on a change), as CloudFormation does.
   * Off for callers that play CloudFormation themselves (the Provider-framework harness of the
   * tests). Default: on.
   */
  readonly runCustomResources?: boolean;
}

/** Custom resources run on a clock 100 times as fast as the wall's (see customResourceClockRate). */
export const DEFAULT_CUSTOM_RESOURCE_CLOCK_RATE = 100;

/** Everything the gateway runs, wired together. */
export interface GatewayServices {
  readonly model: Model;
  readonly store?: StateStore;
  readonly lambdas: LambdaRunner;
  readonly secretsManager: LocalSecretsManager;
  readonly sns: LocalSns;
  readonly cloudwatch: LocalCloudWatch;
  readonly dataPlane: DataPlaneHandler;
  readonly dashboard: Dashboard;
  /** The local Cognito of the app's user pools (developer portals). */
  readonly cognito: LocalCognito;
  /** The local S3 (the app's buckets, the assembly's assets), EventBridge's default bus and the per-request streams (access log → Firehose → S3). */
  readonly s3: LocalS3;
  readonly eventBus: LocalEventBus;
  readonly firehose: LocalFirehose;
  /** AWS Marketplace: ResolveCustomer, and a buyer's subscription (registration token, subscribe-success). */
  readonly marketplace: LocalMarketplaceMetering;
  /** The AWS services besides the stages, in dispatch order (the control plane last: it takes any other path). */
  readonly registry: ServiceRegistry;
  /** Invokes a Lambda function of the app, with the AWS SDK pointed at this gateway. */
  readonly invokeLocally: LocalAwsInvoker;
  /** The app's EventBridge rate and cron rules with a Lambda target. */
  readonly schedules: ScheduledInvocation[];
  /** Each scheduled job's last run by name (from the state file; the runner updates it, the state saves it). */
  readonly lastRuns: Record<string, number>;
  /** The app's CloudWatch alarms. */
  readonly alarms: AlarmEvaluator;
  /** The template's custom resources, and the ones that ran (updated in place as they run; saved with the state). */
  readonly customResources: { readonly declared: DeclaredCustomResource[]; readonly records: CustomResourceRecords };
  /** The Provider framework's runtime, for the custom resources. */
  readonly providerFramework: ProviderFramework;
  /** The previous apps' functions and state machines it also runs (a removed custom resource's provider): carried, or kept next to the state file. */
  readonly previousProviders: Providers;
  /** The app's cloud assembly. */
  readonly assembly: CloudAssembly;
  readonly throttles: ThrottleRegistry;
  readonly stateMachines: Map<string, Record<string, unknown>>;
  /** The state as it is now (what --state saves; what --watch carries to the changed app). */
  snapshot(): StateFile;
}

/** What a running gateway hands to the services built from a changed app (--watch): its state, throttle buckets and Lambda workers. */
export interface CarriedState {
  readonly state: StateFile;
  readonly throttles: ThrottleRegistry;
  /** The previous app's functions and state machines: a removed custom resource's provider runs its Delete. */
  readonly functions: Map<string, LambdaFunction>;
  readonly stateMachines: Map<string, Record<string, unknown>>;
  /** The local S3: its objects stay across a change. */
  readonly s3?: LocalS3;
}

/** The folders of the assembly and its nested assemblies (where S3's asset objects are). */
function assemblyDirs(dir: string, assembly: CloudAssembly): string[] {
  return [...new Set([dir, ...assembly.stacks.map((s) => s.assemblyDir)])];
}

/** Where the gateway listens, once it does (the services need it to call back into the gateway). */
export interface Endpoint {
  port: number;
}

/** The services whose state the state file keeps besides the model's. */
interface StatefulServices {
  readonly secrets: LocalSecretsManager;
  readonly cognito: LocalCognito;
}

/** The model from the assembly and the state file, and the store that saves it. */
function loadModel(options: LocalGatewayOptions, clock: () => number, carried?: StateFile) {
  const assembly = loadAssembly(options.assemblyDir);
  const state = carried ?? (options.statePath ? readState(options.statePath) : undefined);
  const records: CustomResourceRecords = { ...state?.customResources };
  const built = buildModel(assembly, state?.template, options.deployedAt ?? clock(), records);
  const { model, generated } = built;
  const templateKeyIds = new Set(model.keys.keys());
  const templatePlans = templatePlanFingerprints(model);
  if (state) applyState(model, state, templateKeyIds, templatePlans);
  const quotas = new QuotaCounter(state?.usage ?? {});
  const template = {
    keyValues: { ...state?.template.keyValues, ...generated.keyValues },
    secrets: { ...state?.template.secrets, ...generated.secrets },
    physicalIds: { ...state?.template.physicalIds, ...generated.physicalIds },
  };
  const lastRuns: Record<string, number> = { ...state?.schedules };
  const snapshotNow = (parts: StatefulServices) => snapshotState(
    model, quotas.counts, templateKeyIds, template, templatePlans, parts.secrets.snapshot(), records, lastRuns, parts.cognito.snapshot());
  const snapshot = (parts: StatefulServices): StateStore | undefined => options.statePath ? new StateStore(options.statePath, () => snapshotNow(parts)) : undefined;
  return { ...built, assembly, state, quotas, snapshot, records, lastRuns, snapshotNow };
}

export function setUpServices(options: LocalGatewayOptions, clock: () => number, log: (line: string) => void, endpoint: Endpoint, carried?: CarriedState): GatewayServices {
  const { model, assembly, state, quotas, snapshot, secrets, schedules, topics, records, declaredCustomResources, stateMachines, snapshotNow, buckets, streams,
    subscriptions, alarms: alarmSeeds, metricFilters, insightRules, lastRuns } = loadModel(options, clock, carried?.state);
  const lambdas = new LambdaRunner(log);
  const base = (): string => `http://127.0.0.1:${endpoint.port}`;
  const cloudwatch = new LocalCloudWatch({ clock, log });
  const invokeLocally = withLambdaMetrics(localAwsInvoker(model, lambdas, base, clock), cloudwatch, clock);
  const previous = previousProviders(options, { records, functions: model.functions, state, now: clock() }, log, carried);
  const previousFunctions = previous.functions;
  const providerFramework = new ProviderFramework({
    invoke: localLambdaInvoker({ functions: new Map([...previousFunctions, ...model.functions]) }, lambdas, base, clock),
    // The framework's own log (every event it passes along): on request only.
    log: process.env.KEYGATE_LOCAL_PROVIDER_LOG ? log : () => undefined,
    functionOf: (arn) => model.functions.get(arn) ?? previousFunctions.get(arn),
    stateMachineOf: (arn) => stateMachines.get(arn) ?? previous.stateMachines.get(arn),
    clockRate: options.customResourceClockRate ?? DEFAULT_CUSTOM_RESOURCE_CLOCK_RATE,
  });
  // The local Secrets Manager: the app's secrets, with the versions a previous run saved (rotated values).
  const secretsManager: LocalSecretsManager = new LocalSecretsManager(secrets, {
    clock, region: model.region, accountId: model.accountId,
    invokeRotation: options.invokeRotation ?? (async (arn, event) => { await invokeLocally(arn, event); }),
    persist: () => store?.saveNow(),
  });
  if (state?.secrets) secretsManager.restore(state.secrets);
  // The local Cognito's users and signing key, as a previous run saved them (restored before the first save).
  const cognito = localCognitoOf(model, clock, log, () => store?.saveNow());
  if (state?.cognito) cognito.restore(state.cognito);
  const store = snapshot({ secrets: secretsManager, cognito });
  store?.saveNow();

  const { s3, eventBus, firehose, accessLog } = usageExportServices(options, model, clock, log, { buckets, streams, carried: carried?.s3, assetDirs: assemblyDirs(options.assemblyDir, assembly) });
  // The dashboard reads the data plane's buckets and counters and observes its requests.
  const throttles = carried?.throttles ?? new ThrottleRegistry();
  const activity = new RequestActivity();
  const observer = options.onRequest;
  // What the app's jobs and alarms publish: kept in memory, logged, delivered to the topics' subscriptions, shown on the dashboard.
  const sns = new LocalSns(topics, { clock, log, subscriptions, delivery: { signer: new SnsSigner(clock()), baseUrl: base, invokeLambda: invokeLocally } });
  const monitoring = setUpMonitoring(model, cloudwatch, sns, { alarms: alarmSeeds, metricFilters, insightRules }, { clock, log });
  const dataPlane = createDataPlane(model, {
    clock, lambdas, quotas, throttles, onCounted: store ? () => store.saveSoon() : undefined, log,
    accessLog, accountThrottle: options.accountThrottle, logEvent: monitoring.logEvent,
    verifyCognitoToken: (arns, token) => cognito.verifyForAuthorizer(arns, token),
    onRequest: (r: RequestRecord) => { activity.record(r); monitoring.onRequest(r); observer?.(r); },
  });
  const dashboard = new Dashboard({ model, throttles, quotas, activity, clock, log, port: () => endpoint.port, apis: () => apiInfos(model, base()), sns, cloudwatch });
  const controlPlane = new ControlPlane(model, { clock, quotas, persist: store ? () => store.saveNow() : undefined, limits: options.controlPlaneLimits });
  const marketplace = localMarketplace(model, sns, topics, clock, log);
  const registry = new ServiceRegistry()
    .register(marketplace.asService())
    .register(s3.asService())
    .register(eventBus.asService())
    .register(secretsManager.asService())
    .register(cloudwatch.asService())
    .register(sns.asService())
    .register(controlPlane.asService());
  return {
    model, store, lambdas, secretsManager, sns, cloudwatch, dataPlane, dashboard, cognito, s3, eventBus, firehose, marketplace, registry, invokeLocally, schedules, throttles, stateMachines, lastRuns, alarms: monitoring.alarms,
    customResources: { declared: declaredCustomResources, records }, providerFramework, previousProviders: previous, assembly, snapshot: () => snapshotNow({ secrets: secretsManager, cognito }),
  };
}

/**
 * The providers of the previous app that this one may have to run: carried by a running
 * gateway (--watch, rebuilds), or at start those kept next to the state file when a custom
 * resource's ServiceToken is not a function of this app (cloudformation/kept-providers.ts).
 */
function previousProviders(
  options: LocalGatewayOptions, now: { records: CustomResourceRecords; functions: Map<string, LambdaFunction>; state?: StateFile; now: number },
  log: (line: string) => void, carried?: CarriedState,
): Providers {
  if (carried) return { functions: carried.functions, stateMachines: carried.stateMachines };
  const none: Providers = { functions: new Map(), stateMachines: new Map() };
  if (!options.statePath || options.runCustomResources === false) return none;
  try {
    return keptProviders(keptAssemblyDir(options.statePath), now.records, now.functions, now.state?.template, now.now) ?? none;
  } catch (e) {
    log(`keygate local: the previous app's custom resource providers kept in ${keptAssemblyDir(options.statePath)} cannot be loaded: ${(e as Error).message}`);
    return none;
  }
}

/** AWS Marketplace for the usage plans' product codes, publishing on AWS Marketplace's topic of a product the app subscribes to. */
function localMarketplace(model: Model, sns: LocalSns, topics: TopicSeed[], clock: () => number, log: (line: string) => void): LocalMarketplaceMetering {
  return new LocalMarketplaceMetering({
    clock, log,
    productCodes: () => [...model.plans.values()].flatMap((p) => (p.productCode ? [p.productCode] : [])),
    notify: (productCode, message) => {
      const topic = topics.find((t) => marketplaceTopicProductCode(t.arn) === productCode);
      return topic !== undefined && sns.publishFromService(topic.arn, undefined, message) !== undefined;
    },
  });
}

/**
 * The usage export's services: S3 (the app's buckets, objects kept beside the state file, and
 * the assembly's assets), EventBridge's default bus, and Firehose fed by the stages' access
 * logs, delivering into S3 at buffer size or interval.
 */
function usageExportServices(options: LocalGatewayOptions, model: Model, clock: () => number, log: (line: string) => void,
  app: { buckets: string[]; streams: FirehoseSeed[]; carried?: LocalS3; assetDirs: string[] }) {
  const assets = assemblyAssets(app.assetDirs);
  const s3 = app.carried?.withBuckets(app.buckets, assets)
    ?? new LocalS3(app.buckets, { clock, dir: options.statePath ? `${options.statePath}.s3` : undefined, assets });
  const eventBus = new LocalEventBus({ clock, accountId: model.accountId, region: model.region, log });
  const firehose = new LocalFirehose(app.streams, { clock, log, put: (b, k, body) => { s3.put(b, k, body, undefined, undefined); } });
  const accessLog = app.streams.length === 0 ? options.accessLog : (line: string) => { options.accessLog?.(line); firehose.record(line); };
  return { s3, eventBus, firehose, accessLog };
}
