/**
 * The local gateway: one HTTP server on 127.0.0.1 serving the data plane of every API
 * stage of a cloud assembly (under `/restapis/{apiId}/{stage}/_user_request_/…`) and the
 * emulated AWS services (API Gateway's control plane at the root, for the AWS SDK's
 * `endpoint`; Secrets Manager, SNS and CloudWatch beside it), with the app's scheduled jobs.
 */
import { Model, UnsupportedItem } from './apigateway/model';
import { LocalCloudWatch } from './cloudwatch/service';
import { AlarmEvaluator, AlarmTransition } from './cloudwatch/alarms';
import { ScheduledJob, ScheduleRun, ScheduleRunner } from './events/schedules';
import { LocalSns } from './sns/service';
import { createGatewayServer, listen } from './server/http-server';
import { apiInfos, jobInfos, keyInfos, LocalGatewayInfo } from './server/info';
import { scheduledJobs, startScheduledJobs } from './server/jobs';
import { CarriedState, Endpoint, GatewayServices, LocalGatewayOptions, setUpServices } from './server/setup';
import * as http from 'http';
import { LocalS3 } from './s3/service';
import { LocalEventBus } from './events/bus';
import { LocalFirehose } from './firehose/service';
import { LocalMarketplaceMetering } from './marketplace-metering/service';
import { localPortals } from './cognito/serve';
import { pointLambdasAtGateway } from './lambda/local-environment';
import { CustomResourceEvent, CustomResourceFailure } from './cloudformation/custom-resources';
import { Deployment, deployStack, DeployTarget } from './server/deploy';
import { LambdaFunction } from './apigateway/model';
import { loadAssembly } from './cloudformation/assembly';
import { keepProviders, keptAssemblyDir, providerFunctions } from './cloudformation/kept-providers';
import { diffAssemblies, ResourceChange } from './cloudformation/template-diff';
import { GatewayServerParts } from './server/http-server';

export type { LocalApiInfo, LocalGatewayInfo, LocalKeyInfo, LocalScheduledJobInfo, LocalStageInfo } from './server/info';
export type { LocalGatewayOptions } from './server/setup';

export interface LocalGateway {
  /** Where everything is, computed from the current state (keys created later are included). */
  readonly info: LocalGatewayInfo;
  readonly port: number;
  /** What the gateway cannot emulate, by stack and logical id. */
  readonly unsupported: UnsupportedItem[];
  /** Resources with no effect on the served APIs (IAM roles, Lambda permissions…). */
  readonly ignored: UnsupportedItem[];
  /** The live model (for tests and tools). */
  readonly model: Model;
  /** The local SNS: the messages the app's topics received (for tests and tools). */
  readonly sns: LocalSns;
  /** The local CloudWatch: the metric data points received (for tests and tools). */
  readonly cloudwatch: LocalCloudWatch;
  /** The local S3: the app's buckets (for tests and tools). */
  readonly s3: LocalS3;
  /** The local EventBridge default bus: the events the app's jobs put (for tests and tools). */
  readonly eventBus: LocalEventBus;
  /** The per-request streams (access log → Firehose → local S3), buffered as Firehose does. */
  readonly firehose: LocalFirehose;
  /** AWS Marketplace: `marketplace.subscribe({ productCode })` is a buyer subscribing (a registration token for the fulfillment URL, subscribe-success on the product's topic). */
  readonly marketplace: LocalMarketplaceMetering;
  /**
   * The app's scheduled jobs (EventBridge rate rules that invoke its Lambda functions, Secrets
   * Manager rotation schedules) and when each runs next, on the gateway's clock.
   */
  readonly scheduledJobs: { readonly job: ScheduledJob; readonly nextRunAt: number }[];
  /** Runs every scheduled job whose time has come on the gateway's clock (once each), e.g. after a test moved the clock. */
  runDueJobs(): Promise<ScheduleRun[]>;
  /**
   * Applies a changed app (a new cloud assembly) as a stack update: the model is rebuilt from
   * the new template with this gateway's state carried over (keys, counters, throttle buckets),
   * custom resources get their Create/Update/Delete. If a custom resource fails, the app keeps
   * serving as it was (CustomResourceFailure is thrown).
   */
  apply(assemblyDir: string): Promise<AppliedChange>;
  /** The app's CloudWatch alarms and their states. */
  readonly alarms: AlarmEvaluator;
  /** Evaluates the alarms now (they also run every minute), publishing the transitions to their SNS actions. */
  evaluateAlarms(): AlarmTransition[];
  /** Saves the state (if any), stops the server and the Lambda workers. */
  close(): Promise<void>;
}

