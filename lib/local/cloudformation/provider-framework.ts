/**
 * The CDK Provider framework's runtime, run as AWS runs it for CloudFormation: `framework.js`
 * from the synthesized asset of the framework's onEvent function (the code AWS runs), with only
 * its three outbound calls (`outbound.js`' exports, as aws-cdk's own tests patch them) served
 * locally:
 *
 * - Lambda Invoke of the user's onEvent/isComplete → the app's functions in the local Lambda
 *   runner (their bundled assets, the AWS SDK pointed at this gateway);
 * - Step Functions StartExecution of the waiter → the synthesized state machine's Task states
 *   with their Retry (IntervalSeconds, MaxAttempts, BackoffRate) and Catch;
 * - the PUT to CloudFormation's ResponseURL → a loopback listener that reads the response.
 *
 * The framework itself runs in the gateway's process (its functions only pass events along);
 * the Lambda and Step Functions clients it loads at start are stand-ins that refuse, since
 * their calls are the ones served here.
 *
 * aws-cdk-lib's AwsCustomResource has no framework: its function is invoked with the event
 * directly and answers the ResponseURL itself (aws-custom-resource.ts).
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import Module from 'module';
import { LambdaFunction } from '../apigateway/model';
import { LocalLambdaInvoker } from '../lambda/aws-invoker';
import { isAwsCustomResourceProvider, LOCAL_RESPONSE_HOST, localEvent } from './aws-custom-resource';
import { Obj } from './values';

/** A request CloudFormation sends to a custom resource's provider (without ResponseURL and ServiceToken). */
export interface CustomResourceRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  readonly ResourceProperties: Obj;
  readonly OldResourceProperties?: Obj;
  readonly PhysicalResourceId?: string;
}

/** The provider's answer, as CloudFormation reads it from the ResponseURL. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Obj;
}

type Handler = (event: unknown) => Promise<void>;
type Outbound = {
  invokeFunction: (req: { FunctionName: string; Payload: string }) => Promise<unknown>;
  startExecution: (req: { stateMachineArn: string; input: string }) => Promise<unknown>;
  httpRequest: (options: { path: string; method: string; headers: Record<string, string | number> }, body: string) => Promise<void>;
};

export interface ProviderFrameworkOptions {
  /** Invokes the app's Lambda functions (the user's handlers). */
  readonly invoke: LocalLambdaInvoker;
  /** The app's function of an ARN (the service token, the waiter's tasks). */
  readonly functionOf: (arn: string) => LambdaFunction | undefined;
  /** State machine ARN → definition. */
  readonly stateMachineOf: (arn: string) => Obj | undefined;
  /** How much faster than the wall the custom resources' clock runs (the waiter's intervals, the handlers' Date and timers). */
  readonly clockRate: number;
  /** Where the framework's log lines go (they hold events and properties, never a key value from keygate's handlers). */
  readonly log: (line: string) => void;
}

/** Node's own `process` (the framework reads its environment there, also when a test runner sandboxes ours). */
function nativeProcess(): NodeJS.Process {
  return Module.createRequire(__filename)('process') as NodeJS.Process;
}

/** Why a service token cannot run locally, or undefined. */
export function unsupportedProvider(fn: LambdaFunction | undefined, serviceToken: string): string | undefined {
  if (!fn) return `its ServiceToken ${serviceToken} is not a Lambda function of this app (SNS-backed and external providers are not run locally)`;
  if (isAwsCustomResourceProvider(fn)) return fn.unsupportedReason;
  if (fn.handler !== 'framework.onEvent' || !fn.codeDir) return 'its provider is neither the CDK Provider framework nor AwsCustomResource (only those custom resources run locally)';
  return fn.unsupportedReason;
}

export class ProviderFramework {
  private readonly loaded = new Map<string, Record<string, Handler>>();
  private readonly responses = new Map<string, CustomResourceResponse>();
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-provider-'));
  private listener?: http.Server;
  private port = 0;
  private execution?: { stateMachineArn: string; input: string };
  private readonly encoder = new TextEncoder();

  constructor(private readonly options: ProviderFrameworkOptions) {}

