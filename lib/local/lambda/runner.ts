/**
 * Runs Node.js Lambda handlers in child processes, isolated from the gateway: one warm
 * worker per function, started with only the function's environment (plus the variables
 * the Lambda runtime sets), killed and restarted on timeout or crash.
 */
import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LambdaFunction } from '../apigateway/model';

/** The worker program, plain JavaScript so it runs without a TypeScript loader. */
const WORKER_SOURCE = String.raw`
'use strict';
const path = require('path');
const url = require('url');
const { codeDir, handler, fnName, timeoutMs } = JSON.parse(process.env.__KEYGATE_WORKER);
delete process.env.__KEYGATE_WORKER;
// A custom resource's handler answers CloudFormation with an https PUT to the event's ResponseURL
// (on AWS an S3 presigned URL). Here that URL names a placeholder host, and an https request to it
// goes over http to the gateway's loopback listener that reads the answer (the handler's code is
// otherwise untouched: it builds the request with the options it always does).
if (process.env.__KEYGATE_CFN_RESPONSE) {
  const { host, port } = JSON.parse(process.env.__KEYGATE_CFN_RESPONSE);
  delete process.env.__KEYGATE_CFN_RESPONSE;
  const https = require('https');
  const http = require('http');
  const realRequest = https.request;
  https.request = function (options, ...rest) {
    if (!options || typeof options !== 'object' || options instanceof URL || (options.hostname || options.host) !== host) return realRequest.call(this, options, ...rest);
    const { agent, host: _h, hostname: _n, port: _p, protocol: _s, ...kept } = options;
    return http.request({ ...kept, hostname: '127.0.0.1', port }, ...rest);
  };
}
// The gateway's clock (e.g. --clock +100d): each invocation says how far it is from this machine's,
// and how fast it runs (a custom resource's clock runs faster than the wall's: its timers too).
let clockOffsetMs = 0;
let clockRate = 1;
const RealDate = Date;
let anchorReal = RealDate.now();
let anchorVirtual = anchorReal;
const virtualNow = () => anchorVirtual + (RealDate.now() - anchorReal) * clockRate + clockOffsetMs;
function setClock(offset, rate) {
  anchorVirtual = virtualNow() - clockOffsetMs;
  anchorReal = RealDate.now();
  clockOffsetMs = offset || 0;
  clockRate = rate > 0 ? rate : 1;
}
globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [virtualNow()] : args, newTarget),
  apply: () => new RealDate(virtualNow()).toString(),
  get: (target, prop, receiver) => (prop === 'now' ? virtualNow : Reflect.get(target, prop, receiver)),
});
const realSetTimeout = setTimeout;
const realSetInterval = setInterval;
globalThis.setTimeout = (fn, ms, ...args) => realSetTimeout(fn, Math.max(0, Number(ms) || 0) / clockRate, ...args);
globalThis.setInterval = (fn, ms, ...args) => realSetInterval(fn, Math.max(0, Number(ms) || 0) / clockRate, ...args);
let loaded;
async function load() {
  if (loaded) return loaded;
  const dot = handler.lastIndexOf('.');
  const modPath = handler.slice(0, dot);
  const fnPath = handler.slice(dot + 1);
  const base = path.resolve(codeDir, modPath);
  let mod;
  const candidates = [base + '.js', base + '.cjs', base + '.mjs', base];
  let file = candidates.find((c) => { try { return require('fs').statSync(c).isFile(); } catch { return false; } });
  if (!file) throw new Error('Cannot find module ' + modPath + ' in ' + codeDir);
  if (file.endsWith('.mjs')) mod = await import(url.pathToFileURL(file).href);
  else {
    try { mod = require(file); }
    catch (e) {
      if (e && e.code === 'ERR_REQUIRE_ESM') mod = await import(url.pathToFileURL(file).href);
      else throw e;
    }
  }
  let fn = mod;
  for (const p of fnPath.split('.')) fn = fn == null ? undefined : fn[p];
  if (fn === undefined && mod && mod.default) { fn = mod.default; for (const p of fnPath.split('.')) fn = fn == null ? undefined : fn[p]; }
  if (typeof fn !== 'function') throw new Error(modPath + '.' + fnPath + ' is undefined or not exported');
  loaded = fn;
  return fn;
}
function serializeError(e) {
  if (e instanceof Error) return { errorType: e.name || 'Error', errorMessage: e.message, trace: String(e.stack || '').split('\n') };
  return { errorType: 'Error', errorMessage: typeof e === 'string' ? e : JSON.stringify(e) };
}
process.on('message', async (msg) => {
  const { id, event, requestId } = msg;
  setClock(msg.clockOffsetMs, msg.clockRate);
  let done = false;
  const finish = (err, result) => {
    if (done) return;
    done = true;
    if (err !== undefined && err !== null) process.send({ id, error: serializeError(err) });
    else {
      let json;
      try { json = result === undefined ? undefined : JSON.stringify(result); } catch (e) { process.send({ id, error: serializeError(e) }); return; }
      process.send({ id, result: json });
    }
  };
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: fnName, functionVersion: '$LATEST', awsRequestId: requestId,
    invokedFunctionArn: msg.arn, memoryLimitInMB: String(msg.memory), logGroupName: '/aws/lambda/' + fnName,
    logStreamName: 'local', callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (e, r) => finish(e, r), succeed: (r) => finish(null, r), fail: (e) => finish(e || new Error('failed')),
  };
  try {
    const fn = await load();
    const ret = fn(event, context, (e, r) => finish(e, r));
    if (ret && typeof ret.then === 'function') ret.then((r) => finish(null, r), (e) => finish(e === undefined ? new Error('rejected') : e));
    else if (fn.length < 3 && ret !== undefined) finish(null, ret);
  } catch (e) { finish(e); }
});
process.on('uncaughtException', (e) => { try { process.send({ id: -1, error: serializeError(e) }); } catch {} process.exit(1); });
// Init phase (like Lambda's, not counted against the function timeout): load the handler, then say so.
load().then(() => process.send({ id: 0, ready: true }), (e) => process.send({ id: 0, ready: true, initError: serializeError(e) }));
`;

