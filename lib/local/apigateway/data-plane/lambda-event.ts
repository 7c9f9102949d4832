/** The Lambda proxy event API Gateway builds (shared by REQUEST authorizers and AWS_PROXY integrations). */
import { DataPlaneEnv, RequestState } from './request-state';

export function proxyEventBase(st: RequestState, env: DataPlaneEnv): Record<string, unknown> {
  const { req, context, headers, query } = st;
  const stage = st.stage!;
  const resourcePath = st.resource?.path ?? String(context.resourcePath ?? '');
  const pathParams = st.rc.pathParams;
  const h: Record<string, string> = {};
  const mh: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i];
    h[k] = req.rawHeaders[i + 1];
    (mh[k] ??= []).push(req.rawHeaders[i + 1]);
  }
  let path = req.rawPath || '/';
  try { path = decodeURIComponent(path); } catch { /* keep raw */ }
  const identity = context.identity as Record<string, unknown>;
  return {
    resource: resourcePath,
    path,
    httpMethod: req.method,
    headers: Object.keys(h).length ? h : null,
    multiValueHeaders: Object.keys(mh).length ? mh : null,
    queryStringParameters: Object.keys(query.single).length ? query.single : null,
    multiValueQueryStringParameters: Object.keys(query.multi).length ? query.multi : null,
    pathParameters: Object.keys(pathParams).length ? pathParams : null,
    stageVariables: Object.keys(stage.variables).length ? stage.variables : null,
    requestContext: {
      resourceId: context.resourceId, resourcePath, httpMethod: req.method, extendedRequestId: context.extendedRequestId,
      requestTime: context.requestTime, path: context.path, accountId: env.model.accountId, protocol: 'HTTP/1.1',
      stage: stage.name, domainPrefix: context.domainPrefix, requestTimeEpoch: context.requestTimeEpoch, requestId: st.requestId,
      identity: {
        cognitoIdentityPoolId: null, accountId: null, cognitoIdentityId: null, caller: null,
        sourceIp: req.sourceIp, principalOrgId: null, accessKey: null, cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null, userArn: null, userAgent: headers['user-agent'] ?? null, user: null,
        ...(identity.apiKey !== undefined ? { apiKey: identity.apiKey, apiKeyId: identity.apiKeyId } : {}),
      },
      domainName: req.host, apiId: st.api!.id,
      ...(context.authorizer && Object.keys(context.authorizer as object).length ? { authorizer: context.authorizer } : {}),
    },
  };
}
