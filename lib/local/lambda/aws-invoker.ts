/**
 * Runs an app's Lambda function for a local AWS service (Secrets Manager's rotation, an
 * EventBridge schedule): the function's own code in a Lambda worker, with the AWS SDK pointed
 * back at this gateway (AWS_ENDPOINT_URL: every SDK client, API Gateway, Secrets Manager, SNS
 * and CloudWatch alike, reaches the gateway's slices) and the SDK v3 that Lambda's Node.js
 * runtime provides taken from keygate's own installation.
 */
import * as path from 'path';
import { InvokeResult, LambdaRunner } from './runner';
import { Model } from '../apigateway/model';

/** Invokes the function `lambdaArn` with `event`; rejects with the function's error. */
export type LocalAwsInvoker = (lambdaArn: string, event: object) => Promise<unknown>;

/** The node_modules folder that holds the AWS SDK v3 (what Lambda's Node.js runtime provides). */
export function sdkModulesDir(): string {
  let dir = require.resolve('@aws-sdk/client-secrets-manager');
  while (path.basename(dir) !== 'node_modules') {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('keygate local: cannot find the AWS SDK v3 for Lambda functions');
    dir = parent;
  }
  return dir;
}

/** Invokes the function `lambdaArn` with `event` as Lambda's Invoke API does: the raw outcome, errors included. */
export type LocalLambdaInvoker = (lambdaArn: string, event: object, options?: { clockRate?: number; environment?: Record<string, string> }) => Promise<InvokeResult & { readonly logicalId: string }>;

/**
 * `clock` is the gateway's: the function's `Date` follows it (a job run with `--clock +100d`
 * sees the day the gateway serves); `clockRate` makes its clock (and timers) run faster.
 */
export function localLambdaInvoker(model: Pick<Model, 'functions'>, lambdas: LambdaRunner, endpoint: () => string, clock: () => number = Date.now): LocalLambdaInvoker {
  let invocations = 0;
  return async (lambdaArn, event, options = {}) => {
    const fn = model.functions.get(lambdaArn);
    if (!fn) throw new Error(`Lambda ${lambdaArn} is not a function of this app`);
    if (fn.unsupportedReason) throw new Error(`Lambda ${fn.logicalId} cannot run locally: ${fn.unsupportedReason}`);
    const local = {
      ...fn,
      environment: {
        ...fn.environment,
        AWS_ENDPOINT_URL: endpoint(),
        // Any credentials: the gateway checks that requests are signed, not by whom.
        AWS_ACCESS_KEY_ID: 'keygate-local', AWS_SECRET_ACCESS_KEY: 'keygate-local',
        NODE_PATH: [fn.codeDir, sdkModulesDir()].filter(Boolean).join(path.delimiter),
        // The function runs on Lambda's Node.js; the SDK's warning about this machine's Node is noise here.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...options.environment,
      },
    };
    const out = await lambdas.invoke(local, event, `local-aws-${++invocations}`, fn.timeoutSeconds * 1000, clock() - Date.now(), options.clockRate);
    return { ...out, logicalId: fn.logicalId };
  };
}

/** Like {@link localLambdaInvoker}, but resolves with the function's result and rejects with its error. */
export function localAwsInvoker(model: Model, lambdas: LambdaRunner, endpoint: () => string, clock: () => number = Date.now): LocalAwsInvoker {
  const invoke = localLambdaInvoker(model, lambdas, endpoint, clock);
  return async (lambdaArn, event) => {
    const out = await invoke(lambdaArn, event);
    if (out.failure) throw new Error(`Lambda ${out.logicalId} ${out.failure === 'timeout' ? 'timed out' : 'crashed'}`);
    if (out.error) throw new Error(`${out.error.errorType}: ${out.error.errorMessage}`);
    return out.result;
  };
}
