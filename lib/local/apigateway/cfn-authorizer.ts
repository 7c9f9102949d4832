/** AWS::ApiGateway::Authorizer → a TOKEN or REQUEST Lambda authorizer (Cognito is reported: no local token check). */
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
        reason = 'Cognito user pool tokens cannot be verified locally: requests without a token get 401, requests with one get 500';
      } else reason = `authorizer type ${type} is not supported`;
      const a: Authorizer = {
        id: ctx.ref(logicalId) as string, name: str(p.Name) ?? logicalId, type, functionArn,
        identitySource: str(p.IdentitySource) ?? (type === 'TOKEN' ? 'method.request.header.Authorization' : ''),
        identityValidationExpression: str(p.IdentityValidationExpression),
        ttlSeconds: num(p.AuthorizerResultTtlInSeconds) ?? 300, logicalId, unsupportedReason: reason,
      };
      if (reason) ctx.report(logicalId, 'AWS::ApiGateway::Authorizer', reason);
      api.authorizers.set(a.id, a);
    }
  },
};
