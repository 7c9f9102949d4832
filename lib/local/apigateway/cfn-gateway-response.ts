/** AWS::ApiGateway::GatewayResponse → an override of one gateway response type of an API. */
import { GatewayResponseOverride } from './model';
import { ResourceHandler } from '../cloudformation/context';
import { str, strMap } from '../cloudformation/values';

export const gatewayResponseHandler: ResourceHandler = {
  type: 'AWS::ApiGateway::GatewayResponse',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const api = ctx.apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      const g: GatewayResponseOverride = {
        responseType: str(p.ResponseType) ?? 'DEFAULT_4XX', statusCode: str(p.StatusCode),
        responseParameters: strMap(p.ResponseParameters), responseTemplates: strMap(p.ResponseTemplates),
      };
      api.gatewayResponses.set(g.responseType, g);
    }
  },
};
