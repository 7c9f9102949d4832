import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { PartnerApiStack } from '../examples/partner-api/partner-api-stack';
import { PetStoreStack } from '../examples/pet-store/pet-store-stack';

const ENV = { account: '111111111111', region: 'us-east-1' };

describe('pet-store example', () => {
  // GIVEN / WHEN: the stack as bin/app.ts builds it, in a fixed environment
  const app = new App();
  const stack = new PetStoreStack(app, 'KeygatePetStore', { env: ENV });
  const template = Template.fromStack(stack);

  test('snapshot', () => {
    // THEN
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('public GET /health (Mock), key-protected pet routes (Lambda and Mock)', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { Ref: Match.stringLikeRegexp('^PetStoreApihealth') },
      ApiKeyRequired: false,
      Integration: Match.objectLike({ Type: 'MOCK' }),
    });
    for (const [method, resource, integration] of [
      ['GET', '^PetStoreApipets[0-9A-F]{8}$', 'AWS_PROXY'],
      ['POST', '^PetStoreApipets[0-9A-F]{8}$', 'AWS_PROXY'],
      ['GET', '^PetStoreApipetsid', 'AWS_PROXY'],
      ['GET', '^PetStoreApipetstypes', 'MOCK'],
    ]) {
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: method,
        ResourceId: { Ref: Match.stringLikeRegexp(resource) },
        ApiKeyRequired: true,
        Integration: Match.objectLike({ Type: integration }),
      });
    }
    // 5 of the pet store, 5 of its developer portal (GET /, /app.js, /style.css, POST /auth/{action}, ANY /api/{proxy+})
    template.resourceCountIs('AWS::ApiGateway::Method', 10);
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: Match.stringLikeRegexp('^nodejs'), Handler: 'index.handler' });
  });

  test('tiers free / basic / premium with distinct throttle and quota, and one per-method override', () => {
    // THEN
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 3);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Free', Throttle: { RateLimit: 1, BurstLimit: 2 }, Quota: { Limit: 100, Period: 'DAY' },
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Basic',
      Throttle: { RateLimit: 5, BurstLimit: 10 },
      Quota: { Limit: 10000, Period: 'MONTH' },
      ApiStages: [Match.objectLike({ Throttle: { '/pets/POST': { RateLimit: 1, BurstLimit: 2 } } })],
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Premium', Throttle: { RateLimit: 50, BurstLimit: 100 }, Quota: { Limit: 1000000, Period: 'MONTH' },
    });
  });

  test('four clients with stack keys (one with its value in Secrets Manager, one a trial that expires); soylent\'s key rotates every 90 days', () => {
    // THEN
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 4);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 4);
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: Match.stringLikeRegexp('^PetStoreClientssoylentSecret') },
      RotationRules: { ScheduleExpression: 'rate(90 days)' },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Tags: Match.arrayWith([{ Key: 'keygate:rotation-overlap-seconds', Value: '604800' }, { Key: 'keygate:usage-plans', Value: { Ref: Match.stringLikeRegexp('^PetStorePremium') } }]),
    });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Name: 'globex',
      Value: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^PetStoreClientsglobexGeneration1Secret') }, ':SecretString:::}}']] },
    });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: 'acme', Value: Match.absent(), CustomerId: 'acme-001' });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: 'initech', Value: Match.absent() });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: 'trial', Tags: Match.arrayWith([{ Key: 'keygate:expires-after-seconds', Value: String(14 * 86_400) }]) });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });

  test('outputs: invoke URL, key ids and the commands that read each key', () => {
    // THEN
    template.hasOutput('InvokeUrl', { Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '/'])] } });
    for (const name of ['acme', 'globex', 'initech']) {
      template.hasOutput(`KeyId${name}`, { Value: { Ref: Match.stringLikeRegexp(`^PetStoreClients${name}Generation1Key`) } });
    }
    template.hasOutput('ReadKeyacme', {
      Value: { 'Fn::Join': ['', ['aws apigateway get-api-key --api-key ', { Ref: Match.stringLikeRegexp('^PetStoreClientsacmeGeneration1Key') }, ' --include-value --query value --output text']] },
    });
    template.hasOutput('ReadKeyglobex', {
      Value: { 'Fn::Join': ['', ['aws secretsmanager get-secret-value --secret-id ', { Ref: Match.stringLikeRegexp('^PetStoreClientsglobexGeneration1Secret') }, ' --query SecretString --output text']] },
    });
  });

  test('the key-only warning is acknowledged for the demo', () => {
    // THEN
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('only check'));
  });
});

describe('partner-api example', () => {
  // GIVEN / WHEN: the stack as examples/partner-api/app.ts builds it, in a fixed environment
  const app = new App();
  const stack = new PartnerApiStack(app, 'KeygatePartnerApi', { env: ENV });
  const template = Template.fromStack(stack);

  test('snapshot', () => {
    // THEN
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('AUTHORIZER key source with a Lambda request authorizer on key-required routes', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST', ApiKeyRequired: true, AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: Match.stringLikeRegexp('^PartnerAuthorizer') },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY', ApiKeyRequired: true, ResourceId: { Ref: Match.stringLikeRegexp('^PartnerApifilesproxy') },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET', ApiKeyRequired: false, AuthorizationType: 'COGNITO_USER_POOLS', ResourceId: { Ref: Match.stringLikeRegexp('^PartnerApireports') },
    });
  });

  test('two stages with their own settings, a tier for each', () => {
    // THEN
    template.resourceCountIs('AWS::ApiGateway::Stage', 2);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'staging',
      MethodSettings: Match.arrayWith([Match.objectLike({ HttpMethod: 'POST', ResourcePath: '/~1orders', ThrottlingRateLimit: 5 })]),
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Sandbox', Quota: { Limit: 1000, Period: 'WEEK', Offset: 1 }, ApiStages: [Match.objectLike({ Stage: { Ref: Match.stringLikeRegexp('^PartnerApiStageStaging') } })],
    });
  });

  test('rotation in progress: both generations of globex live, each with its own secret', () => {
    // THEN
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: 'globex' });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: 'globex-gen2' });
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    // globex: 2 generations x 2 tiers; umbrella: 1 x 1.
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 5);
  });
});
