/**
 * The local gateway: one HTTP server on 127.0.0.1 serving the data plane of every API
 * stage of a cloud assembly (under `/restapis/{apiId}/{stage}/_user_request_/…`) and the
 * API Gateway control plane (at the root, for the AWS SDK's `endpoint`).
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { loadAssembly } from './assembly';
import { ControlPlane, errorResponse } from './control-plane';
import { describeExpiry } from './expiry';
import { RequestActivity } from './dashboard/activity';
import { Dashboard } from './dashboard/dashboard';
import { DataPlane, DataPlaneResponse, MAX_BODY_BYTES, RequestRecord } from './data-plane';
import { renderGatewayResponse } from './gateway-responses';
import { localAwsInvoker } from './local-aws-invoker';
import { ScheduleRunner } from './schedules';
import { LocalSecretsManager, RotationInvoker } from './secrets-manager';
import { LambdaRunner } from './lambda-runner';
import { buildModel } from './model-builder';
import { Model, ThrottleSettings, UnsupportedItem } from './model';
import { QuotaCounter } from './quota';
import { applyState, readState, snapshotState, StateStore } from './state';
import { ThrottleRegistry } from './throttle';

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
  /** [dashboard] Called once per finished data-plane request. Default: none. */
  readonly onRequest?: (record: RequestRecord) => void;
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
  /** [dashboard] The local dashboard; the URL carries this run's access token. */
  readonly dashboard: string;
  readonly apis: LocalApiInfo[];
  readonly keys: LocalKeyInfo[];
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
  /** Saves the state (if any), stops the server and the Lambda workers. */
  close(): Promise<void>;
}

const DATA_PREFIX = '/restapis/';
const EMPTY = Buffer.alloc(0);
const USER_REQUEST = '/_user_request_';

