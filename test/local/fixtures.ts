/** Small CDK apps synthesized in-process for the local gateway's tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, SecretValue, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `keygate-test-${prefix}-`));
}

export const HANDLER_CODE = `
exports.handler = async (event, context) => {
  if (event.path.endsWith('/slow')) { await new Promise((r) => setTimeout(r, 5000)); }
  if (event.path.endsWith('/bad')) return { statusCode: 'nope', body: {} };
  if (event.path.endsWith('/boom')) throw new Error('boom');
  return {
    statusCode: event.httpMethod === 'POST' ? 201 : 200,
    headers: { 'content-type': 'application/json', 'x-fn': process.env.GREETING || '' },
    body: JSON.stringify({ path: event.path, resource: event.resource, pathParameters: event.pathParameters, query: event.queryStringParameters,
      body: event.body, apiKeyId: event.requestContext.identity.apiKeyId, stage: event.requestContext.stage,
      leakedParentEnv: process.env.KEYGATE_PARENT_SECRET || null, fn: context.functionName }),
  };
};
`;

export const AUTHORIZER_CODE = `
exports.handler = async (event) => {
  const token = event.authorizationToken;
  if (token === 'deny') return { principalId: 'u', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }] } };
  if (token !== 'allow' && token !== 'allow-key') throw new Error('Unauthorized');
  return { principalId: 'user-1', context: { tier: 'gold' }, usageIdentifierKey: token === 'allow-key' ? process.env.KEY_VALUE : undefined,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn.split('/').slice(0, 2).join('/') + '/*' }] } };
};
`;

export const KNOWN_KEY = 'knownKeyValue0123456789abcdefABCDEF';

export interface PetAppOptions {
  readonly burst?: number;
  readonly rate?: number;
  readonly quota?: number;
}

/** A pet-store-like app: public MOCK /health, key-protected MOCK and Lambda routes, two tiers, three keys. */
export function synthPetApp(options: PetAppOptions = {}): string {
  const outdir = tmpDir('asm');
  const app = new App({ outdir });
  const stack = new Stack(app, 'PetStack');
  const api = new apigw.RestApi(stack, 'Api', { restApiName: 'pets', deployOptions: { stageName: 'v1' } });
  const mock = (body: string, status = '200'): apigw.MockIntegration => new apigw.MockIntegration({
    requestTemplates: { 'application/json': `{"statusCode": ${status}}` },
    integrationResponses: [{ statusCode: status, responseTemplates: { 'application/json': body } }],
  });
  const mr = [{ statusCode: '200' }];
  api.root.addResource('health').addMethod('GET', mock('{"ok":true,"requestId":"$context.requestId"}'), { methodResponses: mr });
  const pets = api.root.addResource('pets');
  pets.addMethod('GET', mock('[{"id":1,"name":"rex"}]'), { apiKeyRequired: true, methodResponses: mr });
  const fn = new lambda.Function(stack, 'PetsFn', {
    runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline(HANDLER_CODE),
    timeout: Duration.seconds(1), environment: { GREETING: 'hello' },
  });
  pets.addMethod('POST', new apigw.LambdaIntegration(fn), { apiKeyRequired: true });
  pets.addResource('{id}').addMethod('GET', new apigw.LambdaIntegration(fn), { apiKeyRequired: true });
  api.root.addResource('fn').addResource('{proxy+}').addMethod('ANY', new apigw.LambdaIntegration(fn));
  api.root.addResource('cfg').addMethod('GET', new apigw.HttpIntegration('http://127.0.0.1:1/x', { proxy: true }), { apiKeyRequired: false });
  api.addGatewayResponse('Throttled', {
    type: apigw.ResponseType.THROTTLED, statusCode: '429',
    responseHeaders: { 'Retry-After': "'1'" },
    templates: { 'application/json': '{"error":"slow down","requestId":"$context.requestId","message":$context.error.messageString}' },
  });
  const free = api.addUsagePlan('Free', {
    name: 'free', throttle: { rateLimit: options.rate ?? 2, burstLimit: options.burst ?? 3 }, quota: { limit: options.quota ?? 5, period: apigw.Period.DAY },
    apiStages: [{ api, stage: api.deploymentStage, throttle: [{ method: pets.node.findChild('POST') as apigw.Method, throttle: { rateLimit: 1, burstLimit: 1 } }] }],
  });
  const premium = api.addUsagePlan('Premium', {
    name: 'premium', throttle: { rateLimit: 100, burstLimit: 50 }, apiStages: [{ api, stage: api.deploymentStage }],
  });
  const k1 = api.addApiKey('FreeKey', { apiKeyName: 'free-client' });
  free.addApiKey(k1);
  const secret = new secretsmanager.Secret(stack, 'PremiumSecret', {
    generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
  });
  const k2 = api.addApiKey('PremiumKey', { apiKeyName: 'premium-client', value: secret.secretValue.unsafeUnwrap() });
  premium.addApiKey(k2);
  const k3 = api.addApiKey('KnownKey', { apiKeyName: 'known-client', value: KNOWN_KEY });
  premium.addApiKey(k3);
  void SecretValue;
  app.synth();
  return outdir;
}

