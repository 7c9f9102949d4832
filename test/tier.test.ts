import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { KeyProtectedApi, Tier } from '../lib';
import { mock, smallApi } from './support/keygate-fixtures';

describe('tier', () => {
  test('a usage plan with name, description, throttle and quota on the API stage', () => {
    // GIVEN
    const { stack, api } = smallApi({}, {});

    // WHEN
    api.addTier('Gold', {
      tierName: 'gold-tier',
      description: 'For paying customers',
      throttle: { rateLimit: 2.5, burstLimit: 5 },
      quota: { limit: 10_000, period: apigw.Period.MONTH, offset: 3 },
      stages: [api.defaultStage],
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'gold-tier',
      Description: 'For paying customers',
      Throttle: { RateLimit: 2.5, BurstLimit: 5 },
      Quota: { Limit: 10000, Period: 'MONTH', Offset: 3 },
      ApiStages: [{ ApiId: { Ref: Match.stringLikeRegexp('^Api') }, Stage: { Ref: Match.stringLikeRegexp('^ApiDeploymentStageprod') } }],
    });
  });

  test('the name defaults to the construct id; no throttle and no quota when not set', () => {
    // GIVEN / WHEN
    const { stack, tier } = smallApi({}, {});

    // THEN
    expect(tier.tierName).toBe('Basic');
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Basic',
      Throttle: Match.absent(),
      Quota: Match.absent(),
    });
  });

  test('per-method throttles are keyed /path/METHOD, also for routes and throttles added later', () => {
    // GIVEN
    const { stack, api } = smallApi({}, {});
    const tier = api.addTier('Metered', {
      throttle: { rateLimit: 10, burstLimit: 20 },
      methodThrottles: { 'GET /pets': { rateLimit: 3, burstLimit: 6 } },
    });

    // WHEN
    api.addRoute('GET /pets/{id}', mock());
    api.addRoute('POST /', mock());
    tier.addMethodThrottle('GET /pets/{id}', { rateLimit: 2, burstLimit: 4 });
    tier.addMethodThrottle('post /', { rateLimit: 1, burstLimit: 1 });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Metered',
      ApiStages: [{
        ApiId: { Ref: Match.stringLikeRegexp('^Api') },
        Stage: { Ref: Match.stringLikeRegexp('^ApiDeploymentStageprod') },
        Throttle: {
          '/pets/GET': { RateLimit: 3, BurstLimit: 6 },
          '/pets/{id}/GET': { RateLimit: 2, BurstLimit: 4 },
          '//POST': { RateLimit: 1, BurstLimit: 1 },
        },
      }],
    });
  });

  test('a route gets one per-method throttle per tier', () => {
    // GIVEN
    const { tier } = smallApi();
    tier.addMethodThrottle('GET /pets', { rateLimit: 1, burstLimit: 1 });

    // WHEN / THEN
    expect(() => tier.addMethodThrottle('get /pets/', { rateLimit: 2, burstLimit: 2 }))
      .toThrow(/\[Stack\/Api\/Basic\] methodThrottles: the route has a throttle already \(got "get \/pets\/"\)/);
  });

  test('by default a tier covers every stage, including stages added after it', () => {
    // GIVEN
    const { stack, api } = smallApi({}, {});
    api.addTier('Everywhere');

    // WHEN
    api.addStage('staging');

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Everywhere',
      ApiStages: [
        Match.objectLike({ Stage: { Ref: Match.stringLikeRegexp('^ApiDeploymentStageprod') } }),
        Match.objectLike({ Stage: { Ref: Match.stringLikeRegexp('^ApiStageStaging') } }),
      ],
    });
  });

  test('explicit stages: a tier per stage, per-method throttles on each', () => {
    // GIVEN
    const { stack, api } = smallApi({}, {});
    const staging = api.addStage('staging');

    // WHEN
    const prodTier = api.addTier('Prod', { stages: [api.defaultStage], throttle: { rateLimit: 1, burstLimit: 1 }, methodThrottles: { 'GET /pets': { rateLimit: 1, burstLimit: 1 } } });
    const stagingTier = api.addTier('Staging', { stages: [staging] });

    // THEN
    expect(prodTier.coveredStages()).toEqual([api.defaultStage]);
    expect(stagingTier.coveredStages()).toEqual([staging]);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Prod',
      ApiStages: [{ ApiId: Match.anyValue(), Stage: { Ref: Match.stringLikeRegexp('^ApiDeploymentStageprod') }, Throttle: { '/pets/GET': { RateLimit: 1, BurstLimit: 1 } } }],
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Staging',
      ApiStages: [{ ApiId: Match.anyValue(), Stage: { Ref: Match.stringLikeRegexp('^ApiStageStaging') } }],
    });
  });

  test('a tier can cover a stage of another API; per-method throttles apply to its own API only', () => {
    // GIVEN
    const { app, stack, api } = smallApi({}, {});
    const other = new KeyProtectedApi(stack, 'Other');
    other.addRoute('GET /pets', mock());

    // WHEN
    api.addTier('Both', {
      stages: [api.defaultStage, other.defaultStage],
      throttle: { rateLimit: 1, burstLimit: 1 },
      methodThrottles: { 'GET /pets': { rateLimit: 1, burstLimit: 1 } },
    });

    // THEN: the other API's stage counts as covered, so synth passes.
    expect(() => app.synth()).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Both',
      ApiStages: [
        { ApiId: { Ref: Match.stringLikeRegexp('^Api[0-9A-F]{8}$') }, Stage: Match.anyValue(), Throttle: { '/pets/GET': { RateLimit: 1, BurstLimit: 1 } } },
        { ApiId: { Ref: Match.stringLikeRegexp('^OtherApi') }, Stage: Match.anyValue() },
      ],
    });
  });

  test('a usage plan from outside the app is imported by id', () => {
    // GIVEN
    const { stack } = smallApi();

    // WHEN
    const imported = Tier.fromUsagePlanId(stack, 'Legacy', 'abc123');

    // THEN
    expect(imported.usagePlanId).toBe('abc123');
    expect(imported.tierName).toBe('abc123');
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
  });

  test('addApiKey associates an imported key with the tier', () => {
    // GIVEN
    const { stack, tier } = smallApi();
    const key = apigw.ApiKey.fromApiKeyId(stack, 'Partner', 'k3y1d');

    // WHEN
    tier.addApiKey(key);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: 'k3y1d',
      KeyType: 'API_KEY',
      UsagePlanId: { Ref: Match.stringLikeRegexp('^ApiBasic') },
    });
  });
});
