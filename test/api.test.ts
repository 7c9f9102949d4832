import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { KeyProtectedApi, KeygateAccessLogFormat } from '../lib';
import { mock, newStack, smallApi } from './support/keygate-fixtures';

function inlineFunction(scope: import('constructs').Construct, id: string): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "ok" });'),
  });
}

describe('routes', () => {
  test('path parameters, greedy {proxy+}, ANY and the root resource', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addRoute('GET /pets/{id}', mock());
    api.addRoute('ANY /files/{proxy+}', mock());
    api.addRoute('GET /', mock());

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'pets' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{id}' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      ResourceId: { Ref: Match.stringLikeRegexp('^Apifilesproxy') },
      ApiKeyRequired: true,
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Api'), 'RootResourceId'] },
      ApiKeyRequired: true,
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { Ref: Match.stringLikeRegexp('^Apipetsid') },
    });
    // 'pets' once, '{id}' once, 'files' and '{proxy+}': resources are shared, not duplicated.
    template.resourceCountIs('AWS::ApiGateway::Resource', 4);
    template.resourceCountIs('AWS::ApiGateway::Method', 4);
    expect(api.routeKeys).toEqual(['GET /pets', 'GET /pets/{id}', 'ANY /files/{proxy+}', 'GET /']);
  });

  test('routes are normalized: lower-case method and trailing slash', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN
    const method = api.addRoute('post /pets/', mock());

    // THEN
    expect(api.findRoute('POST /pets')).toBe(method);
    expect(api.routeKeys).toContain('POST /pets');
    expect(api.findRoute('DELETE /pets')).toBeUndefined();
  });

  test('every route requires a key by default; public routes opt out', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addRoute('GET /health', mock(), { apiKeyRequired: false });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { Ref: Match.stringLikeRegexp('^Apipets') },
      ApiKeyRequired: true,
      AuthorizationType: 'NONE',
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { Ref: Match.stringLikeRegexp('^Apihealth') },
      ApiKeyRequired: false,
    });
  });

  test('any aws-cdk-lib integration: Lambda and HTTP', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addRoute('POST /pets', new apigw.LambdaIntegration(inlineFunction(stack, 'Fn')));
    api.addRoute('GET /upstream', new apigw.HttpIntegration('https://example.com/'));

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ApiKeyRequired: true,
      Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      Integration: Match.objectLike({ Type: 'HTTP_PROXY', Uri: 'https://example.com/' }),
    });
  });
});

describe('key source', () => {
  test('HEADER (x-api-key) by default', () => {
    // GIVEN / WHEN
    const { stack, api } = smallApi();

    // THEN
    expect(api.apiKeySource).toBe(apigw.ApiKeySourceType.HEADER);
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::RestApi', {
      ApiKeySourceType: 'HEADER',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  test('AUTHORIZER with a Lambda authorizer on the key-required routes', () => {
    // GIVEN
    const { stack } = newStack();
    const authorizer = new apigw.RequestAuthorizer(stack, 'Auth', {
      handler: inlineFunction(stack, 'AuthFn'),
      identitySources: [apigw.IdentitySource.header('Authorization')],
    });

    // WHEN
    const api = new KeyProtectedApi(stack, 'Api', { apiKeySource: apigw.ApiKeySourceType.AUTHORIZER, defaultAuthorizer: authorizer });
    api.addRoute('GET /pets', mock());
    api.addTier('Basic');

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      ApiKeyRequired: true,
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: Match.stringLikeRegexp('^Auth') },
    });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'REQUEST' });
    // The 403 body says where the key comes from with AUTHORIZER.
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'INVALID_API_KEY',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('usageIdentifierKey') },
    });
  });
});