/** An app with a Lambda TOKEN authorizer that also supplies the API key (ApiKeySourceType AUTHORIZER). */
export function synthAuthApp(): string {
  const outdir = tmpDir('auth');
  const app = new App({ outdir });
  const stack = new Stack(app, 'AuthStack');
  const fn = new lambda.Function(stack, 'AuthFn', {
    runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline(AUTHORIZER_CODE),
    environment: { KEY_VALUE: KNOWN_KEY },
  });
  const authorizer = new apigw.TokenAuthorizer(stack, 'Auth', { handler: fn, resultsCacheTtl: Duration.seconds(0) });
  const api = new apigw.RestApi(stack, 'Api', { restApiName: 'auth', apiKeySourceType: apigw.ApiKeySourceType.AUTHORIZER });
  const mock = new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': '{"principal":"$context.authorizer.principalId","tier":"$context.authorizer.tier"}' } }],
  });
  api.root.addResource('open').addMethod('GET', mock, { authorizer, methodResponses: [{ statusCode: '200' }] });
  api.root.addResource('metered').addMethod('GET', mock, { authorizer, apiKeyRequired: true, methodResponses: [{ statusCode: '200' }] });
  const plan = api.addUsagePlan('Plan', { name: 'auth-plan', apiStages: [{ api, stage: api.deploymentStage }] });
  plan.addApiKey(api.addApiKey('Key', { apiKeyName: 'via-authorizer', value: KNOWN_KEY }));
  app.synth();
  return outdir;
}

/** An app whose routes forward to `upstream` (HTTP_PROXY with {proxy+}, and non-proxy HTTP with integration responses). */
export function synthHttpApp(upstream: string): string {
  const outdir = tmpDir('http');
  const app = new App({ outdir });
  const stack = new Stack(app, 'HttpStack');
  const api = new apigw.RestApi(stack, 'Api', { restApiName: 'http' });
  api.root.addResource('proxy').addResource('{proxy+}').addMethod('ANY', new apigw.HttpIntegration(`${upstream}/backend/{proxy}`, {
    proxy: true, httpMethod: 'ANY', options: { requestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' } },
  }), { requestParameters: { 'method.request.path.proxy': true } });
  api.root.addResource('plain').addMethod('GET', new apigw.HttpIntegration(`${upstream}/plain`, {
    proxy: false, httpMethod: 'GET',
    options: {
      integrationResponses: [
        { statusCode: '200', responseTemplates: { 'application/json': '{"wrapped":$input.json(\'$\'),"n":$input.path(\'$.n\')}' } },
        { statusCode: '404', selectionPattern: '4\\d{2}', responseTemplates: { 'application/json': '{"message":"not there"}' } },
      ],
    },
  }), { methodResponses: [{ statusCode: '200' }, { statusCode: '404' }] });
  api.root.addResource('templated').addMethod('POST', new apigw.HttpIntegration(`${upstream}/echo`, {
    proxy: false, httpMethod: 'POST',
    options: {
      passthroughBehavior: apigw.PassthroughBehavior.NEVER,
      requestTemplates: { 'application/json': '{"wrapped":$input.json(\'$\'),"who":"$input.params(\'who\')"}' },
      integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': '{"upstreamSaw":$input.json(\'$.body\')}' } }],
    },
  }), { methodResponses: [{ statusCode: '200' }] });
  app.synth();
  return outdir;
}

export const REQUEST_AUTHORIZER_CODE = `
let calls = 0;
exports.handler = async (event) => {
  calls++;
  const ok = event.type === 'REQUEST' && event.headers && event.headers['X-Token'] === 'good' && event.queryStringParameters && event.queryStringParameters.user;
  if (!ok) throw new Error('Unauthorized');
  return { principalId: event.queryStringParameters.user, context: { calls, resource: event.resource, method: event.httpMethod },
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] } };
};
`;

/** REQUEST authorizer with a result cache, stage-level method throttles, and a DEFAULT_4XX override. */
export function synthMiscApp(): string {
  const outdir = tmpDir('misc');
  const app = new App({ outdir });
  const stack = new Stack(app, 'MiscStack');
  const fn = new lambda.Function(stack, 'ReqAuthFn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline(REQUEST_AUTHORIZER_CODE) });
  const authorizer = new apigw.RequestAuthorizer(stack, 'ReqAuth', {
    handler: fn, identitySources: [apigw.IdentitySource.header('X-Token'), apigw.IdentitySource.queryString('user')], resultsCacheTtl: Duration.minutes(5),
  });
  const api = new apigw.RestApi(stack, 'Api', {
    restApiName: 'misc',
    deployOptions: {
      stageName: 'live', throttlingRateLimit: 100, throttlingBurstLimit: 100,
      methodOptions: { '/limited/GET': { throttlingRateLimit: 1, throttlingBurstLimit: 1 } },
    },
  });
  const mock = (body: string): apigw.MockIntegration => new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }],
  });
  const mr = [{ statusCode: '200' }];
  api.root.addResource('req').addMethod('GET', mock('{"user":"$context.authorizer.principalId","calls":"$context.authorizer.calls"}'), { authorizer, methodResponses: mr });
  api.root.addResource('limited').addMethod('GET', mock('{"ok":true}'), { methodResponses: mr });
  api.root.addResource('free').addMethod('GET', mock('{"ok":true}'), { methodResponses: mr });
  api.addGatewayResponse('Default4xx', {
    type: apigw.ResponseType.DEFAULT_4XX, responseHeaders: { 'x-custom-4xx': "'yes'", 'x-path-stage': 'context.stage' },
    templates: { 'application/json': '{"oops":$context.error.messageString,"type":"$context.error.responseType"}' },
  });
  app.synth();
  return outdir;
}

/** An app with SNS topics only (a standard one named `alerts` and a FIFO one), for the local SNS. */
export function synthTopicApp(): string {
  const outdir = tmpDir('topics');
  const app = new App({ outdir });
  const stack = new Stack(app, 'TopicStack');
  new sns.Topic(stack, 'Alerts', { topicName: 'alerts' });
  new sns.Topic(stack, 'Orders', { fifo: true, topicName: 'orders' });
  new sns.Topic(stack, 'Unnamed');
  app.synth();
  return outdir;
}
