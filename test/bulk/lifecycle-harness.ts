/**
 * CloudFormation's custom-resource lifecycle for a client set, run through the CDK Provider
 * framework's own runtime — the `framework.js` asset of a real synth, i.e. the code AWS runs —
 * with only its outbound calls (`outbound.js`' exports, as aws-cdk's own tests patch them)
 * replaced:
 *
 * - Lambda invoke → keygate's bundled reconciler, loaded from the synthesized asset like a
 *   Lambda cold start, with a time budget (`getRemainingTimeInMillis`) and a hard timeout;
 * - the Step Functions waiter → a polling loop that follows the synthesized state machine's
 *   Retry (IntervalSeconds, MaxAttempts, BackoffRate) and Catch (→ onTimeout);
 * - the response to CloudFormation → a local HTTP listener that records status, reason and size.
 *
 * API Gateway is the local gateway's control plane with its rate limits on; S3 is a loopback
 * listener serving the synthesized manifest assets. Time is simulated (SimClock), shared by
 * the gateway's rate limits and the reconciler (its `Date` and timers are the clock's; every
 * code path is the real one), and jumped over the waiter's query intervals.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import Module from 'module';

/**
 * Simulated time: it moves only when a timer of the simulation fires (the earliest first, a
 * millisecond of wall time after the previous one, so calls in flight go on meanwhile) or
 * when the waiter jumps over a query interval. Calls themselves take no simulated time, so
 * the figures depend on the rate limits and time budgets only, not on how busy the machine is.
 */
export class SimClock {
  private virtual: number;
  private timers: Array<{ due: number; seq: number; fn: () => void }> = [];
  private watchers: Array<{ due: number; fire: () => void }> = [];
  private seq = 0;
  private pumping = false;

  constructor(start: number) {
    this.virtual = start;
  }

  now(): number {
    return this.virtual;
  }

  /** Jumps forward (the waiter's query interval: nothing runs meanwhile). */
  advance(ms: number): void {
    this.virtual += ms;
    this.wake();
  }

  /** A timer of the simulation: it makes time pass. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(resolve, ms));
  }

  /** Resolves once simulated time reaches now + ms, without making time pass itself. */
  when(ms: number): Promise<void> {
    const due = this.virtual + ms;
    return new Promise((resolve) => this.watchers.push({ due, fire: resolve }));
  }

  /** `Date` and timers on this clock, for code compiled against it. */
  globals(): { Date: DateConstructor; setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout } {
    const now = () => this.now();
    class SimDate extends Date {
      static now = now;
      constructor(...args: unknown[]) {
        if (args.length === 0) super(now());
        else super(...(args as [number]));
      }
    }
    const simSetTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => this.setTimer(() => fn(...args), ms ?? 0)) as unknown as typeof setTimeout;
    const simClearTimeout = ((id: number) => {
      this.timers = this.timers.filter((t) => t.seq !== id);
    }) as unknown as typeof clearTimeout;
    return { Date: SimDate as unknown as DateConstructor, setTimeout: simSetTimeout, clearTimeout: simClearTimeout };
  }

  private setTimer(fn: () => void, ms: number): number {
    const seq = ++this.seq;
    this.timers.push({ due: this.virtual + Math.max(0, ms), seq, fn });
    this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
    this.pump();
    return seq;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setTimeout(() => {
      this.pumping = false;
      const next = this.timers.shift();
      if (!next) return;
      this.virtual = Math.max(this.virtual, next.due);
      this.wake();
      next.fn();
      if (this.timers.length > 0) this.pump();
    }, 1);
  }

  private wake(): void {
    const due = this.watchers.filter((w) => w.due <= this.virtual);
    this.watchers = this.watchers.filter((w) => w.due > this.virtual);
    for (const watcher of due) watcher.fire();
  }
}

