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
import { Endpoint, GatewayServices, LocalGatewayOptions, setUpServices } from './server/setup';
import * as http from 'http';

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
  /**
   * The app's scheduled jobs (EventBridge rate rules that invoke its Lambda functions, Secrets
   * Manager rotation schedules) and when each runs next, on the gateway's clock.
   */
  readonly scheduledJobs: { readonly job: ScheduledJob; readonly nextRunAt: number }[];
  /** Runs every scheduled job whose time has come on the gateway's clock (once each), e.g. after a test moved the clock. */
  runDueJobs(): Promise<ScheduleRun[]>;
  /** The app's CloudWatch alarms and their states. */
  readonly alarms: AlarmEvaluator;
  /** Evaluates the alarms now (they also run every minute), publishing the transitions to their SNS actions. */
  evaluateAlarms(): AlarmTransition[];
  /** Saves the state (if any), stops the server and the Lambda workers. */
  close(): Promise<void>;
}

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const clock = options.clock ?? Date.now;
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const endpoint: Endpoint = { port: 0 };
  const services = setUpServices(options, clock, log, endpoint);
  const server = createGatewayServer({
    model: services.model, dataPlane: services.dataPlane, dashboard: services.dashboard, services: services.registry, log, port: () => endpoint.port,
    snsLinks: services.sns.subscriptions,
  });
  try {
    endpoint.port = await listen(server, options.port);
  } catch (e) {
    services.lambdas.close();
    throw e;
  }
  if (options.rotateOnStart) {
    for (const failure of await services.secretsManager.rotateScheduled()) log(`keygate local: ${failure}`);
  }
  // HTTP subscriptions of the template get their SubscriptionConfirmation now that the SubscribeURL answers.
  services.sns.subscriptions?.confirmPending();
  const jobs = scheduledJobs(services.schedules, services.secretsManager, services.invokeLocally);
  const runner = await startScheduledJobs(jobs, {
    clock, startedAt: options.deployedAt ?? clock(), log, lastRuns: services.lastRuns,
    // A job's metrics count at once (the quota warnings' alarms), and its last run is saved.
    afterRun: () => { services.alarms.evaluate(); services.store?.saveSoon(); },
  });
  services.alarms.start();
  return localGateway(options, clock, services, server, runner, endpoint.port);
}

/** The handle on a started gateway. */
function localGateway(options: LocalGatewayOptions, clock: () => number, services: GatewayServices, server: http.Server, runner: ScheduleRunner, port: number): LocalGateway {
  const { model, store, lambdas, dashboard } = services;
  const base = `http://127.0.0.1:${port}`;
  let closed = false;
  return {
    get info(): LocalGatewayInfo {
      return {
        controlPlane: base, dashboard: dashboard.url, apis: apiInfos(model, base), keys: keyInfos(model, clock(), options.showValues), scheduledJobs: jobInfos(runner),
      };
    },
    port,
    unsupported: model.unsupported,
    ignored: model.ignored,
    model,
    sns: services.sns,
    cloudwatch: services.cloudwatch,
    get scheduledJobs() {
      return runner.nextRuns().map(({ job, at }) => ({ job, nextRunAt: at }));
    },
    runDueJobs: () => runner.runDue(),
    alarms: services.alarms,
    evaluateAlarms: () => services.alarms.evaluate(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      store?.flush();
      runner.stop();
      services.alarms.stop();
      await services.sns.subscriptions?.idle();
      lambdas.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
