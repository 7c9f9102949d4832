/**
 * Errors of the ops CLI. An {@link OpsError} carries the exit code the CLI should use
 * (2 for bad usage or bad input, 1 for a failure) and a message that says what to do.
 */
export class OpsError extends Error {
  public readonly exitCode: number;
  /** Extra lines (for example every validation error of a CSV file). */
  public readonly details: readonly string[];

  constructor(message: string, options: { exitCode?: number; details?: readonly string[] } = {}) {
    super(message);
    this.name = 'OpsError';
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details ?? [];
  }
}

/** Bad usage or bad input: exit code 2. */
export class UsageError extends OpsError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, { exitCode: 2, details });
    this.name = 'UsageError';
  }
}

interface AwsLikeError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  cause?: unknown;
}

function asAwsError(err: unknown): AwsLikeError {
  return typeof err === 'object' && err !== null ? (err as AwsLikeError) : {};
}

/** The service's error name (`NotFoundException`, `TooManyRequestsException`, …) if any. */
export function awsErrorName(err: unknown): string | undefined {
  return asAwsError(err).name;
}

export function isNotFound(err: unknown): boolean {
  const e = asAwsError(err);
  return e.name === 'NotFoundException' || e.name === 'ResourceNotFoundException' || e.$metadata?.httpStatusCode === 404;
}

export function isConflict(err: unknown): boolean {
  const e = asAwsError(err);
  return e.name === 'ConflictException' || e.$metadata?.httpStatusCode === 409;
}

/** API Gateway's 409 for a write that met another write of the region: try again later. */
export function isConcurrentModification(err: unknown): boolean {
  return isConflict(err) && /concurrent modification/i.test(asAwsError(err).message ?? '');
}

/** A 409 that says the key is in the plan already (not a concurrent modification). */
export function isAlreadyInPlan(err: unknown): boolean {
  const message = asAwsError(err).message ?? '';
  return isConflict(err) && /already exists|already (?:a )?member/i.test(message) && !/concurrent/i.test(message);
}

/**
 * Key values look like this (keygate's are 40; API Gateway accepts 20–128 alphanumeric
 * characters), unless they are part of an ARN: a secret's ARN names the secret a refusal
 * points to (`…:secret:ApiClientsglobexSecret0411421F-…`), and cutting it would make it useless.
 */
const VALUE_LIKE_OUTSIDE_ARNS = /(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:[^\s`'",;()]+)|[A-Za-z0-9]{20,128}/g;

/**
 * A message with key values cut out: the given `values` (wherever they are), and anything
 * outside an ARN that looks like one. Used on every error that leaves the CLI or the
 * reconciler (csv-parse quotes the record, ImportApiKeys quotes rows of the file).
 */
export function scrubKeyValues(message: string, values: readonly string[] = []): string {
  let out = message;
  for (const value of values) if (value) out = out.split(value).join('[value]');
  return out.replace(VALUE_LIKE_OUTSIDE_ARNS, (_match: string, arn: string | undefined) => arn ?? '[value]');
}

export function isThrottle(err: unknown): boolean {
  const e = asAwsError(err);
  return e.name === 'TooManyRequestsException' || e.name === 'ThrottlingException' || e.$metadata?.httpStatusCode === 429;
}

export interface ClientContext {
  readonly region?: string;
  readonly endpoint?: string;
}

/**
 * Turns any error into an {@link OpsError} whose message tells the user what to do.
 */
export function explainError(err: unknown, ctx: ClientContext = {}): OpsError {
  const explained = explain(err, ctx);
  const message = scrubKeyValues(explained.message);
  const details = explained.details.map((line) => scrubKeyValues(line));
  if (message === explained.message && details.every((line, i) => line === explained.details[i])) return explained;
  return new OpsError(message, { exitCode: explained.exitCode, details });
}

function explain(err: unknown, ctx: ClientContext): OpsError {
  if (err instanceof OpsError) return err;
  const e = asAwsError(err);
  const msg = e.message ?? String(err);
  const where = ctx.endpoint ? `endpoint ${ctx.endpoint}` : `region ${ctx.region ?? '(none)'}`;
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(msg)) {
    return new OpsError(`No AWS credentials found (${msg}). Pass --profile NAME or set AWS_PROFILE, `
      + 'or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for SSO profiles run `aws sso login --profile NAME` first.');
  }
  if (/Region is missing/i.test(msg)) {
    return new UsageError('No AWS region: pass --region REGION or set AWS_REGION.');
  }
  if (e.name === 'UnrecognizedClientException' || e.name === 'InvalidSignatureException'
    || e.name === 'ExpiredTokenException' || e.name === 'InvalidClientTokenId') {
    return new OpsError(`AWS rejected the credentials (${e.name}: ${msg}). Refresh them (aws sso login, new session token) or pick another --profile.`);
  }
  if (e.name === 'AccessDeniedException' || e.$metadata?.httpStatusCode === 403) {
    return new OpsError(`Access denied (${msg}). The identity needs apigateway:GET/POST/PATCH/DELETE on arn:aws:apigateway:*::/apikeys* and /usageplans*`
      + ' (and secretsmanager:GetSecretValue/PutSecretValue for keys with a secret).');
  }
  if (isThrottle(err)) {
    const attempts = e.$metadata?.attempts;
    return new OpsError(`API Gateway kept throttling the request (429 Too Many Requests${attempts ? ` after ${attempts} attempts` : ''}). `
      + 'Another tool or a CloudFormation deployment may be using the control-plane quota: wait a minute and re-run; the commands are safe to re-run.');
  }
  if (isNotFound(err)) {
    return new UsageError(`Not found: ${msg}. Check the name or id (\`keygate keys list\`) and the ${where}: keys and usage plans are per region.`);
  }
  if (e.name === 'BadRequestException') {
    return new UsageError(`API Gateway rejected the request: ${msg}`);
  }
  const code = e.code ?? asAwsError(e.cause).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET' || e.name === 'TimeoutError') {
    return new OpsError(`Cannot reach API Gateway at ${where} (${code ?? e.name}). Check --endpoint / --region and your network.`);
  }
  return new OpsError(e.name && e.name !== 'Error' ? `${e.name}: ${msg}` : msg);
}