  /** Sends one request through the framework whose onEvent function is `serviceToken`; resolves with the response CloudFormation got. */
  async send(serviceToken: string, request: CustomResourceRequest): Promise<CustomResourceResponse> {
    const fn = this.options.functionOf(serviceToken);
    const reason = unsupportedProvider(fn, serviceToken);
    if (reason || !fn) throw new Error(reason);
    await this.listen();
    const requestId = randomUUID();
    const responsePath = `/cloudformation-response/${encodeURIComponent(`${request.StackId}|${request.LogicalResourceId}|${requestId}`)}`;
    if (isAwsCustomResourceProvider(fn)) {
      await this.invokeDirectly(fn, { ...request, ServiceToken: serviceToken, RequestId: requestId, ResponseURL: `https://${LOCAL_RESPONSE_HOST}${responsePath}` }, requestId);
      return this.takeResponse(requestId, request);
    }
    const event = { ...request, ServiceToken: serviceToken, RequestId: requestId, ResponseURL: `http://127.0.0.1:${this.port}${responsePath}` };
    await this.withEnvironment(fn, async () => {
      this.execution = undefined;
      await this.handler(fn)(event);
      const execution = this.execution as { stateMachineArn: string; input: string } | undefined;
      if (execution && !this.responses.has(requestId)) await this.runWaiter(execution);
    });
    return this.takeResponse(requestId, request);
  }

  private takeResponse(requestId: string, request: CustomResourceRequest): CustomResourceResponse {
    const response = this.responses.get(requestId);
    this.responses.delete(requestId);
    if (!response) throw new Error(`the provider sent no response to CloudFormation for ${request.RequestType} ${request.LogicalResourceId}`);
    return response;
  }

  /** CloudFormation invoking a Lambda-backed custom resource's function (asynchronously on AWS; here until it answered). */
  private async invokeDirectly(fn: LambdaFunction, event: Obj & { ResourceProperties: Obj }, requestId: string): Promise<void> {
    // No waiter here to speed up: the function runs on the wall's clock (its timeout too).
    const out = await this.options.invoke(fn.arn, localEvent(event), {
      clockRate: 1,
      environment: { __KEYGATE_CFN_RESPONSE: JSON.stringify({ host: LOCAL_RESPONSE_HOST, port: this.port }) },
    });
    if (this.responses.has(requestId)) return;
    // On AWS, CloudFormation would wait for the answer until the resource's timeout; here the function's end is enough.
    const why = out.failure ? (out.failure === 'timeout' ? 'timed out' : 'crashed') : out.error ? `failed: ${out.error.errorType}: ${out.error.errorMessage}` : 'ended';
    throw new Error(`the function ${fn.logicalId} ${why} without answering CloudFormation`);
  }

