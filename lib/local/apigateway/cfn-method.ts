/** AWS::ApiGateway::Method → a method of a resource, with its integration. */
import { Integration, IntegrationResponse, Method, Model } from './model';
import { ResourceHandler } from '../cloudformation/context';
import { bool, obj, Obj, num, str, strMap } from '../cloudformation/values';

const TYPE = 'AWS::ApiGateway::Method';

export const methodHandler: ResourceHandler = {
  type: TYPE,
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const api = ctx.apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      const res = api.resources.get(String(p.ResourceId));
      if (!res) { ctx.report(logicalId, TYPE, `its ResourceId ${String(p.ResourceId)} is not a resource of API ${api.name}`); continue; }
      const httpMethod = (str(p.HttpMethod) ?? 'ANY').toUpperCase();
      const integration = integrationOf(obj(p.Integration), ctx.model);
      if (integration.unsupportedReason) ctx.report(logicalId, TYPE, `${httpMethod} ${res.path}: ${integration.unsupportedReason}`);
      const authorizationType = str(p.AuthorizationType) ?? 'NONE';
      if (authorizationType === 'AWS_IAM') ctx.report(logicalId, TYPE, `${httpMethod} ${res.path}: AWS_IAM (SigV4) authorization is not verified locally: signed requests get 500`);
      const m: Method = {
        httpMethod, apiKeyRequired: bool(p.ApiKeyRequired, false), authorizationType,
        authorizerId: str(p.AuthorizerId), integration, logicalId,
        methodResponses: Array.isArray(p.MethodResponses)
          ? p.MethodResponses.map((x) => ({ statusCode: String(obj(x).StatusCode ?? '200'), responseParameters: obj(obj(x).ResponseParameters) as Record<string, boolean> }))
          : [],
      };
      res.methods.set(httpMethod, m);
    }
  },
};

/** `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations` → FUNCTION_ARN (unqualified). */
export function lambdaArnFromUri(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const m = /:lambda:path\/[^/]+\/functions\/(arn:[^/]+)\/invocations/.exec(uri);
  if (!m) return undefined;
  const parts = m[1].split(':');
  return parts.slice(0, 7).join(':');
}

function integrationOf(i: Obj, model: Model): Integration {
  const type = (str(i.Type) ?? 'MOCK').toUpperCase();
  const responses: IntegrationResponse[] = (Array.isArray(i.IntegrationResponses) ? i.IntegrationResponses : []).map((rRaw) => {
    const r = obj(rRaw);
    return {
      statusCode: String(r.StatusCode ?? '200'), selectionPattern: str(r.SelectionPattern),
      responseTemplates: strMap(r.ResponseTemplates), responseParameters: strMap(r.ResponseParameters),
    };
  });
  const base = {
    type, uri: str(i.Uri), httpMethod: str(i.IntegrationHttpMethod), requestTemplates: strMap(i.RequestTemplates),
    requestParameters: strMap(i.RequestParameters), integrationResponses: responses,
    passthroughBehavior: str(i.PassthroughBehavior), timeoutMs: num(i.TimeoutInMillis) ?? 29_000,
  };
  switch (type) {
    case 'MOCK':
      return base;
    case 'HTTP':
    case 'HTTP_PROXY':
      if (str(i.ConnectionType) === 'VPC_LINK') return { ...base, unsupportedReason: `${type} integration through a VPC link is not supported locally` };
      if (!base.uri || !(/^https?:\/\//.test(base.uri) || base.uri.startsWith('${stageVariables.'))) return { ...base, unsupportedReason: `${type} integration has no http(s) Uri` };
      return base;
    case 'AWS_PROXY': {
      const arn = lambdaArnFromUri(base.uri);
      const fn = arn ? model.functions.get(arn) : undefined;
      if (!fn) return { ...base, unsupportedReason: `AWS_PROXY integration to ${base.uri ?? '(no Uri)'}, which is not a Lambda function of this app` };
      if (fn.unsupportedReason) return { ...base, functionArn: arn, unsupportedReason: `Lambda function ${fn.logicalId} cannot run: ${fn.unsupportedReason}` };
      return { ...base, functionArn: arn };
    }
    case 'AWS':
      return { ...base, unsupportedReason: `AWS (non-proxy) integration to ${base.uri ?? '(no Uri)'} is not supported locally` };
    default:
      return { ...base, unsupportedReason: `integration type ${type} is not supported locally` };
  }
}
