/**
 * The CLI's presentation of errors: {@link explainError} turns any error into an
 * {@link OpsError} whose message says what to do, with key values cut out. Recognising
 * errors is the SDK layer's (lib/sdk/errors.ts).
 */
import {
  asAwsError, isAccessDenied, isBadRequest, isCredentialsRejected, isMissingCredentials, isMissingRegion, isNotFound, isThrottle, OpsError,
  unreachableCode, UsageError,
} from '../sdk/errors';
import { scrubKeyValues } from '../shared/scrub';

export { OpsError, UsageError } from '../sdk/errors';
export { scrubKeyValues } from '../shared/scrub';

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
  if (isMissingCredentials(err)) {
    return new OpsError(`No AWS credentials found (${msg}). Pass --profile NAME or set AWS_PROFILE, `
      + 'or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for SSO profiles run `aws sso login --profile NAME` first.');
  }
  if (isMissingRegion(err)) {
    return new UsageError('No AWS region: pass --region REGION or set AWS_REGION.');
  }
  if (isCredentialsRejected(err)) {
    return new OpsError(`AWS rejected the credentials (${e.name}: ${msg}). Refresh them (aws sso login, new session token) or pick another --profile.`);
  }
  if (isAccessDenied(err)) {
    return new OpsError(`Access denied (${msg}). The identity needs apigateway:GET/POST/PATCH/DELETE on arn:aws:apigateway:*::/apikeys* and /usageplans*`
      + ' (and secretsmanager:GetSecretValue/PutSecretValue for keys with a secret).');
  }
  if (isThrottle(err)) {
    const attempts = e.$metadata?.attempts;
    return new OpsError(`API Gateway kept throttling the request (429 Too Many Requests${attempts ? ` after ${attempts} attempts` : ''}). `
      + 'Another tool or a CloudFormation deployment may be using the control-plane quota: wait a minute and re-run; the commands are safe to re-run.');
  }
  if (isNotFound(err)) {
    const op = (err as { $operation?: string }).$operation;
    const status = e.$metadata?.httpStatusCode;
    const from = status || op ? ` (${[status ? `HTTP ${status}` : '', op ? `from ${op}` : ''].filter(Boolean).join(' ')})` : '';
    return new UsageError(`Not found${from}: ${msg}. Check the name or id (\`keygate keys list\`) and the ${where}: keys and usage plans are per region.`);
  }
  if (isBadRequest(err)) {
    return new UsageError(`API Gateway rejected the request: ${msg}`);
  }
  const tls = tlsMismatch(err, ctx);
  if (tls) return new UsageError(tls);
  const unreachable = unreachableCode(err);
  if (unreachable) {
    return new OpsError(`Cannot reach API Gateway at ${where} (${unreachable}). Check --endpoint / --region and your network.`);
  }
  return new OpsError(e.name && e.name !== 'Error' ? `${e.name}: ${msg}` : msg);
}

/**
 * An https:// endpoint that answers plain HTTP (the local gateway serves http://): OpenSSL's
 * "wrong version number" or a TLS protocol error, said as what to change.
 */
function tlsMismatch(err: unknown, ctx: ClientContext): string | undefined {
  if (!ctx.endpoint?.startsWith('https://')) return undefined;
  const e = asAwsError(err);
  const code = `${e.code ?? ''} ${asAwsError(e.cause).code ?? ''}`;
  const text = `${e.message ?? ''} ${asAwsError(e.cause).message ?? ''}`;
  if (!/EPROTO|ERR_SSL_|ECONNRESET/.test(code) && !/wrong version number|SSL routines|EPROTO/i.test(text)) return undefined;
  return `--endpoint ${ctx.endpoint} uses https://, but the server there does not speak TLS (the local gateway serves plain HTTP): `
    + `use ${ctx.endpoint.replace(/^https:/, 'http:')}.`;
}