  close(): void {
    this.listener?.close();
    this.listener?.closeAllConnections();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The framework function's environment (the user functions' and the waiter's ARNs), in Node's own process while it runs. */
  private async withEnvironment(fn: LambdaFunction, work: () => Promise<void>): Promise<void> {
    const env = nativeProcess().env;
    const saved = Object.fromEntries(Object.keys(fn.environment).map((k) => [k, env[k]]));
    Object.assign(env, fn.environment);
    try {
      await work();
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete env[k]; else env[k] = v;
    }
  }

  /** The framework's handler named by a function's `Handler` (framework.onEvent, framework.isComplete, framework.onTimeout). */
  private handler(fn: LambdaFunction): Handler {
    const codeDir = fn.codeDir as string;
    let mod = this.loaded.get(codeDir);
    if (!mod) mod = this.load(codeDir);
    const name = fn.handler.slice(fn.handler.lastIndexOf('.') + 1);
    const h = mod[name];
    if (typeof h !== 'function') throw new Error(`${fn.logicalId}: the Provider framework has no handler ${fn.handler}`);
    return h;
  }

  /** Loads a copy of the asset with its outbound calls served here. */
  private load(codeDir: string): Record<string, Handler> {
    const copy = path.join(this.dir, `framework-${this.loaded.size}`);
    fs.cpSync(codeDir, copy, { recursive: true });
    for (const client of ['client-lambda', 'client-sfn']) {
      fs.mkdirSync(path.join(copy, 'node_modules', '@aws-sdk', client), { recursive: true });
      fs.writeFileSync(path.join(copy, 'node_modules', '@aws-sdk', client, 'index.js'),
        "const refuse = () => { throw new Error('keygate local serves this call itself'); };\n"
        + 'module.exports = new Proxy({}, { get: (_, name) => (name === "__esModule" ? false : class { constructor() { refuse(); } }) });\n');
    }
    const load = Module.createRequire(path.join(copy, 'framework.js'));
    const mod = load('./framework.js') as Record<string, Handler>;
    const util = load('./util.js') as { log: (...args: unknown[]) => void };
    util.log = (title: unknown, ...args: unknown[]) => this.options.log(`[provider-framework] ${String(title)} ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`.slice(0, 2000));
    const outbound = load('./outbound.js') as Outbound;
    outbound.invokeFunction = (req) => this.invoke(req.FunctionName, req.Payload);
    outbound.startExecution = async (req) => {
      this.execution = req;
      return { executionArn: `${req.stateMachineArn}:local-${randomUUID()}` };
    };
    outbound.httpRequest = (options, body) => this.respond(options, body);
    this.loaded.set(codeDir, mod);
    return mod;
  }

  /** Lambda's Invoke API as the framework calls it: the payload of a result or of an error. */
  private async invoke(functionName: string, payload: string): Promise<{ StatusCode: number; FunctionError?: string; Payload: Uint8Array }> {
    const out = await this.options.invoke(functionName, JSON.parse(payload) as object, { clockRate: this.options.clockRate });
    const encode = (v: unknown) => this.encoder.encode(JSON.stringify(v ?? null));
    if (out.failure === 'timeout') return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: 'Sandbox.Timedout', errorMessage: `Task timed out (${out.logicalId})` }) };
    if (out.failure) return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited (${out.logicalId})` }) };
    if (out.error) return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode(out.error) };
    return { StatusCode: 200, Payload: encode(out.result) };
  }

  /** The waiter: from the start state, each Task invokes its function (a framework handler) with its Retry and Catch. */
  private async runWaiter(execution: { stateMachineArn: string; input: string }): Promise<void> {
    const definition = this.options.stateMachineOf(execution.stateMachineArn);
    if (!definition) throw new Error(`the waiter state machine ${execution.stateMachineArn} is not in the app`);
    const states = definition.States as Record<string, Obj>;
    let name = definition.StartAt as string | undefined;
    let input: unknown = JSON.parse(execution.input);
    while (name) {
      const state = states[name];
      const outcome = await this.runTask(state, input);
      if (outcome.error === undefined) {
        name = state.End ? undefined : (state.Next as string | undefined);
        continue;
      }
      const katch = ((state.Catch ?? []) as Obj[]).find((c) => (c.ErrorEquals as string[]).some((e) => e === 'States.ALL' || e === outcome.error?.name));
      if (!katch) throw new Error(`the waiter failed in ${name}: ${outcome.error.message}`);
      input = { Error: outcome.error.name, Cause: JSON.stringify({ errorType: outcome.error.name, errorMessage: outcome.error.message }) };
      name = katch.Next as string;
    }
  }

  /** One Task state with its Retry (intervals on the custom resources' clock). */
  private async runTask(state: Obj, input: unknown): Promise<{ error?: Error }> {
    const fn = this.options.functionOf(String(state.Resource));
    if (!fn?.codeDir) return { error: new Error(`the waiter's task ${String(state.Resource)} is not a function of this app`) };
    const retry = ((state.Retry ?? []) as Obj[])[0] ?? {};
    const interval = Number(retry.IntervalSeconds ?? 1) * 1000;
    const attempts = Number(retry.MaxAttempts ?? 0);
    const backoff = Number(retry.BackoffRate ?? 2);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.handler(fn)(input);
        return {};
      } catch (err) {
        if (attempt >= attempts) return { error: err as Error };
        await new Promise((resolve) => setTimeout(resolve, (interval * backoff ** attempt) / this.options.clockRate));
      }
    }
  }

  /** The framework's PUT to the ResponseURL, on loopback. */
  private respond(options: { path: string; method: string; headers: Record<string, string | number> }, body: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: this.port, path: options.path, method: options.method, headers: options.headers }, (res) => {
        res.resume();
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`Unsuccessful HTTP response: ${res.statusCode}`));
        else resolve();
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  /** CloudFormation's side of the ResponseURL. */
  private async listen(): Promise<void> {
    if (this.listener) return;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CustomResourceResponse & { RequestId: string };
          this.responses.set(json.RequestId, json);
          res.writeHead(200);
        } catch {
          res.writeHead(400);
        }
        res.end();
      });
    });
    this.listener = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }
}