/** What the Provider framework needs from the synthesized template. */
export interface ProviderAssets {
  /** Folder of framework.js (the Provider framework runtime asset). */
  readonly frameworkDir: string;
  /** keygate's reconciler bundle (index.js). */
  readonly reconcilerFile: string;
  /** Handler export per user function: onEvent, isComplete. */
  readonly userHandlers: { onEvent: string; isComplete: string };
  /** The waiter state machine's Retry of the isComplete task. */
  readonly retry: { intervalSeconds: number; maxAttempts: number; backoffRate: number };
  /** The reconciler functions' timeout (seconds). */
  readonly lambdaTimeoutSeconds: number;
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** Finds the Provider framework's and the reconciler's assets and settings in a synthesized stack. */
export function providerAssets(assemblyDir: string, template: { Resources: Resources }): ProviderAssets {
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const assetDir = (fn: { Properties: Record<string, unknown> }) => path.join(assemblyDir, `asset.${String((fn.Properties.Code as { S3Key: string }).S3Key).replace(/\.zip$/, '')}`);
  const framework = functions.find((fn) => fn.Properties.Handler === 'framework.onEvent');
  const user = functions.find((fn) => fn.Properties.Handler === 'index.onEvent');
  if (!framework || !user) throw new Error('the template has no Provider framework or reconciler function');
  const machine = Object.values(template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  const definition = JSON.stringify(machine?.Properties.DefinitionString ?? '');
  const number = (name: string) => Number(new RegExp(`\\\\"${name}\\\\":([0-9.]+)`).exec(definition)?.[1]);
  return {
    frameworkDir: assetDir(framework),
    reconcilerFile: path.join(assetDir(user), 'index.js'),
    userHandlers: { onEvent: 'onEvent', isComplete: 'isComplete' },
    retry: { intervalSeconds: number('IntervalSeconds'), maxAttempts: number('MaxAttempts'), backoffRate: number('BackoffRate') },
    lambdaTimeoutSeconds: Number(user.Properties.Timeout),
  };
}

/** A fault the S3/API Gateway listener injects: answer the next `times` matching calls itself. */
export interface Fault {
  readonly method: string;
  readonly path: RegExp;
  /** Only calls with this `X-Amz-Target` (JSON protocol services such as Secrets Manager). */
  readonly target?: string;
  times: number;
  readonly status: number;
  readonly type: string;
}

/**
 * The reconciler's network: API Gateway calls forwarded to the local gateway, S3 GetObject of
 * the manifests served from the assembly folders. Each Lambda invocation gets its own path
 * prefix, so a timed-out invocation can be cut off as Lambda would freeze it.
 */
export class Network {
  public readonly faults: Fault[] = [];
  /** Requests per `METHOD /first-segment` (after the invocation prefix). */
  public readonly counts = new Map<string, number>();
  /** S3 objects read (bucket/key). */
  public readonly manifestReads: string[] = [];
  /** Answers per `METHOD path status`. */
  public readonly statuses = new Map<string, number>();
  /** Secrets Manager calls per action (`X-Amz-Target` without the service prefix). */
  public readonly secretsManagerCalls = new Map<string, number>();
  private readonly dead = new Set<string>();
  private readonly stalls = new Map<string, () => Promise<void>>();
  private server?: http.Server;
  private readonly assetDirs: string[] = [];

  constructor(private readonly gatewayPort: number, public readonly bucket: string) {}

  async start(): Promise<number> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Folders whose `asset.<key>` files S3 serves. */
  serveAssetsOf(dir: string): void {
    if (!this.assetDirs.includes(dir)) this.assetDirs.push(dir);
  }

  kill(invocation: string): void {
    this.dead.add(invocation);
  }

  /** Holds every call of `invocation` until `wait` resolves. */
  stall(invocation: string, wait: () => Promise<void>): void {
    this.stalls.set(invocation, wait);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const [, invocation, ...rest] = (req.url ?? '/').split('/');
    if (this.dead.has(invocation)) {
      req.socket.destroy();
      return;
    }
    await this.stalls.get(invocation)?.();
    if (this.dead.has(invocation)) {
      req.socket.destroy();
      return;
    }
    const url = `/${rest.join('/')}`;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    if (url.startsWith(`/${this.bucket}/`)) {
      const key = decodeURIComponent(url.slice(this.bucket.length + 2).split('?')[0]);
      this.manifestReads.push(`${this.bucket}/${key}`);
      const file = this.assetDirs.map((dir) => path.join(dir, `asset.${key}`)).find((f) => fs.existsSync(f));
      if (!file) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        res.end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(fs.readFileSync(file));
      return;
    }
    const counted = `${method} /${url.split('/')[1]?.split('?')[0] ?? ''}`;
    this.counts.set(counted, (this.counts.get(counted) ?? 0) + 1);
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('secretsmanager.')) {
      const action = target.slice('secretsmanager.'.length);
      this.secretsManagerCalls.set(action, (this.secretsManagerCalls.get(action) ?? 0) + 1);
    }
    const fault = this.faults.find((f) => f.times > 0 && f.method === method && f.path.test(url) && (f.target === undefined || f.target === req.headers['x-amz-target']));
    if (fault) {
      fault.times--;
      res.writeHead(fault.status, { 'content-type': 'application/json', 'x-amzn-errortype': fault.type, 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify({ message: 'Internal server error (injected by the lifecycle harness)' }));
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: this.gatewayPort, method, path: url, headers: { ...req.headers, host: `127.0.0.1:${this.gatewayPort}` } }, (up) => {
      const status = `${method} ${url.split('?')[0].replace(/\/[a-z0-9]{10}(?=\/|$)/g, '/{id}')} ${up.statusCode}`;
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  }
}

/** A response the framework sent to CloudFormation. */
export interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, unknown>;
  /** Bytes of the response body (CloudFormation accepts at most 4,096). */
  readonly bytes: number;
  /** isComplete polls the waiter made. */
  readonly polls: number;
}

export interface LifecycleEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly LogicalResourceId: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
  readonly PhysicalResourceId?: string;
}

/** Faults of one Lambda invocation of the reconciler. */
export interface InvocationFault {
  /** API Gateway answers this invocation's calls only after this long (simulated ms): it runs into its timeout. */
  readonly stallMs: number;
}

type FrameworkHandlers = {
  onEvent(event: unknown): Promise<void>;
  isComplete(event: unknown): Promise<void>;
  onTimeout(event: unknown): Promise<void>;
};

type Outbound = {
  invokeFunction: (req: { FunctionName: string; Payload: string }) => Promise<unknown>;
  startExecution: (req: { stateMachineArn: string; input: string }) => Promise<unknown>;
  httpRequest: (options: { path: string; method: string; headers: Record<string, string | number> }, body: string) => Promise<void>;
};

const ON_EVENT_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:keygate-client-set-on-event';
const IS_COMPLETE_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:keygate-client-set-is-complete';
const WAITER_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:keygate-client-set-waiter';
export const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Lifecycle/6f1a2b3c-0000-4000-8000-000000000001';

/** CloudFormation, the Provider framework's runtime, Step Functions and Lambda, around one provider. */
export class Lifecycle {
  /** Reconciler invocations so far, and those that timed out. */
  public invocations = 0;
  public timeouts = 0;
  /** Lines the reconciler and the framework logged. */
  public readonly logs: string[] = [];
  /** A fault for the next isComplete invocation, taken by it. */
  public nextIsCompleteFault?: InvocationFault;

