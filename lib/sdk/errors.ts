/**
 * How keygate recognises AWS errors: by the service's error code (the SDK's `name`) or the
 * HTTP status, never by message text. The one exception is API Gateway's 409: the same
 * ConflictException means either "another write of the region ran at the same time" or "the
 * key is in the plan already", and only AWS's wording tells them apart. That wording is
 * recorded here, in {@link ALREADY_IN_PLAN_WORDING}, and nowhere else.
 *
 * Also the errors the SDK layer throws: {@link OpsError} (a failure, exit code 1) and
 * {@link UsageError} (bad usage or bad input, exit code 2).
 */

/**
 * An error that carries the exit code the CLI should use (2 for bad usage or bad input,
 * 1 for a failure) and a message that says what to do.
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

export interface AwsLikeError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  /** The Retry-After header of a throttled answer, as the SDK exposes it. */
  retryAfterSeconds?: string;
  cause?: unknown;
}

export function asAwsError(err: unknown): AwsLikeError {
  return typeof err === 'object' && err !== null ? (err as AwsLikeError) : {};
}

/** The service's error name (`NotFoundException`, `TooManyRequestsException`, …) if any. */
export function awsErrorName(err: unknown): string | undefined {
  return asAwsError(err).name;
}

/** The HTTP status of the answer, if the error came from one. */
export function httpStatus(err: unknown): number | undefined {
  return asAwsError(err).$metadata?.httpStatusCode;
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  return asAwsError(err).message ?? String(err);
}

/** Not found (API Gateway's NotFoundException, Secrets Manager's ResourceNotFoundException, any 404). */
export function isNotFound(err: unknown): boolean {
  const name = awsErrorName(err);
  return name === 'NotFoundException' || name === 'ResourceNotFoundException' || httpStatus(err) === 404;
}

/** API Gateway's BadRequestException: the request itself is wrong (e.g. not an id). */
export function isBadRequest(err: unknown): boolean {
  return awsErrorName(err) === 'BadRequestException';
}

/** Any 409. See {@link isAlreadyInPlan} and {@link isConcurrentModification} for API Gateway's two meanings. */
export function isConflict(err: unknown): boolean {
  return awsErrorName(err) === 'ConflictException' || httpStatus(err) === 409;
}

/** Throttled: 429 (TooManyRequests, API Gateway's LimitExceeded, Throttling). */
export function isThrottle(err: unknown): boolean {
  const name = awsErrorName(err);
  return name === 'TooManyRequestsException' || name === 'ThrottlingException' || name === 'LimitExceededException' || httpStatus(err) === 429;
}

/** A 5xx answer: the service failed, the same request may succeed later. */
export function isServerError(err: unknown): boolean {
  return (httpStatus(err) ?? 0) >= 500;
}

/**
 * AWS's wording of the 409 that CreateUsagePlanKey answers for a key that is in the plan
 * already ("Usage Plan Key already exists", "… is already a member …"), and the local
 * gateway's ("Usage Plan … cannot be added because API Key … is already associated with it").
 * The only message text keygate reads: AWS gives this case no code of its own.
 */
const ALREADY_IN_PLAN_WORDING = /already exists|already (?:a )?member|is already associated with it/i;

/** A 409 that says the key is in the plan already: the association is done. */
export function isAlreadyInPlan(err: unknown): boolean {
  return isConflict(err) && ALREADY_IN_PLAN_WORDING.test(asAwsError(err).message ?? '');
}

/**
 * API Gateway's other 409 ("Unable to complete operation due to concurrent modification"):
 * a write met another write of the region (usage plan keys go one at a time, imports, a
 * deployment). Any 409 that does not say the key is in the plan already: try again later.
 */
export function isConcurrentModification(err: unknown): boolean {
  return isConflict(err) && !isAlreadyInPlan(err);
}

/**
 * A write worth trying again after a backoff, on top of the SDK's own retries: throttling,
 * a 5xx, or a 409 concurrent modification.
 */
export function isRetryableWrite(err: unknown): boolean {
  return isThrottle(err) || isServerError(err) || isConcurrentModification(err);
}

/** Secrets Manager's CreateSecret for a name that is taken, or held by a secret scheduled for deletion. */
export function isSecretNameTaken(err: unknown): boolean {
  const name = awsErrorName(err);
  // A name held by a secret scheduled for deletion answers InvalidRequestException, a code
  // shared with other refusals: AWS's wording is the only difference.
  return name === 'ResourceExistsException' || (name === 'InvalidRequestException' && /scheduled for deletion/.test(errorMessage(err)));
}

/**
 * The SDK found no credentials. CredentialsProviderError is the code; some providers throw a
 * plain Error, with the SDK's wording.
 */
export function isMissingCredentials(err: unknown): boolean {
  return awsErrorName(err) === 'CredentialsProviderError' || /Could not load credentials/i.test(errorMessage(err));
}

/** The SDK has no region to call: a plain Error the SDK throws before any request, its wording the only sign. */
export function isMissingRegion(err: unknown): boolean {
  return /Region is missing/i.test(errorMessage(err));
}

/** AWS refused the credentials themselves (invalid, expired, badly signed). */
export function isCredentialsRejected(err: unknown): boolean {
  return ['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId'].includes(awsErrorName(err) ?? '');
}

/** The identity may not make the call: AccessDeniedException or any 403. */
export function isAccessDenied(err: unknown): boolean {
  return awsErrorName(err) === 'AccessDeniedException' || httpStatus(err) === 403;
}

/** The network error code when the endpoint could not be reached (refused, unknown host, reset, timed out). */
export function unreachableCode(err: unknown): string | undefined {
  const e = asAwsError(err);
  const code = e.code ?? asAwsError(e.cause).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET') return code;
  if (e.name === 'TimeoutError') return code ?? e.name;
  // The SDK's retry wraps a thrown value it does not see as an Error (a network error from
  // another realm, as under jest) into "AWS SDK error wrapper for Error: connect ECONNREFUSED …",
  // dropping the code: its wording is then the only sign.
  return /^AWS SDK error wrapper for .*\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET)\b/.exec(e.message ?? '')?.[1];
}

/** The Retry-After an answer asked for, in ms (undefined when none). */
export function retryAfterMs(err: unknown): number | undefined {
  const seconds = Number(asAwsError(err).retryAfterSeconds);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
