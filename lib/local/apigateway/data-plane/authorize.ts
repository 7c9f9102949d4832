/**
 * Step 2, authorize: the method's authorization type. NONE passes; AWS_IAM is not emulated;
 * CUSTOM runs the Lambda authorizer (TOKEN or REQUEST) with API Gateway's result cache and
 * evaluates its policy; COGNITO_USER_POOLS verifies the ID token with the local Cognito.
 */
import { Authorizer } from '../model';
import { proxyEventBase } from './lambda-event';
import { AuthorizerOutcome, DataPlaneEnv, fail, NEXT, RequestState, StepResult } from './request-state';

type Decision = (AuthorizerOutcome & { policy?: unknown }) | 'deny' | 'unauthorized' | string;

export function authorize(st: RequestState, env: DataPlaneEnv): StepResult | Promise<StepResult> {
  const method = st.method!;
  const { req, api } = st;
  if (method.authorizationType === 'AWS_IAM') {
    if (!st.headers['authorization']) return fail(st, 'MISSING_AUTHENTICATION_TOKEN');
    return fail(st, 'API_CONFIGURATION_ERROR', `AWS_IAM authorization of ${req.method} ${st.resource!.path} is not emulated by keygate local`);
  }
  if (method.authorizationType !== 'CUSTOM' && method.authorizationType !== 'COGNITO_USER_POOLS') return NEXT;
  const authorizer = method.authorizerId ? api!.authorizers.get(method.authorizerId) : undefined;
  if (!authorizer) return fail(st, 'AUTHORIZER_CONFIGURATION_ERROR', `authorizer ${method.authorizerId ?? '(none)'} of ${req.method} ${st.resource!.path} is not in the API`);
  // keygate portal: Cognito user-pool tokens, verified by the local Cognito.
  if (authorizer.type === 'COGNITO_USER_POOLS' && env.options.verifyCognitoToken && authorizer.providerArns) return cognito(authorizer, st, env);
  return decide(authorizer, st, env).then((r) => {
    if (r === 'unauthorized') return fail(st, 'UNAUTHORIZED');
    if (r === 'deny') return fail(st, 'ACCESS_DENIED');
    if (typeof r === 'string') return fail(st, 'AUTHORIZER_FAILURE', r);
    st.context.authorizer = { ...r.context, principalId: r.principalId };
    st.auth = r;
    return NEXT;
  });
}