  private readonly framework: FrameworkHandlers;
  private readonly responses = new Map<string, Omit<CfnResponse, 'polls'>>();
  private listener?: http.Server;
  private listenerPort = 0;
  private execution?: string;
  private restoreProcess: () => void = () => undefined;

  constructor(private readonly assets: ProviderAssets, private readonly clock: SimClock, private readonly network: Network, private readonly networkPort: number,
    private readonly lambdaTimeoutMs: number) {
    const harnessModules = path.join(path.dirname(path.dirname(assets.frameworkDir)), 'node_modules', '@aws-sdk');
    // outbound.js loads the Lambda and Step Functions clients at start; in Lambda the runtime
    // provides them. Their calls are exactly what the harness replaces: stand-ins that refuse.
    for (const client of ['client-lambda', 'client-sfn']) {
      fs.mkdirSync(path.join(harnessModules, client), { recursive: true });
      fs.writeFileSync(path.join(harnessModules, client, 'index.js'),
        "const refuse = () => { throw new Error('the lifecycle harness replaces this call'); };\n"
        + 'module.exports = new Proxy({}, { get: (_, name) => (name === "__esModule" ? false : class { constructor() { refuse(); } }) });\n');
    }
    // Node's own require (Jest's would load the framework into its sandbox, with another process.env).
    const load = outerRealm().Module.createRequire(path.join(assets.frameworkDir, 'framework.js'));
    this.framework = load('./framework.js') as FrameworkHandlers;
    const outbound = load('./outbound.js') as Outbound;
    outbound.invokeFunction = (req) => this.invoke(req.FunctionName, req.Payload);
    outbound.startExecution = async (req) => {
      this.execution = req.input;
      return { executionArn: `${req.stateMachineArn}:execution` };
    };
    outbound.httpRequest = (options, body) => new Promise<void>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: this.listenerPort, path: options.path, method: options.method, headers: options.headers }, (res) => {
        res.resume();
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`Unsuccessful HTTP response: ${res.statusCode}`));
        else resolve();
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  /** Starts the response listener and sets the framework's environment in the real process. */
  async start(): Promise<void> {
    this.listener = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const json = JSON.parse(body.toString('utf-8')) as Omit<CfnResponse, 'bytes' | 'polls'> & { RequestId: string };
        this.responses.set(json.RequestId, { ...json, bytes: body.length });
        res.writeHead(200);
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.listener?.listen(0, '127.0.0.1', resolve));
    this.listenerPort = (this.listener.address() as AddressInfo).port;

