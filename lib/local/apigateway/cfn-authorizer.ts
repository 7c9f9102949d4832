/** AWS::ApiGateway::Authorizer → a TOKEN or REQUEST Lambda authorizer, or a Cognito user-pool authorizer (checked by the local Cognito). */
import { Authorizer } from './model';
import { ResourceHandler } from '../cloudformation/context';
import { lambdaArnFromUri } from './cfn-method';
import { num, str } from '../cloudformation/values';

export const authorizerHandler: ResourceHandler = {
  type: 'AWS::ApiGateway::Authorizer',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const api = ctx.apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      const type = str(p.Type) ?? 'TOKEN';
      let functionArn: string | undefined;
      let reason: string | undefined;
      if (type === 'TOKEN' || type === 'REQUEST') {
        functionArn = lambdaArnFromUri(str(p.AuthorizerUri));
        const fn = functionArn ? ctx.model.functions.get(functionArn) : undefined;
        if (!fn) reason = `its authorizer function (${str(p.AuthorizerUri) ?? 'no AuthorizerUri'}) is not a Lambda function of this app`;
        else if (fn.unsupportedReason) reason = `its function ${fn.logicalId} cannot run: ${fn.unsupportedReason}`;
      } else if (type === 'COGNITO_USER_POOLS') {
        // keygate portal: the local Cognito verifies the tokens of the app's own user pools.
        if (!Array.isArray(p.ProviderARNs) || p.ProviderARNs.length === 0) reason = 'it names no user pool (ProviderARNs)';
      } else reason = `authorizer type ${type} is not supported`;
      const a: Authorizer = {
        id: ctx.ref(logicalId) as string, name: str(p.Name) ?? logicalId, type, functionArn,
        identitySource: str(p.IdentitySource) ?? (type === 'TOKEN' ? 'method.request.header.Authorization' : ''),
        identityValidationExpression: str(p.IdentityValidationExpression),
        ttlSeconds: num(p.AuthorizerResultTtlInSeconds) ?? 300, logicalId, unsupportedReason: reason,
        providerArns: Array.isArray(p.ProviderARNs) ? p.ProviderARNs.map(String) : undefined,
      };
      if (reason) ctx.report(logicalId, 'AWS::ApiGateway::Authorizer', reason);
      api.authorizers.set(a.id, a);
    }
  },
};