/** Lambda's init phase limit. */
const INIT_TIMEOUT_MS = 10_000;

export interface InvokeResult {
  /** The handler's JSON result (undefined when it returned nothing). */
  readonly result?: unknown;
  /** Set when the handler threw or called back with an error. */
  readonly error?: { errorType: string; errorMessage: string };
  /** Set when the invocation timed out or the worker died. */
  readonly failure?: 'timeout' | 'crash';
}

interface Pending {
  resolve(r: InvokeResult): void;
  timer: NodeJS.Timeout;
}

class Worker {
  private child?: ChildProcess;
  /** Resolves when the current child has loaded the handler (with the init error, if any). */
  private ready?: Promise<{ error?: { errorType: string; errorMessage: string }; failure?: 'timeout' | 'crash' }>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly fn: LambdaFunction, private readonly workerFile: string, private readonly codeDir: string, private readonly log: (line: string) => void) {}

  private start(): ChildProcess {
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      AWS_REGION: this.fn.region,
      AWS_DEFAULT_REGION: this.fn.region,
      AWS_LAMBDA_FUNCTION_NAME: this.fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.fn.memorySize),
      AWS_EXECUTION_ENV: `AWS_Lambda_${this.fn.runtime}`,
      LAMBDA_TASK_ROOT: this.codeDir,
      NODE_PATH: this.codeDir,
      ...this.fn.environment,
      __KEYGATE_WORKER: JSON.stringify({ codeDir: this.codeDir, handler: this.fn.handler, fnName: this.fn.name, timeoutMs }),
    };
    const child = fork(this.workerFile, [], {
      cwd: this.codeDir, env, execArgv: [`--max-old-space-size=${Math.max(64, this.fn.memorySize)}`], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json',
    });
    const prefix = `[lambda ${this.fn.logicalId}] `;
    const pipe = (s: NodeJS.ReadableStream | null): void => {
      s?.on('data', (d: Buffer) => {
        for (const line of d.toString('utf8').split('\n')) if (line.trim()) this.log(prefix + line);
      });
    };
    pipe(child.stdout);
    pipe(child.stderr);
    let onReady: (r: { error?: { errorType: string; errorMessage: string }; failure?: 'timeout' | 'crash' }) => void = () => undefined;
    this.ready = new Promise((resolve) => {
      const timer = setTimeout(() => { resolve({ failure: 'timeout' }); child.kill('SIGKILL'); }, INIT_TIMEOUT_MS);
      onReady = (r) => { clearTimeout(timer); resolve(r); };
    });
    child.on('message', (m: unknown) => {
      const msg = m as { id: number; result?: string; error?: { errorType: string; errorMessage: string }; ready?: boolean; initError?: { errorType: string; errorMessage: string } };
      if (msg.ready) { onReady({ error: msg.initError }); return; }
      if (msg.id === -1) return; // uncaught exception: the exit handler fails pending calls
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.resolve({ error: msg.error });
      else {
        let result: unknown;
        try { result = msg.result === undefined ? undefined : JSON.parse(msg.result); } catch { result = undefined; }
        p.resolve({ result });
      }
    });
    child.on('exit', () => {
      onReady({ failure: 'crash' });
      if (this.child === child) this.child = undefined;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.resolve({ failure: 'crash' });
        this.pending.delete(id);
      }
    });
    child.on('error', () => { /* reported through exit */ });
    this.child = child;
    return child;
  }

  async invoke(event: unknown, requestId: string, timeoutMs: number, clockOffsetMs: number, clockRate: number): Promise<InvokeResult> {
    const child = this.child ?? this.start();
    const init = await this.ready;
    if (init?.failure) return { failure: init.failure };
    if (init?.error) {
      // A handler that cannot load fails every invocation; the next one retries the init.
      if (this.child === child) { this.child = undefined; child.kill('SIGKILL'); }
      return { error: init.error };
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ failure: 'timeout' });
        // Like Lambda, a timed-out sandbox is discarded.
        if (this.child === child) { this.child = undefined; child.kill('SIGKILL'); }
      }, timeoutMs / clockRate);
      this.pending.set(id, { resolve, timer });
      try {
        child.send({ id, event, requestId, arn: this.fn.arn, memory: this.fn.memorySize, clockOffsetMs, clockRate });
      } catch {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve({ failure: 'crash' });
      }
    });
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}