    const { process: realProcess, console: realConsole } = outerRealm();
    const saved = { ...realProcess.env };
    Object.assign(realProcess.env, {
      USER_ON_EVENT_FUNCTION_ARN: ON_EVENT_ARN, USER_IS_COMPLETE_FUNCTION_ARN: IS_COMPLETE_ARN, WAITER_STATE_MACHINE_ARN: WAITER_ARN,
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'harness', AWS_SECRET_ACCESS_KEY: 'harness', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const log = realConsole.log;
    realConsole.log = (...args: unknown[]) => {
      this.logs.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    };
    this.restoreProcess = () => {
      realConsole.log = log;
      for (const key of Object.keys(realProcess.env)) if (!(key in saved)) delete realProcess.env[key];
      Object.assign(realProcess.env, saved);
    };
  }

  async close(): Promise<void> {
    this.restoreProcess();
    await new Promise<void>((resolve) => {
      if (!this.listener) return resolve();
      this.listener.close(() => resolve());
      this.listener.closeAllConnections();
    });
  }

  /** Sends one CloudFormation request through the framework and waits for its response. */
  async send(request: LifecycleEvent): Promise<CfnResponse> {
    // A minute passes between CloudFormation's requests (the test's own reads take tokens too).
    this.clock.advance(60_000);
    const requestId = randomUUID();
    const event = {
      ...request,
      ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
      ResponseURL: `https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/${encodeURIComponent(`${STACK_ID}|${request.LogicalResourceId}|${requestId}`)}?X-Amz-Signature=harness`,
      StackId: STACK_ID,
      RequestId: requestId,
      ResourceType: 'Custom::KeygateClientSet',
    };
    this.execution = undefined;
    const realStart = Date.now();
    await this.framework.onEvent(event);
    let polls = 0;
    const input = this.execution as string | undefined;
    if (input !== undefined && !this.responses.has(requestId)) {
      // The waiter: Task framework-isComplete with Retry [States.ALL] and Catch → onTimeout.
      const { intervalSeconds, maxAttempts, backoffRate } = this.assets.retry;
      for (let attempt = 0; ; attempt++) {
        polls++;
        try {
          await this.framework.isComplete(JSON.parse(input));
          break;
        } catch (err) {
          const e = err as Error;
          if (attempt >= maxAttempts) {
            await this.framework.onTimeout({ Error: e.name, Cause: JSON.stringify({ errorType: e.name, errorMessage: e.message }) });
            break;
          }
          this.clock.advance(intervalSeconds * 1000 * backoffRate ** attempt);
        }
      }
    }
    if (process.env.KEYGATE_HARNESS_LOG) {
      this.logs.push(`[keygate client set harness] ${request.RequestType} ${request.LogicalResourceId}: ${polls} polls, ${Date.now() - realStart} ms ${JSON.stringify([...this.network.statuses])}`);
      this.network.statuses.clear();
    }
    const response = this.responses.get(requestId);
    if (!response) throw new Error(`no response to CloudFormation for ${request.RequestType} ${request.LogicalResourceId}`);
    return { ...response, polls };
  }

  /** Lambda: a cold start of the bundle from the asset, the budget, the timeout and the error payloads of the Node.js runtime. */
  private async invoke(functionName: string, payload: string): Promise<{ StatusCode: number; FunctionError?: string; Payload: Uint8Array }> {
    const handlerName = functionName === ON_EVENT_ARN ? this.assets.userHandlers.onEvent : functionName === IS_COMPLETE_ARN ? this.assets.userHandlers.isComplete : undefined;
    if (!handlerName) throw new Error(`ResourceNotFoundException: Function not found: ${functionName}`);
    const invocation = `i${++this.invocations}`;
    const { process: realProcess } = outerRealm();
    realProcess.env.AWS_ENDPOINT_URL_API_GATEWAY = `http://127.0.0.1:${this.networkPort}/${invocation}`;
    realProcess.env.AWS_ENDPOINT_URL_S3 = `http://127.0.0.1:${this.networkPort}/${invocation}`;
    realProcess.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${this.networkPort}/${invocation}`;
    const handler = loadBundle(this.assets.reconcilerFile, this.clock)[handlerName] as (event: unknown, context: unknown) => Promise<unknown>;
    const fault = handlerName === this.assets.userHandlers.isComplete ? this.nextIsCompleteFault : undefined;
    if (fault) this.nextIsCompleteFault = undefined;
    const end = this.clock.now() + this.lambdaTimeoutMs;
    if (fault) this.network.stall(invocation, () => this.clock.sleep(fault.stallMs));
    const context = { getRemainingTimeInMillis: () => Math.max(0, end - this.clock.now()), functionName, awsRequestId: randomUUID() };
    const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value ?? null));
    const timedOut = Symbol('timeout');
    const run = handler(JSON.parse(payload), context).then(
      (result) => ({ result }),
      (error: Error) => ({ error }),
    );
    const outcome = await Promise.race<{ result: unknown } | { error: Error } | symbol>([run, this.clock.when(this.lambdaTimeoutMs).then(() => timedOut)]);
    if (typeof outcome === 'symbol') {
      this.timeouts++;
      this.network.kill(invocation);
      const seconds = (this.lambdaTimeoutMs / 1000).toFixed(2);
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: 'Sandbox.Timedout', errorMessage: `${new Date(this.clock.now()).toISOString()} ${context.awsRequestId} Task timed out after ${seconds} seconds` }) };
    }
    if ('error' in outcome) {
      const e = outcome.error;
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') }) };
    }
    return { StatusCode: 200, Payload: encode(outcome.result) };
  }
}

/** Node's own process and console (the bundle and the framework run outside Jest's sandbox). */
interface OuterRealm {
  readonly process: NodeJS.Process;
  readonly console: Console;
  readonly globalThis: typeof globalThis;
  readonly Module: typeof Module;
}
let outer: OuterRealm | undefined;
function outerRealm(): OuterRealm {
  if (outer) return outer;
  const module = new Module('keygate-harness-outer.js');
  (module as unknown as { _compile(code: string, file: string): void })._compile("module.exports = { process, console, globalThis, Module: require('module') };", 'keygate-harness-outer.js');
  outer = module.exports as OuterRealm;
  return outer;
}

/** Loads the bundle as a Lambda cold start would, its `Date` and timers on the simulated clock. */
function loadBundle(file: string, clock: SimClock): Record<string, unknown> {
  const bundle = new Module(file);
  bundle.filename = file;
  // AWS SDK v3 from node_modules: the Lambda runtime's copy in production.
  bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.resolve(__dirname, '..', '..'));
  const realGlobal = outerRealm().globalThis as unknown as Record<string, unknown>;
  const { Date: SimDate, setTimeout: simSetTimeout, clearTimeout: simClearTimeout } = clock.globals();
  realGlobal.__keygateHarnessClock = [SimDate, simSetTimeout, simClearTimeout];
  try {
    const code = fs.readFileSync(file, 'utf-8');
    (bundle as unknown as { _compile(code: string, file: string): void })._compile(
      `(function (Date, setTimeout, clearTimeout) {${code}\n}).apply(this, globalThis.__keygateHarnessClock);`, file);
  } finally {
    delete realGlobal.__keygateHarnessClock;
  }
  return bundle.exports as Record<string, unknown>;
}