describe('authorizers combined with the key', () => {
  test('Cognito user pool authorizer as the default, with scopes', () => {
    // GIVEN
    const { stack } = newStack();
    const pool = new cognito.UserPool(stack, 'Pool');
    const authorizer = new apigw.CognitoUserPoolsAuthorizer(stack, 'Cognito', { cognitoUserPools: [pool] });

    // WHEN
    const api = new KeyProtectedApi(stack, 'Api', { defaultAuthorizer: authorizer, defaultAuthorizationScopes: ['pets/read'] });
    api.addRoute('GET /pets', mock());
    api.addRoute('GET /health', mock(), { apiKeyRequired: false });
    api.addTier('Basic');

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      ResourceId: { Ref: Match.stringLikeRegexp('^Apipets') },
      ApiKeyRequired: true,
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: { Ref: Match.stringLikeRegexp('^Cognito') },
      AuthorizationScopes: ['pets/read'],
    });
    // The default authorizer is for key-required routes; a public route stays open.
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      ResourceId: { Ref: Match.stringLikeRegexp('^Apihealth') },
      ApiKeyRequired: false,
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
    });
  });

  test('a route-level Lambda token authorizer with the key, and own scopes win over the default ones', () => {
    // GIVEN
    const { stack } = newStack();
    const pool = new cognito.UserPool(stack, 'Pool');
    const cognitoAuth = new apigw.CognitoUserPoolsAuthorizer(stack, 'Cognito', { cognitoUserPools: [pool] });
    const token = new apigw.TokenAuthorizer(stack, 'Token', { handler: inlineFunction(stack, 'TokenFn'), resultsCacheTtl: Duration.seconds(0) });
    const api = new KeyProtectedApi(stack, 'Api', { defaultAuthorizer: cognitoAuth, defaultAuthorizationScopes: ['pets/read'] });

    // WHEN
    api.addRoute('GET /pets', mock(), { authorizer: token });
    api.addRoute('POST /pets', mock(), { authorizationScopes: ['pets/write'] });
    api.addTier('Basic');

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ApiKeyRequired: true,
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: Match.stringLikeRegexp('^Token') },
      AuthorizationScopes: Match.absent(),
    });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'TOKEN' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizationScopes: ['pets/write'],
    });
  });

  test('IAM authorization with the key', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addRoute('DELETE /pets/{id}', mock(), { authorizationType: apigw.AuthorizationType.IAM });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'DELETE',
      ApiKeyRequired: true,
      AuthorizationType: 'AWS_IAM',
    });
  });

  test('methodOptions pass through, but cannot switch the key requirement off', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addRoute('GET /pets/{id}', mock(), {
      methodOptions: { apiKeyRequired: false, requestParameters: { 'method.request.path.id': true } },
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::Method', {
      ResourceId: { Ref: Match.stringLikeRegexp('^Apipetsid') },
      ApiKeyRequired: true,
      RequestParameters: { 'method.request.path.id': true },
    });
  });
});