async function decide(a: Authorizer, st: RequestState, env: DataPlaneEnv): Promise<Decision> {
  const { req, headers, query, context } = st;
  const stage = st.stage!;
  const methodArn = `arn:aws:execute-api:${env.model.region}:${env.model.accountId}:${st.api!.id}/${stage.name}/${req.method}${req.rawPath === '' ? '/' : req.rawPath}`;
  if (a.type === 'COGNITO_USER_POOLS') {
    const src = /^method\.request\.header\.(.+)$/.exec(a.identitySource || 'method.request.header.Authorization');
    if (!headers[(src?.[1] ?? 'authorization').toLowerCase()]) return 'unauthorized';
    return `Cognito user pool authorizer ${a.name} cannot verify tokens locally`;
  }
  const sources = a.identitySource.split(',').map((s) => s.trim()).filter((s) => s);
  const identity: string[] = [];
  for (const s of sources) {
    const m = /^method\.request\.(header|querystring)\.(.+)$/.exec(s);
    const c = /^context\.(.+)$/.exec(s);
    const sv = /^stageVariables\.(.+)$/.exec(s);
    const v = m ? (m[1] === 'header' ? headers[m[2].toLowerCase()] : query.single[m[2]]) : c ? String(context[c[1]] ?? '') : sv ? stage.variables[sv[1]] : undefined;
    if (!v) return 'unauthorized';
    identity.push(v);
  }
  if (a.unsupportedReason || !a.functionArn) return `authorizer ${a.name}: ${a.unsupportedReason ?? 'no function'}`;
  const fn = env.model.functions.get(a.functionArn);
  if (!fn) return `authorizer ${a.name}: function not found`;
  if (a.type === 'TOKEN' && a.identityValidationExpression) {
    try {
      if (!new RegExp(`^(?:${a.identityValidationExpression})$`).test(identity[0] ?? '')) return 'unauthorized';
    } catch {
      return `authorizer ${a.name}: invalid IdentityValidationExpression`;
    }
  }
  const now = env.options.clock();
  const cacheKey = `${a.id}|${identity.join('\u0000')}`;
  const canCache = a.ttlSeconds > 0 && identity.length > 0;
  const cached = canCache ? env.authCache.get(cacheKey) : undefined;
  if (cached && cached.until > now) return policyAllows(cached.result.policy, methodArn) ? cached.result : 'deny';
  const event = a.type === 'TOKEN'
    ? { type: 'TOKEN', authorizationToken: identity[0], methodArn }
    : { type: 'REQUEST', methodArn, ...proxyEventBase(st, env) };
  // The function's Date follows the gateway's clock (--clock), as the scheduled jobs' do.
  const r = await env.options.lambdas.invoke(fn, event, st.requestId, undefined, now - Date.now());
  if (r.failure === 'timeout') return `authorizer ${a.name} timed out`;
  if (r.failure) return `authorizer ${a.name} crashed`;
  if (r.error) return r.error.errorMessage === 'Unauthorized' ? 'unauthorized' : `authorizer ${a.name} failed: ${r.error.errorMessage}`;
  const res = r.result as { principalId?: unknown; policyDocument?: unknown; context?: unknown; usageIdentifierKey?: unknown } | undefined;
  if (!res || typeof res !== 'object' || typeof res.policyDocument !== 'object' || res.policyDocument === null) return `authorizer ${a.name} returned no policyDocument`;
  const ctx: Record<string, unknown> = {};
  if (res.context && typeof res.context === 'object') {
    for (const [k, v] of Object.entries(res.context as Record<string, unknown>)) {
      if (typeof v === 'object' && v !== null) return `authorizer ${a.name} returned a context value that is not a string, number or boolean (${k})`;
      ctx[k] = v;
    }
  }
  const result = {
    principalId: res.principalId === undefined ? undefined : String(res.principalId), context: ctx,
    usageIdentifierKey: typeof res.usageIdentifierKey === 'string' ? res.usageIdentifierKey : undefined, policy: res.policyDocument,
  };
  if (canCache) env.authCache.set(cacheKey, { until: now + a.ttlSeconds * 1000, result });
  if (env.authCache.size > 10_000) env.authCache.clear();
  return policyAllows(result.policy, methodArn) ? result : 'deny';
}

/** IAM-style evaluation of an authorizer's policy for execute-api:Invoke on the method ARN: an explicit Deny wins. */
function policyAllows(policyDoc: unknown, methodArn: string): boolean {
  const policy = policyDoc as { Statement?: unknown } | undefined;
  const statements = Array.isArray(policy?.Statement) ? policy.Statement : policy?.Statement ? [policy.Statement] : [];
  let allowed = false;
  for (const sRaw of statements) {
    const s = sRaw as { Effect?: unknown; Action?: unknown; Resource?: unknown };
    const actions = ([] as unknown[]).concat(s.Action ?? []).map(String);
    if (!actions.some((x) => x === '*' || x === 'execute-api:*' || x === 'execute-api:Invoke')) continue;
    const resources = ([] as unknown[]).concat(s.Resource ?? []).map(String);
    if (!resources.some((r) => arnMatches(r, methodArn))) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

/** Glob match for IAM-style resources in authorizer policies (`*` and `?`). */
function arnMatches(pattern: string, arn: string): boolean {
  const re = new RegExp('^' + pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$');
  return re.test(arn);
}

/** API Gateway's Cognito user-pool check: the ID token in the identity source header, verified; its claims reach the integration. */
async function cognito(a: Authorizer, st: RequestState, env: DataPlaneEnv): Promise<StepResult> {
  const src = /^method\.request\.header\.(.+)$/.exec(a.identitySource || 'method.request.header.Authorization');
  const token = st.headers[(src?.[1] ?? 'authorization').toLowerCase()];
  if (!token) return fail(st, 'UNAUTHORIZED');
  const claims = await env.options.verifyCognitoToken!(a.providerArns!, token);
  if (!claims) return fail(st, 'UNAUTHORIZED');
  st.context.authorizer = { claims, principalId: claims.sub };
  return NEXT;
}
