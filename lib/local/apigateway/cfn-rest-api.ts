/** AWS::ApiGateway::RestApi → an API with its root resource; what cannot be emulated is reported. */
import { ApiResource, RestApi } from './model';
import { ResourceHandler } from '../cloudformation/context';
import { bool, num, str, strMap, tagsToMap } from '../cloudformation/values';

const TYPE = 'AWS::ApiGateway::RestApi';

export const restApiHandler: ResourceHandler = {
  type: TYPE,
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const id = ctx.ref(logicalId) as string;
      const rootId = ctx.getAtt(logicalId, 'RootResourceId') as string;
      const root: ApiResource = { id: rootId, pathPart: '', path: '/', methods: new Map() };
      if (p.BodyS3Location !== undefined) {
        ctx.report(logicalId, TYPE, 'its OpenAPI definition is in S3 (BodyS3Location); the routes it defines are not served, only those declared as resources in the template');
      } else if (p.Body !== undefined) {
        ctx.report(logicalId, TYPE, 'its inline OpenAPI definition (Body) is not imported; only routes declared as resources in the template are served');
      }
      if (p.CloneFrom !== undefined) ctx.report(logicalId, TYPE, 'CloneFrom is not emulated');
      if (bool(p.DisableExecuteApiEndpoint, false)) ctx.report(logicalId, TYPE, 'DisableExecuteApiEndpoint is ignored: the local stage URLs serve the API anyway (there are no custom domains locally)');
      if (p.Policy !== undefined) ctx.report(logicalId, TYPE, 'the resource policy (Policy) is not evaluated locally');
      const endpointTypes = Array.isArray((p.EndpointConfiguration as { Types?: unknown } | undefined)?.Types)
        ? ((p.EndpointConfiguration as { Types: unknown[] }).Types).map(String) : ['EDGE'];
      const api: RestApi = {
        id, name: str(p.Name) ?? logicalId, description: str(p.Description), stack: ctx.stackName, logicalId,
        createdDate: ctx.now, rootResourceId: rootId, resources: new Map([[rootId, root]]), stages: new Map(),
        authorizers: new Map(), gatewayResponses: new Map(), apiKeySource: str(p.ApiKeySourceType) ?? 'HEADER',
        binaryMediaTypes: Array.isArray(p.BinaryMediaTypes) ? p.BinaryMediaTypes.map(String) : [],
        minimumCompressionSize: num(p.MinimumCompressionSize), endpointTypes,
        disableExecuteApiEndpoint: bool(p.DisableExecuteApiEndpoint, false), tags: { ...strMap(tagsToMap(p.Tags)), ...ctx.tagsFor(logicalId) },
      };
      ctx.model.apis.set(id, api);
    }
  },
};