describe('stage', () => {
  test('the default stage: prod, throttle, metrics, ERROR logging, no data trace, JSON access log', () => {
    // GIVEN / WHEN
    const { stack } = smallApi({
      stage: { throttle: { rateLimit: 100, burstLimit: 200 }, methodThrottles: { 'GET /pets': { rateLimit: 5, burstLimit: 10 } } },
    });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: false,
      MethodSettings: Match.arrayWith([
        {
          DataTraceEnabled: false,
          HttpMethod: '*',
          LoggingLevel: 'ERROR',
          MetricsEnabled: true,
          ResourcePath: '/*',
          ThrottlingBurstLimit: 200,
          ThrottlingRateLimit: 100,
        },
        // The per-route entry keeps the stage's logging and metrics.
        {
          DataTraceEnabled: false,
          HttpMethod: 'GET',
          LoggingLevel: 'ERROR',
          MetricsEnabled: true,
          ResourcePath: '/~1pets',
          ThrottlingBurstLimit: 10,
          ThrottlingRateLimit: 5,
        },
      ]),
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('\\$context\\.requestId'),
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    // The account-level role that lets API Gateway write logs.
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  test('the access log line is JSON with request id, key id, method, path, status and error message', () => {
    // GIVEN
    const { stack } = smallApi();

    // WHEN
    const stage = Template.fromStack(stack).findResources('AWS::ApiGateway::Stage', { Properties: { StageName: 'prod' } });
    const format = Object.values(stage)[0].Properties.AccessLogSetting.Format as string;

    // THEN: API Gateway substitutes $context.*, writing `-` where a variable has no value
    // (the error of a successful request); both kinds of line must be JSON.
    const failed = JSON.parse(format.replace(/\$context\.error\.message/g, 'Forbidden').replace(/\$context\.[A-Za-z.]+/g, 'x')) as Record<string, string>;
    expect(failed.errorMessage).toBe('Forbidden');
    const succeeded = JSON.parse(format.replace(/\$context\.error\.[A-Za-z]+/g, '-').replace(/\$context\.[A-Za-z.]+/g, 'x')) as Record<string, string>;
    expect(succeeded.errorMessage).toBe('-');
    expect(format).toContain('"requestId":"$context.requestId"');
    expect(format).toContain('"apiId":"$context.apiId"');
    expect(format).toContain('"apiKeyId":"$context.identity.apiKeyId"');
    expect(format).toContain('"httpMethod":"$context.httpMethod"');
    expect(format).toContain('"path":"$context.path"');
    expect(format).toContain('"status":"$context.status"');
    expect(format).toContain('"errorResponseType":"$context.error.responseType"');
    expect(format).toContain('"errorMessage":"$context.error.message"');
    expect(format).toBe(KeygateAccessLogFormat.json().toString());
  });

  test('stage options switch access logs, metrics, logging level and tracing', () => {
    // GIVEN / WHEN
    const { stack } = smallApi({
      stageName: 'live',
      cloudWatchRole: false,
      stage: {
        accessLogging: false,
        metricsEnabled: false,
        loggingLevel: apigw.MethodLoggingLevel.INFO,
        tracingEnabled: true,
        variables: { backend: 'blue' },
        description: 'live traffic',
      },
    });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'live',
      AccessLogSetting: Match.absent(),
      TracingEnabled: true,
      Variables: { backend: 'blue' },
      Description: 'live traffic',
      MethodSettings: [Match.objectLike({ LoggingLevel: 'INFO', MetricsEnabled: false, DataTraceEnabled: false })],
    });
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  test('addStage deploys the routes to a further stage with its own settings and log group', () => {
    // GIVEN
    const { stack, api } = smallApi({ stage: { throttle: { rateLimit: 100, burstLimit: 200 } } });

    // WHEN
    const staging = api.addStage('staging', {
      throttle: { rateLimit: 5, burstLimit: 10 },
      methodThrottles: { 'GET /pets': { rateLimit: 1, burstLimit: 2 } },
      loggingLevel: apigw.MethodLoggingLevel.INFO,
    });

    // THEN
    const template = Template.fromStack(stack);
    expect(api.stages).toEqual([api.defaultStage, staging]);
    template.resourceCountIs('AWS::ApiGateway::Stage', 2);
    template.resourceCountIs('AWS::ApiGateway::Deployment', 1);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'staging',
      DeploymentId: { Ref: Match.stringLikeRegexp('^ApiDeployment') },
      AccessLogSetting: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiStageStagingAccessLogs'), 'Arn'] }, Format: Match.stringLikeRegexp('apiKeyId') },
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10, LoggingLevel: 'INFO', DataTraceEnabled: false }),
        Match.objectLike({ ResourcePath: '/~1pets', HttpMethod: 'GET', ThrottlingRateLimit: 1, ThrottlingBurstLimit: 2, LoggingLevel: 'INFO' }),
      ]),
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200, LoggingLevel: 'ERROR' })],
    });
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
  });

  test('a stage name can be used once', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addStage('prod')).toThrow(/\[Stack\/Api\] stageName: a stage of that name exists already \(got "prod"\)/);
  });

  test('exposes the RestApi, the stage and the invoke URL', () => {
    // GIVEN / WHEN
    const { stack, api } = smallApi();

    // THEN
    expect(api.restApi).toBeInstanceOf(apigw.RestApi);
    expect(api.defaultStage).toBe(api.restApi.deploymentStage);
    const url = JSON.stringify(stack.resolve(api.url));
    expect(url).toContain('.execute-api.eu-west-1.');
    expect(url).toContain(JSON.stringify(stack.resolve(api.defaultStage.stageName)));
    expect(url).toMatch(/"\/"\]\]\}$/);
  });
});