/** What an applied change did. */
export interface AppliedChange {
  readonly changes: ResourceChange[];
  readonly customResourceEvents: CustomResourceEvent[];
}

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const clock = options.clock ?? Date.now;
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const endpoint: Endpoint = { port: 0 };
  const services = setUpServices(options, clock, log, endpoint);
  const parts: Mutable<GatewayServerParts> = {
    model: services.model, dataPlane: services.dataPlane, dashboard: services.dashboard, cognito: services.cognito, services: services.registry, log, port: () => endpoint.port,
    snsLinks: services.sns.subscriptions,
  };
  const server = createGatewayServer(parts);
  const g: Running = { options, clock, log, services, server, endpoint, parts };
  try {
    endpoint.port = await listen(server, options.port);
    // Functions (behind the APIs, and those custom resources run) call this gateway, not AWS
    // (their execute-api and SDK endpoints); a rebuild during the deployment points its own.
    pointLambdasAtGateway(services.model, `http://127.0.0.1:${endpoint.port}`);
    if (options.runCustomResources !== false) {
      await deployStack(deployTarget(g, options), log);
      keepPreviousProviders(g.services, options, log);
    }
  } catch (e) {
    await retire(g.services);
    server.close();
    server.closeAllConnections();
    throw e;
  }
  if (options.rotateOnStart) {
    for (const failure of await g.services.secretsManager.rotateScheduled()) log(`keygate local: ${failure}`);
  }
  g.runner = await startJobs(g.services, options, clock, log);
  // Firehose delivers a buffer when its interval passes, even with no new record.
  g.firehoseTimer = setInterval(() => g.services.firehose.flushDue(), 1000);
  g.firehoseTimer.unref();
  return localGateway(g as Running & { runner: ScheduleRunner });
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The app's scheduled jobs (from their last runs in the state) and its alarms, once the gateway listens. */
async function startJobs(services: GatewayServices, options: LocalGatewayOptions, clock: () => number, log: (line: string) => void): Promise<ScheduleRunner> {
  // HTTP subscriptions of the template get their SubscriptionConfirmation now that the SubscribeURL answers.
  services.sns.subscriptions?.confirmPending();
  const jobs = scheduledJobs(services.schedules, services.secretsManager, services.invokeLocally);
  const runner = await startScheduledJobs(jobs, {
    clock, startedAt: options.deployedAt ?? clock(), log, lastRuns: services.lastRuns,
    // A job's metrics count at once (the quota warnings' alarms), and its last run is saved.
    afterRun: () => { services.alarms.evaluate(); services.store?.saveSoon(); },
  });
  services.alarms.start();
  return runner;
}

interface Running {
  readonly options: LocalGatewayOptions;
  readonly clock: () => number;
  readonly log: (line: string) => void;
  services: GatewayServices;
  readonly server: http.Server;
  runner?: ScheduleRunner;
  readonly endpoint: Endpoint;
  readonly parts: Mutable<GatewayServerParts>;
  firehoseTimer?: NodeJS.Timeout;
}

/** Serves `next` instead of the running services. */
function swap(g: Running, next: GatewayServices): void {
  g.services = next;
  Object.assign(g.parts, { model: next.model, dataPlane: next.dataPlane, dashboard: next.dashboard, cognito: next.cognito, services: next.registry, snsLinks: next.sns.subscriptions });
}

/** Stops what services run (their scheduled jobs and alarms are stopped by the caller), once others serve. */
async function retire(s: GatewayServices): Promise<void> {
  s.alarms.stop();
  s.store?.flush();
  s.firehose.flushAll();
  await s.sns.subscriptions?.idle();
  s.lambdas.close();
  s.providerFramework.close();
}

/**
 * The state a change carries to the services built next: keys, counters, records, throttle
 * buckets, the S3 objects, and every function and state machine seen (a removed custom
 * resource's provider runs its Delete; a rollback runs the failed app's providers).
 */
function carriedFrom(s: GatewayServices, seen: { functions: Map<string, LambdaFunction>; stateMachines: Map<string, Record<string, unknown>> }): CarriedState {
  return {
    state: s.snapshot(), throttles: s.throttles, s3: s.s3,
    functions: new Map([...s.previousProviders.functions, ...seen.functions, ...s.model.functions]),
    stateMachines: new Map([...s.previousProviders.stateMachines, ...seen.stateMachines, ...s.stateMachines]),
  };
}

/**
 * With --state, keeps the providers of the custom resources that now exist next to the state
 * file (a restart whose app dropped one of them and its provider sends its Delete through them);
 * a failure is reported, the gateway serves anyway.
 */
function keepPreviousProviders(s: GatewayServices, options: LocalGatewayOptions, log: (line: string) => void): void {
  if (!options.statePath) return;
  const target = keptAssemblyDir(options.statePath);
  try {
    keepProviders(target, s.assembly, providerFunctions(s.customResources.records, { functions: s.model.functions, stateMachines: s.stateMachines }));
  } catch (e) {
    log(`keygate local: cannot keep the custom resources' providers in ${target}: ${(e as Error).message} (a restart whose app drops one cannot send its Delete)`);
  }
}

