/**
 * The local gateway: one HTTP server on 127.0.0.1 serving the data plane of every API
 * stage of a cloud assembly (under `/restapis/{apiId}/{stage}/_user_request_/…`) and the
 * API Gateway control plane (at the root, for the AWS SDK's `endpoint`).
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { loadAssembly } from './cloudformation/assembly';
import { ControlPlane, errorResponse } from './apigateway/control-plane/control-plane';
import { RequestActivity } from './dashboard/activity';
import { Dashboard } from './dashboard/dashboard';
import { createDataPlane, DataPlaneResponse, MAX_BODY_BYTES, RequestRecord } from './apigateway/data-plane';
import { describeExpiry } from './apigateway/data-plane/expiry';
import { renderGatewayResponse } from './apigateway/data-plane/gateway-responses';
import { LambdaRunner } from './lambda/runner';
import { localAwsInvoker } from './lambda/aws-invoker';
import { describeRate, rateMs, ScheduledJob, ScheduleRun, ScheduleRunner } from './events/schedules';
import { LocalSecretsManager, RotationInvoker } from './secrets-manager/service';
import { LocalCloudWatch } from './cloudwatch/service';
import { LocalSns } from './sns/service';
import { buildModel } from './cloudformation/build-model';
import { Model, ThrottleSettings, UnsupportedItem } from './apigateway/model';
import { QuotaCounter } from './apigateway/data-plane/quota';
import { guardLocalService } from './request-guard';
import { applyState, readState, snapshotState, StateStore, templatePlanFingerprints } from './state';
import { ThrottleRegistry } from './apigateway/data-plane/throttle';
import { LocalS3, S3Response } from './s3/service';
import { LocalEventBus } from './events/bus';
import { LocalFirehose } from './firehose/service';

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
}

export interface LocalStageInfo {
  readonly name: string;
  /** Base URL of the stage: append a route path, e.g. `url + "/pets"`. */
  readonly url: string;
}

export interface LocalApiInfo {
  readonly id: string;
  readonly name: string;
  readonly stack: string;
  readonly stages: LocalStageInfo[];
}

export interface LocalKeyInfo {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  /** Names of the usage plans the key is in. */
  readonly usagePlans: string[];
  /** Only with `showValues`. */
  readonly value?: string;
  /** When the key expires (keygate's `expires`), ISO 8601; absent when it never does. */
  readonly expiresAt?: string;
  /** Whether `expiresAt` has passed: the key gets 403, as after keygate's expiry job on AWS. */
  readonly expired?: boolean;
}

/** What `keygate local --json` prints. */
export interface LocalGatewayInfo {
  /** The control plane endpoint: use as the AWS SDK's `endpoint`. */
  readonly controlPlane: string;
  /** The local dashboard; the URL carries this run's access token. */
  readonly dashboard: string;
  readonly apis: LocalApiInfo[];
  readonly keys: LocalKeyInfo[];
  /** The scheduled jobs the gateway runs (EventBridge rate rules with a Lambda target, rotation schedules), on its clock. */
  readonly scheduledJobs: LocalScheduledJobInfo[];
}

export interface LocalScheduledJobInfo {
  /** `stack/ruleLogicalId` of an EventBridge rule, or `rotation of <secret name>` */
  readonly name: string;
  /** What it does, if known. */
  readonly description?: string;
  /** e.g. `every hour` */
  readonly every: string;
  /** When it runs next on the gateway's clock, ISO 8601. */
  readonly nextRunAt: string;
}

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

const DATA_PREFIX = '/restapis/';
const EMPTY = Buffer.alloc(0);
const USER_REQUEST = '/_user_request_';