describe('gateway responses', () => {
  test('JSON bodies with the request id for 403 invalid key, 403 unknown route, 429 throttled, 429 quota', () => {
    // GIVEN / WHEN
    const { stack } = smallApi();

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 4);
    const expected: Array<[string, string, string]> = [
      ['INVALID_API_KEY', '403', 'Forbidden'],
      ['MISSING_AUTHENTICATION_TOKEN', '403', 'Missing Authentication Token'],
      ['THROTTLED', '429', 'Too Many Requests'],
      ['QUOTA_EXCEEDED', '429', 'Limit Exceeded'],
    ];
    for (const [type, status, message] of expected) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Content-Type': "'application/json'" }),
        ResponseTemplates: {
          'application/json': Match.serializedJson({
            message,
            error: type,
            detail: Match.stringLikeRegexp('.+'),
            requestId: '$context.requestId',
          }),
        },
      });
    }
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': "'1'" }),
    });
  });

  test('addGatewayResponse replaces the default of the same type, and the deployment keeps deploying', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addGatewayResponse('Throttled', {
      type: apigw.ResponseType.THROTTLED,
      statusCode: '429',
      templates: { 'application/json': '{"error":"slow down","requestId":"$context.requestId"}' },
    });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 4);
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      ResponseTemplates: { 'application/json': '{"error":"slow down","requestId":"$context.requestId"}' },
    });
    // Every DependsOn names a resource of the template (CloudFormation rejects dangling ones).
    const json = template.toJSON() as { Resources: Record<string, { DependsOn?: string[] }> };
    for (const [id, resource] of Object.entries(json.Resources)) {
      for (const target of resource.DependsOn ?? []) {
        expect(`${id} -> ${target}: ${target in json.Resources}`).toBe(`${id} -> ${target}: true`);
      }
    }
  });

  test('a type can be added once', () => {
    // GIVEN
    const { api } = smallApi();
    api.addGatewayResponse('Quota', { type: apigw.ResponseType.QUOTA_EXCEEDED, statusCode: '429' });

    // WHEN / THEN
    expect(() => api.addGatewayResponse('Quota2', { type: apigw.ResponseType.QUOTA_EXCEEDED, statusCode: '429' }))
      .toThrow(/\[Stack\/Api\] type: a gateway response of this type was added already.*\(got "QUOTA_EXCEEDED"\)/);
  });

  test('replacing a default gives the deployment a new logical id, so the change gets deployed', () => {
    // GIVEN
    const before = smallApi();
    const after = smallApi();

    // WHEN
    after.api.addGatewayResponse('Invalid', { type: apigw.ResponseType.INVALID_API_KEY, statusCode: '401' });

    // THEN
    const deploymentIds = (fixture: typeof before): string[] =>
      Object.keys(Template.fromStack(fixture.stack).findResources('AWS::ApiGateway::Deployment', { Properties: Match.anyValue() }));
    expect(deploymentIds(after)).not.toEqual(deploymentIds(before));
  });

  test('a response of another type is added beside the defaults', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addGatewayResponse('Unauthorized', { type: apigw.ResponseType.UNAUTHORIZED, statusCode: '401' });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::GatewayResponse', 5);
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'UNAUTHORIZED', StatusCode: '401' });
  });

  test('jsonGatewayResponses: false leaves API Gateway\'s own responses', () => {
    // GIVEN / WHEN
    const { stack } = smallApi({ jsonGatewayResponses: false });

    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::GatewayResponse', 0);
  });
});

describe('metric helpers', () => {
  test.each([
    ['metricClientError', '4XXError'],
    ['metricServerError', '5XXError'],
    ['metricCount', 'Count'],
    ['metricLatency', 'Latency'],
  ] as const)('%s reads %s of the default stage', (helper, metricName) => {
    // GIVEN
    const { stack, api } = smallApi({ restApiName: 'pets-api' });

    // WHEN
    const metric = api[helper]({ period: Duration.minutes(1) });

    // THEN
    expect(metric.namespace).toBe('AWS/ApiGateway');
    expect(metric.metricName).toBe(metricName);
    expect(metric.period.toMinutes()).toBe(1);
    expect(stack.resolve(metric.dimensions)).toEqual({
      ApiName: 'pets-api',
      Stage: stack.resolve(api.defaultStage.stageName),
    });
  });
});
