/**
 * The local gateway: one HTTP server on 127.0.0.1 serving the data plane of every API
 * stage of a cloud assembly (under `/restapis/{apiId}/{stage}/_user_request_/…`) and the
 * emulated AWS services (API Gateway's control plane at the root, for the AWS SDK's
 * `endpoint`; Secrets Manager, SNS and CloudWatch beside it), with the app's scheduled jobs.
 */
import { Model, UnsupportedItem } from './apigateway/model';
import { LocalCloudWatch } from './cloudwatch/service';
import { ScheduledJob, ScheduleRun, ScheduleRunner } from './events/schedules';
import { LocalSns } from './sns/service';
import { createGatewayServer, listen } from './server/http-server';
import { apiInfos, jobInfos, keyInfos, LocalGatewayInfo } from './server/info';
import { scheduledJobs, startScheduledJobs } from './server/jobs';
import { Endpoint, GatewayServices, LocalGatewayOptions, setUpServices } from './server/setup';
import * as http from 'http';
import { CustomResourceDeployer, CustomResourceEvent } from './cloudformation/custom-resources';

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
  });
  try {
    endpoint.port = await listen(server, options.port);
    await deployCustomResources(services, log);
  } catch (e) {
    services.lambdas.close();
    services.providerFramework.close();
    server.close();
    server.closeAllConnections();
    throw e;
  }
  if (options.rotateOnStart) {
    for (const failure of await services.secretsManager.rotateScheduled()) log(`keygate local: ${failure}`);
  }
  const jobs = scheduledJobs(services.schedules, services.secretsManager, services.invokeLocally);
  const runner = await startScheduledJobs(jobs, { clock, startedAt: options.deployedAt ?? clock(), log });
  return localGateway(options, clock, services, server, runner, endpoint.port);
}

/**
 * Runs the template's custom resources as CloudFormation would on this deploy (Create, Update,
 * Delete against what the state file says ran before), then saves the state. Throws
 * CustomResourceFailure with the provider's reason.
 */
export async function deployCustomResources(services: GatewayServices, log: (line: string) => void): Promise<CustomResourceEvent[]> {
  const { declared, records } = services.customResources;
  if (declared.length === 0 && Object.keys(records).length === 0) return [];
  const deployer = new CustomResourceDeployer(services.providerFramework, log);
  try {
    await deployer.deploy(declared, records);
  } finally {
    services.store?.saveNow();
  }
  return deployer.events;
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
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      store?.flush();
      runner.stop();
      lambdas.close();
      services.providerFramework.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