/** `/restapis/{apiId}/{stage}/_user_request_/{rest}` → its parts; undefined for anything else (the control plane). */
function parseStagePath(rawPath: string): { apiId: string; stage: string; rest: string } | undefined {
  if (!rawPath.startsWith(DATA_PREFIX)) return undefined;
  const ui = rawPath.indexOf(USER_REQUEST);
  if (ui < 0) return undefined;
  const [apiId, stage, extra] = rawPath.slice(DATA_PREFIX.length, ui).split('/');
  const rest = rawPath.slice(ui + USER_REQUEST.length);
  if (stage === undefined || extra !== undefined || (rest !== '' && !rest.startsWith('/'))) return undefined;
  return { apiId, stage, rest: rest || '/' };
}

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const clock = options.clock ?? Date.now;
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const assembly = loadAssembly(options.assemblyDir);
  const state = options.statePath ? readState(options.statePath) : undefined;
  const { model, generated, secrets, schedules, topics, buckets, streams } = buildModel(assembly, state?.template, options.deployedAt ?? clock());
  const templateKeyIds = new Set(model.keys.keys());
  const templatePlans = templatePlanFingerprints(model);
  if (state) applyState(model, state, templateKeyIds, templatePlans);
  const quotas = new QuotaCounter(state?.usage ?? {});
  const template = {
    keyValues: { ...state?.template.keyValues, ...generated.keyValues },
    secrets: { ...state?.template.secrets, ...generated.secrets },
    physicalIds: { ...state?.template.physicalIds, ...generated.physicalIds },
  };
  // The local Secrets Manager: the app's secrets, with the versions a previous run saved (rotated values).
  const secretsManager: LocalSecretsManager = new LocalSecretsManager(secrets, {
    clock, region: model.region, accountId: model.accountId,
    invokeRotation: options.invokeRotation ?? (async (arn, event) => { await invokeLocally(arn, event); }),
    persist: () => store?.saveNow(),
  });
  if (state?.secrets) secretsManager.restore(state.secrets);
  const store = options.statePath
    ? new StateStore(options.statePath, () => snapshotState(model, quotas.counts, templateKeyIds, template, templatePlans, secretsManager.snapshot()))
    : undefined;
  store?.saveNow();

  const lambdas = new LambdaRunner(log);
  // --- usage export (S3 slice, EventBridge PutEvents): objects kept beside the state file ---
  const s3 = new LocalS3(buckets, { clock, dir: options.statePath ? `${options.statePath}.s3` : undefined });
  const eventBus = new LocalEventBus({ clock, accountId: model.accountId, region: model.region, log });
  const firehose = new LocalFirehose(streams, { clock, log, put: (b, k, body) => { s3.put(b, k, body, undefined, undefined); } });
  const accessLog = streams.length === 0 ? options.accessLog : (line: string) => { options.accessLog?.(line); firehose.record(line); };
  const firehoseTimer = streams.length === 0 ? undefined : setInterval(() => firehose.flushDue(), 1000);
  firehoseTimer?.unref();
  // --- end usage export ---
  // The dashboard reads the data plane's buckets and counters and observes its requests.
  const throttles = new ThrottleRegistry();
  const activity = new RequestActivity();
  const observer = options.onRequest;
  const dataPlane = createDataPlane(model, {
    clock, lambdas, quotas, throttles, onCounted: store ? () => store.saveSoon() : undefined, log,
    accessLog, accountThrottle: options.accountThrottle,
    onRequest: observer ? (r: RequestRecord) => { activity.record(r); observer(r); } : (r: RequestRecord) => activity.record(r),
  });
  // What the app's jobs publish: kept in memory, logged, shown on the dashboard.
  const sns = new LocalSns(topics, { clock, log });
  const cloudwatch = new LocalCloudWatch({ clock, log });
  const dashboard = new Dashboard({ model, throttles, quotas, activity, clock, log, port: () => port, apis: () => gateway.info.apis, sns, cloudwatch });
  const controlPlane = new ControlPlane(model, { clock, quotas, persist: store ? () => store.saveNow() : undefined, limits: options.controlPlaneLimits });
  const invokeLocally = localAwsInvoker(model, lambdas, () => base, clock);

  /** A client that went away mid-body: nothing to answer, nothing to log. */
  class AbortedUpload extends Error {}

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => serve(req, res));
  // `Expect: 100-continue` with a body over the limit: 413 at once, before the client sends it.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      tooLarge(req, res);
      return;
    }
    res.writeContinue();
    serve(req, res);
  });
  server.on('clientError', (err: Error, socket) => {
    const code = (err as NodeJS.ErrnoException).code;
    // A client that reset or closed the connection cannot be answered.
    if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) { socket.destroy(); return; }
    const headerOverflow = code === 'HPE_HEADER_OVERFLOW';
    const status = headerOverflow ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = headerOverflow ? '{"message":"Request Header Fields Too Large"}' : '{"message":"Bad Request"}';
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-amzn-requestid: ${randomUUID()}\r\nconnection: close\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 5_000;

  function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof AbortedUpload) { res.destroy(); return; }
      log(`keygate local: internal error: ${(e as Error)?.stack ?? String(e)}`);
      if (!res.headersSent) {
        const body = '{"message":"Internal server error"}';
        res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), 'content-length': String(body.length) });
        res.end(body);
      } else res.destroy();
    });
  }

  function readBody(req: http.IncomingMessage): Promise<Buffer | 'too-large'> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      let complete = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) { over = true; chunks.length = 0; return; }
        if (!over) chunks.push(c);
      });
      req.on('end', () => { complete = true; resolve(over ? 'too-large' : Buffer.concat(chunks)); });
      req.on('error', () => reject(new AbortedUpload()));
      req.on('close', () => { if (!complete) reject(new AbortedUpload()); });
    });
  }

  /** 413 before or after reading the body: with a length, and the connection closed (the rest of the body is not read). */
  function tooLarge(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    const stagePath = parseStagePath(url.split('?')[0]);
    let status: number;
    let headers: Record<string, string>;
    let body: string;
    if (stagePath) {
      const api = model.apis.get(stagePath.apiId);
      const r = renderGatewayResponse(api, 'REQUEST_TOO_LARGE', {
        context: { requestId: randomUUID(), apiId: stagePath.apiId, stage: stagePath.stage }, requestHeaders: {}, query: {}, pathParams: {}, stageVariables: {},
      });
      ({ status, headers, body } = r);
    } else {
      ({ status, headers, body } = errorResponse(413, 'RequestTooLongException', 'Request Too Long'));
    }
    res.writeHead(status, { ...headers, 'x-amzn-requestid': randomUUID(), 'content-length': String(Buffer.byteLength(body)), connection: 'close' });
    res.end(body);
    res.once('finish', () => req.destroy());
  }

  function send(res: http.ServerResponse, method: string, out: DataPlaneResponse): void {
    // An explicit length lets Node send head and body in one write (no chunked encoding).
    out.headers['content-length'] = String(typeof out.body === 'string' ? Buffer.byteLength(out.body) : out.body.length);
    res.writeHead(out.status, out.headers);
    res.end(method === 'HEAD' ? undefined : out.body);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) { tooLarge(req, res); return; }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPathAll = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    // No body announced (GET, HEAD…): skip the stream entirely.
    const body = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined ? EMPTY : await readBody(req);
    if (body === 'too-large') { tooLarge(req, res); return; }
    const stagePath = parseStagePath(rawPathAll);
    if (stagePath) {
      const out = dataPlane({
        apiId: stagePath.apiId, stage: stagePath.stage, rawPath: stagePath.rest, rawQuery, method, headers: req.headers, rawHeaders: req.rawHeaders, body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1', host: req.headers.host ?? `127.0.0.1:${port}`,
      });
      send(res, method, out instanceof Promise ? await out : out);
      return;
    }
    if (Dashboard.owns(rawPathAll)) return dashboard.handle(req, res, rawPathAll, rawQuery);
    // The AWS services (API Gateway's control plane, the Secrets Manager, SNS and CloudWatch slices) answer only loopback, same-site, signed calls.
    const refusal = guardLocalService(req.headers);
    // --- usage export: S3 (REST-XML, path-style) behind the same guard ---
    if (!refusal && LocalS3.accepts(req.headers)) { sendS3(res, method, s3.handle({ method, path: rawPathAll, query: new URLSearchParams(rawQuery), headers: req.headers, body })); return; }
    // --- end usage export ---
    let out;
    if (refusal) out = errorResponse(refusal.status, refusal.type, refusal.message);
    else if (method === 'POST' && LocalSecretsManager.accepts(req.headers)) out = await secretsManager.handle({ target: String(req.headers['x-amz-target']), body });
    else if (method === 'POST' && LocalCloudWatch.accepts(req.headers)) out = cloudwatch.handle({ target: String(req.headers['x-amz-target']), contentEncoding: req.headers['content-encoding'], body });
    else if (method === 'POST' && LocalEventBus.accepts(req.headers)) out = eventBus.handle(String(req.headers['x-amz-target']), body);
    else if (LocalSns.accepts(method, req.headers)) out = sns.handle({ body });
    else out = controlPlane.handle({ method, path: rawPathAll, query: new URLSearchParams(rawQuery), body });
    res.writeHead(out.status, { ...out.headers, 'x-amzn-requestid': randomUUID(), 'content-length': String(Buffer.byteLength(out.body)) });
    res.end(out.body);
  }

  function sendS3(res: http.ServerResponse, method: string, out: S3Response): void {
    res.writeHead(out.status, { ...out.headers, 'x-amz-request-id': randomUUID(), 'content-length': String(out.contentLength ?? Buffer.byteLength(out.body)) });
    res.end(method === 'HEAD' ? undefined : out.body);
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
  } catch (e) {
    lambdas.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${options.port} on 127.0.0.1 is already in use: pass another --port, or --port 0 for a free one`);
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  if (options.rotateOnStart) {
    for (const failure of await secretsManager.rotateScheduled()) log(`keygate local: ${failure}`);
  }
  // Schedules count from the deploy (a rotation from the secret's last rotation): with a clock
  // moved ahead (--clock +100d), the jobs that are due run at once, before the gateway reports
  // itself started, so its summary shows their effect.
  const jobs: ScheduledJob[] = [
    ...schedules.map((s): ScheduledJob => ({
      name: `${s.stack}/${s.ruleLogicalId}`, description: s.description?.replace(/^Runs: /, ''), rateMs: s.rateMs,
      run: () => invokeLocally(s.lambdaArn, s.event),
    })),
    ...secretsManager.rotationSchedules().flatMap((r): ScheduledJob[] => {
      const every = rateMs(r.scheduleExpression);
      return every === undefined ? [] : [{
        name: `rotation of ${r.name}`, description: `Secrets Manager rotation schedule, ${r.scheduleExpression}`, rateMs: every,
        firstDueAt: r.lastRotated === undefined ? undefined : r.lastRotated + every,
        run: () => secretsManager.rotateOnSchedule(r.arn),
      }];
    }),
  ];
  const scheduleRunner = new ScheduleRunner(jobs, { clock, startedAt: options.deployedAt ?? clock(), log });
  await scheduleRunner.start();

  let closed = false;
  const gateway: LocalGateway = {
    get info(): LocalGatewayInfo {
      return {
        controlPlane: base,
        dashboard: dashboard.url,
        apis: [...model.apis.values()].map((a) => ({
          id: a.id, name: a.name, stack: a.stack,
          stages: [...a.stages.values()].map((s) => ({ name: s.name, url: `${base}${DATA_PREFIX}${a.id}/${s.name}${USER_REQUEST}` })),
        })),
        keys: [...model.keys.values()].map((k) => ({
          id: k.id, name: k.name, enabled: k.enabled, usagePlans: model.plansOfKey(k.id).map((p) => p.name),
          ...(options.showValues ? { value: k.value } : {}),
          ...describeExpiry(k, clock()),
        })),
        scheduledJobs: scheduleRunner.nextRuns().map(({ job, at }) => ({
          name: job.name, ...(job.description ? { description: job.description } : {}), every: describeRate(job.rateMs), nextRunAt: new Date(at).toISOString(),
        })),
      };
    },
    port,
    unsupported: model.unsupported,
    ignored: model.ignored,
    model,
    sns,
    cloudwatch,
    s3,
    eventBus,
    firehose,
    get scheduledJobs() {
      return scheduleRunner.nextRuns().map(({ job, at }) => ({ job, nextRunAt: at }));
    },
    runDueJobs: () => scheduleRunner.runDue(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (firehoseTimer) clearInterval(firehoseTimer);
      firehose.flushAll();
      store?.flush();
      scheduleRunner.stop();
      lambdas.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return gateway;
}