export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const clock = options.clock ?? Date.now;
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const assembly = loadAssembly(options.assemblyDir);
  const state = options.statePath ? readState(options.statePath) : undefined;
  const { model, generated, secrets, schedules } = buildModel(assembly, state?.template, options.deployedAt ?? clock());
  const templateKeyIds = new Set(model.keys.keys());
  if (state) applyState(model, state, templateKeyIds);
  const quotas = new QuotaCounter(state?.usage ?? {});
  const template = { keyValues: { ...state?.template.keyValues, ...generated.keyValues }, secrets: { ...state?.template.secrets, ...generated.secrets } };
  const store = options.statePath ? new StateStore(options.statePath, () => snapshotState(model, quotas.counts, templateKeyIds, template)) : undefined;
  store?.saveNow();

  const lambdas = new LambdaRunner(log);
  // [dashboard] the dashboard reads the data plane's buckets and counters and observes its requests.
  const throttles = new ThrottleRegistry();
  const activity = new RequestActivity();
  const onRequest = (r: RequestRecord): void => {
    activity.record(r);
    // An observer's bug must not fail the request it observes.
    try { options.onRequest?.(r); } catch (e) { log(`keygate local: onRequest failed: ${(e as Error)?.message ?? String(e)}`); }
  };
  const dataPlane = new DataPlane(model, { clock, lambdas, quotas, throttles, onCounted: store ? () => store.saveSoon() : undefined, log, accessLog: options.accessLog, accountThrottle: options.accountThrottle, onRequest });
  const dashboard = new Dashboard({ model, throttles, quotas, activity, clock, log, port: () => port, apis: () => gateway.info.apis });
  const controlPlane = new ControlPlane(model, { clock, quotas, persist: store ? () => store.saveNow() : undefined, limits: options.controlPlaneLimits });
  const invokeLocally = localAwsInvoker(model, lambdas, () => base);
  const secretsManager = new LocalSecretsManager(secrets, {
    clock, region: model.region, accountId: model.accountId,
    invokeRotation: options.invokeRotation ?? (async (arn, event) => { await invokeLocally(arn, event); }),
  });
  const scheduleRunner = new ScheduleRunner(schedules, invokeLocally, log);

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`keygate local: internal error: ${(e as Error)?.stack ?? String(e)}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
        res.end('{"message":"Internal server error"}');
      } else res.destroy();
    });
  });
  server.on('clientError', (_err: Error, socket) => {
    const tooLarge = (_err as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = tooLarge ? '{"message":"Request Header Fields Too Large"}' : '{"message":"Bad Request"}';
    if (socket.writable) {
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-amzn-requestid: ${randomUUID()}\r\nconnection: close\r\n\r\n${body}`);
    }
    else socket.destroy();
  });
  server.keepAliveTimeout = 5_000;

  async function readBody(req: http.IncomingMessage): Promise<Buffer | 'too-large'> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return 'too-large';
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) { over = true; chunks.length = 0; return; }
        if (!over) chunks.push(c);
      });
      req.on('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  function send(res: http.ServerResponse, method: string, out: DataPlaneResponse): void {
    // An explicit length lets Node send head and body in one write (no chunked encoding).
    out.headers['content-length'] = String(typeof out.body === 'string' ? Buffer.byteLength(out.body) : out.body.length);
    res.writeHead(out.status, out.headers);
    res.end(method === 'HEAD' ? undefined : out.body);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPathAll = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    // No body announced (GET, HEAD…): skip the stream entirely.
    const body = !req.headers['content-length'] && !req.headers['transfer-encoding'] ? EMPTY : await readBody(req);
    const ui = rawPathAll.startsWith(DATA_PREFIX) ? rawPathAll.indexOf(USER_REQUEST) : -1;
    if (ui > 0) {
      const [apiId, stage] = rawPathAll.slice(DATA_PREFIX.length, ui).split('/');
      const rest = rawPathAll.slice(ui + USER_REQUEST.length);
      if (stage !== undefined && (rest === '' || rest.startsWith('/'))) {
        if (body === 'too-large') {
          const api = model.apis.get(apiId);
          const r = renderGatewayResponse(api, 'REQUEST_TOO_LARGE', { context: { requestId: randomUUID(), apiId, stage }, requestHeaders: {}, query: {}, pathParams: {}, stageVariables: {} });
          res.writeHead(r.status, { ...r.headers, 'x-amzn-requestid': randomUUID(), connection: 'close' });
          res.end(r.body);
          return;
        }
        const out = dataPlane.handle({
          apiId, stage, rawPath: rest || '/', rawQuery, method, headers: req.headers, rawHeaders: req.rawHeaders, body,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1', host: req.headers.host ?? `127.0.0.1:${port}`,
        });
        if (out instanceof Promise) send(res, method, await out);
        else send(res, method, out);
        return;
      }
    }
    // [dashboard]
    if (Dashboard.owns(rawPathAll)) return dashboard.handle(req, res, rawPathAll, rawQuery);
    const requestId = randomUUID();
    if (body === 'too-large') {
      const r = errorResponse(413, 'RequestTooLongException', 'Request Too Long');
      res.writeHead(r.status, { ...r.headers, 'x-amzn-requestid': requestId, connection: 'close' });
      res.end(r.body);
      return;
    }
    let query: URLSearchParams;
    try {
      query = new URLSearchParams(rawQuery);
    } catch {
      query = new URLSearchParams();
    }
    const out = method === 'POST' && LocalSecretsManager.accepts(req.headers)
      ? await secretsManager.handle({ target: String(req.headers['x-amz-target']), body })
      : controlPlane.handle({ method, path: rawPathAll, query, body });
    res.writeHead(out.status, { ...out.headers, 'x-amzn-requestid': requestId, 'content-length': String(Buffer.byteLength(out.body)) });
    res.end(out.body);
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
  scheduleRunner.start();

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
      };
    },
    port,
    unsupported: model.unsupported,
    ignored: model.ignored,
    model,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
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