export class LambdaRunner {
  private readonly workers = new Map<string, Worker>();
  private readonly dir: string;
  private readonly workerFile: string;

  constructor(private readonly log: (line: string) => void = (l) => process.stderr.write(l + '\n')) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-lambda-'));
    this.workerFile = path.join(this.dir, 'worker.js');
    fs.writeFileSync(this.workerFile, WORKER_SOURCE);
  }

  /**
   * Invokes `fn` with `event`; the timeout is the function's, capped by `maxMs` (the integration
   * timeout). The function's `Date` runs `clockOffsetMs` ahead of this machine's (the gateway's
   * simulated clock), and runs `clockRate` times as fast (its timers too; the timeout is on its clock).
   */
  invoke(fn: LambdaFunction, event: unknown, requestId: string, maxMs = 29_000, clockOffsetMs = 0, clockRate = 1): Promise<InvokeResult> {
    let w = this.workers.get(fn.arn);
    if (!w) {
      let codeDir = fn.codeDir;
      if (!codeDir) {
        // Inline (ZipFile) code: written as index.js (CloudFormation names it index), plus the handler's module name.
        codeDir = path.join(this.dir, `inline-${this.workers.size}`);
        fs.mkdirSync(codeDir, { recursive: true });
        const mod = fn.handler.slice(0, fn.handler.lastIndexOf('.')) || 'index';
        fs.writeFileSync(path.join(codeDir, 'index.js'), fn.inlineCode ?? '');
        if (mod !== 'index') fs.writeFileSync(path.join(codeDir, `${mod}.js`), fn.inlineCode ?? '');
      }
      w = new Worker(fn, this.workerFile, codeDir, this.log);
      this.workers.set(fn.arn, w);
    }
    return w.invoke(event, requestId, Math.min(fn.timeoutSeconds * 1000, maxMs), clockOffsetMs, clockRate);
  }

  close(): void {
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