/** Builds `options`' app with `from`'s state, points its functions at the gateway and serves it. */
function serveRebuilt(g: Running, options: LocalGatewayOptions, carried: CarriedState): GatewayServices {
  const next = setUpServices(options, g.clock, g.log, g.endpoint, carried);
  pointLambdasAtGateway(next.model, `http://127.0.0.1:${g.endpoint.port}`);
  swap(g, next);
  return next;
}

/** The deployment's target: `options`' app; a rebuild replaces the services serving it. */
function deployTarget(g: Running, options: LocalGatewayOptions, seen = { functions: new Map<string, LambdaFunction>(), stateMachines: new Map<string, Record<string, unknown>>() }): DeployTarget {
  return {
    current: () => g.services,
    rebuild: async () => {
      const old = g.services;
      old.store?.flush();
      serveRebuilt(g, options, carriedFrom(old, seen));
      await retire(old);
    },
  };
}

/**
 * A stack update: the new app's services with the running state carried over, then its custom
 * resources. After a failed one (rolled back by deployStack), the previous app is rebuilt with
 * the state as the rollback left it, as CloudFormation's rollback restores the previous template.
 */
async function applyChange(g: Running & { runner: ScheduleRunner }, assemblyDir: string): Promise<AppliedChange> {
  const before = g.services;
  before.store?.flush();
  const changes = diffAssemblies(loadAssembly(g.options.assemblyDir), loadAssembly(assemblyDir));
  const seen = { functions: before.model.functions, stateMachines: before.stateMachines };
  const options = { ...g.options, assemblyDir };
  serveRebuilt(g, options, carriedFrom(before, { functions: new Map(), stateMachines: new Map() }));
  let deployment: Deployment;
  try {
    deployment = options.runCustomResources === false ? { events: [], rebuilds: 0 } : await deployStack(deployTarget(g, options, seen), g.log);
  } catch (e) {
    const failed = g.services;
    if (!(e instanceof CustomResourceFailure) || !restore(g, failed, seen)) swap(g, before);
    else await replaceRunning(g, before);
    g.services.store?.saveNow();
    await retire(failed);
    throw e;
  }
  Object.assign(g, { options });
  if (options.runCustomResources !== false) keepPreviousProviders(g.services, options, g.log);
  await replaceRunning(g, before);
  return { changes, customResourceEvents: deployment.events };
}

/** Serves the previous app again with the state the rollback left in `failed`; false (and logged) if it can't be built. */
function restore(g: Running, failed: GatewayServices, seen: { functions: Map<string, LambdaFunction>; stateMachines: Map<string, Record<string, unknown>> }): boolean {
  try {
    serveRebuilt(g, g.options, carriedFrom(failed, seen));
    return true;
  } catch (e) {
    g.log(`keygate local: the previous app could not be rebuilt after the rollback (${(e as Error).message}); serving it as it was before the change`);
    return false;
  }
}

/** The jobs and alarms of the services now serving, instead of `before`'s. */
async function replaceRunning(g: Running & { runner: ScheduleRunner }, before: GatewayServices): Promise<void> {
  g.runner.stop();
  await retire(before);
  g.runner = await startJobs(g.services, g.options, g.clock, g.log);
}

/** The handle on a started gateway. */
function localGateway(g: Running & { runner: ScheduleRunner }): LocalGateway {
  const base = `http://127.0.0.1:${g.endpoint.port}`;
  let closed = false;
  return {
    get info(): LocalGatewayInfo {
      const { model, dashboard } = g.services;
      return {
        controlPlane: base, dashboard: dashboard.url, portals: localPortals(model, base), apis: apiInfos(model, base), keys: keyInfos(model, g.clock(), g.options.showValues), scheduledJobs: jobInfos(g.runner),
      };
    },
    port: g.endpoint.port,
    get unsupported() { return g.services.model.unsupported; },
    get ignored() { return g.services.model.ignored; },
    get model() { return g.services.model; },
    get sns() { return g.services.sns; },
    get cloudwatch() { return g.services.cloudwatch; },
    get s3() { return g.services.s3; },
    get eventBus() { return g.services.eventBus; },
    get firehose() { return g.services.firehose; },
    get marketplace() { return g.services.marketplace; },
    get scheduledJobs() {
      return g.runner.nextRuns().map(({ job, at }) => ({ job, nextRunAt: at }));
    },
    runDueJobs: () => g.runner.runDue(),
    apply: (assemblyDir) => applyChange(g, assemblyDir),
    get alarms() { return g.services.alarms; },
    evaluateAlarms: () => g.services.alarms.evaluate(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (g.firehoseTimer) clearInterval(g.firehoseTimer);
      g.services.firehose.flushAll();
      g.services.store?.flush();
      g.runner.stop();
      g.services.alarms.stop();
      await g.services.sns.subscriptions?.idle();
      g.services.lambdas.close();
      g.services.providerFramework.close();
      await new Promise<void>((resolve) => {
        g.server.close(() => resolve());
        g.server.closeAllConnections();
      });
    },
  };
}
