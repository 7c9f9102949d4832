import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { applyControlPlaneLimits, ControlPlaneLimiter } from '../sdk/rate-limit';
import { UsageError } from './errors';
import type { HandlerExecutionContext, InitializeHandler } from '@smithy/types';

export interface ConnectionOptions {
  readonly region?: string;
  readonly profile?: string;
  /** An API Gateway endpoint, e.g. the local gateway's `controlPlane` URL. */
  readonly endpoint?: string;
  /** Total attempts per call, including the first (adaptive retry). Default 8. */
  readonly maxAttempts?: number;
}

export interface OpsClients {
  readonly apigw: APIGatewayClient;
  readonly secrets: SecretsManagerClient;
  readonly region: string;
  readonly endpoint?: string;
  destroy(): void;
}

export const DEFAULT_MAX_ATTEMPTS = 8;

const NAME_OPERATION = { step: 'initialize', name: 'keygateNameOperation' } as const;

/** Tags a failed call's error with its operation (`GetUsage`), so a message can name it. */
const nameOperation = <I extends object, O extends object>(next: InitializeHandler<I, O>, context: HandlerExecutionContext): InitializeHandler<I, O> => async (args) => {
  try {
    return await next(args);
  } catch (err) {
    if (typeof err === 'object' && err !== null && context.commandName) {
      (err as { $operation?: string }).$operation = String(context.commandName).replace(/Command$/, '');
    }
    throw err;
  }
};

/** Placeholder credentials for a loopback endpoint (the local gateway does not check signatures). */
const LOCAL_CREDENTIALS = { accessKeyId: 'keygatelocal', secretAccessKey: 'keygatelocal' };

/**
 * A stage URL (where clients call the API: `https://ID.execute-api.REGION.amazonaws.com/prod`,
 * the local gateway's `…/restapis/ID/prod/_user_request_`), not an API Gateway control plane.
 */
export function isStageUrl(endpoint: string): boolean {
  try {
    const url = new URL(endpoint);
    return /\.execute-api\.[a-z0-9-]+\.amazonaws\.com/i.test(url.hostname) || /\/_user_request_\b|^\/restapis\//.test(url.pathname);
  } catch {
    return false;
  }
}

export function isLoopbackEndpoint(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname;
    return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/**
 * Builds the API Gateway and Secrets Manager clients from --region/--profile/--endpoint:
 * adaptive retry (client-side backoff on 429 TooManyRequests) and the control-plane limiter.
 * --endpoint moves every client the CLI builds (the local gateway serves API Gateway and
 * Secrets Manager on one port). Against a loopback endpoint the placeholder credentials are
 * always used: ambient credentials are neither sent to it nor resolved (an SSO or
 * assume-role profile would call AWS), and --profile is refused.
 */
export function createClients(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): OpsClients {
  if (options.endpoint !== undefined) {
    try {
      new URL(options.endpoint);
    } catch {
      throw new UsageError(`--endpoint ${options.endpoint} is not a URL (expected e.g. http://127.0.0.1:4566).`);
    }
  }
  if (options.endpoint !== undefined && isStageUrl(options.endpoint)) {
    throw new UsageError(`--endpoint ${options.endpoint} is a stage URL (where clients call the API), not the API Gateway control plane: `
      + 'drop --endpoint for AWS, or pass the local gateway\'s control-plane URL (`keygate local` prints it as "control plane"), e.g. http://127.0.0.1:4566.');
  }
  const local = options.endpoint !== undefined && isLoopbackEndpoint(options.endpoint);
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (local ? 'us-east-1' : undefined);
  if (!region) throw new UsageError('No AWS region: pass --region REGION or set AWS_REGION.');
  if (local && options.profile) {
    throw new UsageError(`--profile ${options.profile} with the local --endpoint ${options.endpoint}: the local gateway takes no credentials; drop --profile (a profile may call AWS to resolve its credentials).`);
  }
  const common = {
    region,
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(local ? { credentials: LOCAL_CREDENTIALS } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
  const apigw = applyControlPlaneLimits(
    new APIGatewayClient(common),
    new ControlPlaneLimiter(),
  );
  const secrets = new SecretsManagerClient(common);
  apigw.middlewareStack.add(nameOperation, NAME_OPERATION);
  secrets.middlewareStack.add(nameOperation, NAME_OPERATION);
  return {
    apigw,
    secrets,
    region,
    endpoint: options.endpoint,
    destroy() {
      apigw.destroy();
      secrets.destroy();
    },
  };
}
