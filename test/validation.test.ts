import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Annotations as CoreAnnotations, CfnParameter, SecretValue, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { KeygateError, KeyProtectedApi, KeyValue, Tier } from '../lib';
import { mock, newStack, smallApi } from './support/keygate-fixtures';

/** `[path] property: …` as a pattern, with the rest of the message as a regular expression. */
function problem(path: string, property: string, rest: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`\\[${escape(path)}\\] ${escape(property)}: ${rest}`);
}

const PLAIN = (value: string) => KeyValue.fromSecretValue(SecretValue.unsafePlainText(value));

describe('key values', () => {
  test.each([
    ['19 characters', 'a'.repeat(19), 'is 19 characters long'],
    ['129 characters', 'a'.repeat(129), 'is 129 characters long'],
    ['a non-alphanumeric character', `${'a'.repeat(20)}-`, 'has a character that is not a letter or digit'],
  ])('a value of %s is rejected, without echoing the value', (_what, value, why) => {
    // GIVEN
    const { api, tier } = smallApi();

    // WHEN
    let error: unknown;
    try {
      api.addClient('acme', { tiers: [tier], keyValue: PLAIN(value) });
    } catch (e) {
      error = e;
    }

    // THEN
    expect(error).toBeInstanceOf(KeygateError);
    expect((error as Error).message).toMatch(problem('Stack/Api/Clients/acme', 'keyValue', `an API key value must be 20-128 alphanumeric characters; this one ${why}`));
    expect((error as Error).message).not.toContain(value);
  });

  test('values of 20 and 128 alphanumeric characters are accepted', () => {
    // GIVEN
    const { app, api, tier } = smallApi();

    // WHEN
    api.addClient('short', { tiers: [tier], keyValue: PLAIN('Ab1'.repeat(6) + 'xy') });
    api.addClient('long', { tiers: [tier], keyValue: PLAIN('Z9'.repeat(64)) });

    // THEN
    expect(() => app.synth()).not.toThrow();
  });

  test('two clients with the same plain value', () => {
    // GIVEN
    const { app, api, tier } = smallApi();

    // WHEN
    api.addClient('first', { tiers: [tier], keyValue: PLAIN('SameValue1234567890ab') });
    api.addClient('second', { tiers: [tier], keyValue: PLAIN('SameValue1234567890ab') });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api/Clients/second/Generation1', 'keyValue', 'has the same value as Stack/Api/Clients/first/Generation1; API key values are unique per account and region'));
  });

  test('two clients that reference the same secret', () => {
    // GIVEN
    const { app, api, tier } = smallApi();

    // WHEN
    api.addClient('first', { tiers: [tier], keyValue: KeyValue.fromSecretValue(SecretValue.secretsManager('partners/shared')) });
    api.addClient('second', { tiers: [tier], keyValue: KeyValue.fromSecretValue(SecretValue.secretsManager('partners/shared')) });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api/Clients/second/Generation1', 'keyValue', 'has the same value as Stack/Api/Clients/first/Generation1'));
  });

  test('an ssm-secure reference, which CloudFormation does not resolve in an ApiKey Value', () => {
    // GIVEN
    const { api, tier } = smallApi();

    // WHEN / THEN
    expect(() => api.addClient('partner', { tiers: [tier], keyValue: KeyValue.fromSecretValue(SecretValue.ssmSecure('/partners/key', '3')) }))
      .toThrow(problem('Stack/Api/Clients/partner', 'keyValue', 'CloudFormation does not resolve ssm-secure references in an ApiKey Value'));
  });

  test('a value known only at deploy time (a token) is left to CloudFormation', () => {
    // GIVEN
    const { app, stack, api, tier } = smallApi();
    const param = new CfnParameter(stack, 'PartnerKey', { noEcho: true });

    // WHEN
    api.addClient('partner', { tiers: [tier], keyValue: KeyValue.fromSecretValue(SecretValue.cfnParameter(param)) });

    // THEN
    expect(() => app.synth()).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: 'partner', Value: { Ref: 'PartnerKey' } });
  });
});

describe('key associations', () => {
  test('a key in two tiers that cover the same stage', () => {
    // GIVEN
    const { app, api, tier } = smallApi();
    const other = api.addTier('Other', { stages: [api.defaultStage] });

    // WHEN
    api.addClient('acme', { tiers: [tier, other] });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api/Clients/acme/Generation1/Key', 'tiers',
      "tiers 'Basic' and 'Other' both cover stage 'prod' of Stack/Api/Api; a key can be in only one usage plan per API stage"));
  });

  test('an imported key added to two tiers that cover the same stage', () => {
    // GIVEN
    const { app, stack, api, tier } = smallApi();
    const other = api.addTier('Other');
    const key = apigw.ApiKey.fromApiKeyId(stack, 'Partner', 'partner-key-id');

    // WHEN
    tier.addApiKey(key);
    other.addApiKey(key);

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Partner', 'tiers', "tiers 'Basic' and 'Other' both cover stage 'prod'"));
  });

  test('a key in tiers of different stages is fine', () => {
    // GIVEN
    const { app, api } = smallApi();
    const staging = api.addStage('staging');

    // WHEN
    const prod = api.addTier('Prod', { stages: [api.defaultStage] });
    const test = api.addTier('Test', { stages: [staging] });
    api.addClient('acme', { tiers: [prod, test] });

    // THEN
    expect(() => app.synth()).not.toThrow();
  });

  test('a key in more than 10 tiers', () => {
    // GIVEN: 11 stages, a tier each, so no two tiers share a stage.
    const { app, api, tier } = smallApi();
    const tiers: Tier[] = [];
    for (let i = 1; i <= 10; i++) tiers.push(api.addTier(`T${i}`, { stages: [api.addStage(`s${i}`)] }));
    // `tier` (Basic) covers every stage, so it is left out; one more on the default stage:
    tiers.push(api.addTier('T0', { stages: [api.defaultStage] }));
    expect(tier.tierName).toBe('Basic');

    // WHEN
    api.addClient('busy', { tiers });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api/Clients/busy/Generation1/Key', 'tiers', 'an API key can be in at most 10 usage plans \\(got 11\\)'));
  });

  test('a client needs a tier', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addClient('lonely', { tiers: [] })).toThrow(problem('Stack/Api/Clients/lonely', 'tiers', 'a client needs at least one tier'));
  });
});

describe('throttle and quota limits', () => {
  test.each([
    ['throttle.rateLimit', { throttle: { rateLimit: -1, burstLimit: 1 } }, 'must be a number >= 0 \\(got -1\\)'],
    ['throttle.burstLimit', { throttle: { rateLimit: 1, burstLimit: -2 } }, 'must be a number >= 0 \\(got -2\\)'],
    ['quota.limit', { quota: { limit: -5, period: apigw.Period.DAY } }, 'must be a number >= 0 \\(got -5\\)'],
    ['quota.offset', { quota: { limit: 5, period: apigw.Period.WEEK, offset: -1 } }, 'must be a number >= 0 \\(got -1\\)'],
  ])('negative %s', (property, options, message) => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addTier('Bad', options)).toThrow(problem('Stack/Api/Bad', property, message));
  });

  test.each([
    ['throttle.burstLimit', { throttle: { rateLimit: 1, burstLimit: 2.5 } }, 'must be a whole number \\(got 2.5\\)'],
    ['quota.limit', { quota: { limit: 10.5, period: apigw.Period.DAY } }, 'must be a whole number \\(got 10.5\\)'],
    ['quota.offset', { quota: { limit: 10, period: apigw.Period.MONTH, offset: 1.5 } }, 'must be a whole number \\(got 1.5\\)'],
  ])('non-integer %s', (property, options, message) => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addTier('Bad', options)).toThrow(problem('Stack/Api/Bad', property, message));
  });

  test('a fractional rateLimit is fine (requests per second is a double)', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addTier('Slow', { throttle: { rateLimit: 0.5, burstLimit: 1 } })).not.toThrow();
  });

  test.each([
    [apigw.Period.DAY, 1, 'must be 0 for period DAY \\(got 1\\)'],
    [apigw.Period.WEEK, 7, 'must be between 0 and 6 for period WEEK \\(got 7\\)'],
    [apigw.Period.MONTH, 28, 'must be between 0 and 27 for period MONTH \\(got 28\\)'],
  ])('quota offset out of range for period %s', (period, offset, message) => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addTier('Bad', { quota: { limit: 100, period, offset } })).toThrow(problem('Stack/Api/Bad', 'quota.offset', message));
  });

  test.each([
    [apigw.Period.DAY, 0],
    [apigw.Period.WEEK, 6],
    [apigw.Period.MONTH, 27],
  ])('quota offset at the top of the range for period %s is fine', (period, offset) => {
    // GIVEN
    const { app, api } = smallApi();

    // WHEN
    api.addTier('Edge', { quota: { limit: 100, period, offset } });

    // THEN
    expect(() => app.synth()).not.toThrow();
  });

  test('a quota offset needs a period', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addTier('Bad', { quota: { limit: 100, offset: 2 } }))
      .toThrow(problem('Stack/Api/Bad', 'quota.offset', 'needs a period \\(DAY, WEEK or MONTH\\) to count days into \\(got 2\\)'));
  });

  test('per-method and stage throttles are checked the same way', () => {
    // GIVEN
    const { api, tier } = smallApi();

    // WHEN / THEN
    expect(() => tier.addMethodThrottle('GET /pets', { rateLimit: -3 }))
      .toThrow(problem('Stack/Api/Basic', "methodThrottles['GET /pets'].rateLimit", 'must be a number >= 0 \\(got -3\\)'));
    expect(() => api.addStage('staging', { throttle: { rateLimit: 1, burstLimit: 0.5 } }))
      .toThrow(problem('Stack/Api/StageStaging', 'throttle.burstLimit', 'must be a whole number \\(got 0.5\\)'));
    const { stack } = newStack();
    expect(() => new KeyProtectedApi(stack, 'Api', { stage: { methodThrottles: { 'GET /pets': { burstLimit: -1 } } } }))
      .toThrow(problem('Stack/Api', "methodThrottles['GET /pets'].burstLimit", 'must be a number >= 0 \\(got -1\\)'));
  });

  test('limits known only at deploy time (tokens) are left to CloudFormation', () => {
    // GIVEN
    const { app, stack, api } = smallApi();
    const rate = new CfnParameter(stack, 'Rate', { type: 'Number' }).valueAsNumber;
    const offset = Token.asNumber(new CfnParameter(stack, 'Offset', { type: 'Number' }).valueAsNumber);

    // WHEN
    api.addTier('Dynamic', {
      stages: [api.addStage('dyn')],
      throttle: { rateLimit: rate, burstLimit: rate },
      quota: { limit: rate, period: apigw.Period.DAY, offset },
    });

    // THEN
    expect(() => app.synth()).not.toThrow();
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Dynamic',
      Throttle: { RateLimit: { Ref: 'Rate' }, BurstLimit: { Ref: 'Rate' } },
      Quota: { Limit: { Ref: 'Rate' }, Offset: { Ref: 'Offset' }, Period: 'DAY' },
    });
  });
});

describe('per-method throttles', () => {
  test('need a tier-level throttle', () => {
    // GIVEN
    const { app, api } = smallApi();

    // WHEN
    api.addTier('NoThrottle', { stages: [api.addStage('staging')], methodThrottles: { 'GET /pets': { rateLimit: 1, burstLimit: 1 } } });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api/NoThrottle', 'methodThrottles', 'per-method throttles need a tier-level throttle .*\\(got \\["GET /pets"\\]\\)'));
  });

  test('must name a route of the API', () => {
    // GIVEN
    const { app, tier } = smallApi();

    // WHEN
    tier.addMethodThrottle('GET /cats', { rateLimit: 1, burstLimit: 1 });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api/Basic', "methodThrottles['GET /cats']", 'no such route on the API \\(got "GET /cats"\\)'));
  });

  test('a stage names a route once in its per-method throttles', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addStage('staging', { methodThrottles: { 'GET /pets': { rateLimit: 1 }, 'get /pets/': { rateLimit: 2 } } }))
      .toThrow(problem('Stack/Api/StageStaging', 'methodThrottles', 'names the same route twice \\(got "get /pets/"\\)'));
  });

  test('stage-level per-method throttles must name a route of the API too', () => {
    // GIVEN
    const { app, api } = smallApi();

    // WHEN
    api.addStage('staging', { methodThrottles: { 'POST /pets': { rateLimit: 1, burstLimit: 1 } } });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api', "stage 'staging' methodThrottles", 'no such route on this API \\(got "POST /pets"\\)'));
  });
});

describe('stages', () => {
  test('a stage name with characters API Gateway does not allow', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addStage('pre prod')).toThrow(problem('Stack/Api', 'stageName', 'a stage name has 1-128 letters, digits, hyphens or underscores \\(got "pre prod"\\)'));
  });

  test('a tier with no stage', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addTier('Nowhere', { stages: [] })).toThrow(problem('Stack/Api/Nowhere', 'stages', 'a tier must cover at least one stage.*\\(got \\[\\]\\)'));
  });

  test('a tier that lists a stage twice', () => {
    // GIVEN
    const { app, api } = smallApi();
    const staging = api.addStage('staging');

    // WHEN
    api.addTier('Twice', { stages: [staging, staging] });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api/Twice', 'stages', 'lists a stage twice \\(got "staging"\\)'));
  });

  test('a key-required route on the default stage with no tier', () => {
    // GIVEN
    const { app, stack } = newStack();
    const api = new KeyProtectedApi(stack, 'Api');

    // WHEN
    api.addRoute('GET /pets', mock());

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api', "stage 'prod'", 'has key-required routes but no tier covers it, so every caller would get 403'));
  });

  test('a key-required route on a further stage that no tier covers', () => {
    // GIVEN
    const { app, stack } = newStack();
    const api = new KeyProtectedApi(stack, 'Api');
    api.addRoute('GET /pets', mock());

    // WHEN: the only tier covers prod.
    api.addStage('staging');
    api.addTier('ProdOnly', { stages: [api.defaultStage] });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api', "stage 'staging'", 'has key-required routes but no tier covers it'));
  });

  test('no tier is needed when every route is public, or when plans outside the app cover the stage', () => {
    // GIVEN
    const { app, stack } = newStack();

    // WHEN
    const open = new KeyProtectedApi(stack, 'Open');
    open.addRoute('GET /health', mock(), { apiKeyRequired: false });
    const external = new KeyProtectedApi(stack, 'External', { stage: { coveredByExternalTiers: true } });
    external.addRoute('GET /pets', mock());

    // THEN
    expect(() => app.synth()).not.toThrow();
  });
});

describe('routes', () => {
  test.each([
    ['GET', "a route is 'METHOD /path', e.g. 'GET /pets/\\{id\\}'"],
    ['GET pets', "a route is 'METHOD /path'"],
    ['FETCH /pets', 'the method must be one of ANY, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT'],
    ['GET /files/{proxy+}/meta', 'a greedy \\{param\\+\\} segment must be the last one'],
    ['GET /pets/{pet id}', "a route is 'METHOD /path'"],
    ['GET /pets/{1d}', "path segment '\\{1d\\}' is not a literal, a \\{param\\} or a \\{proxy\\+\\}"],
    ['GET /pets//toys', "path segment '' is not a literal"],
  ])('bad route syntax: %s', (route, message) => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addRoute(route, mock())).toThrow(problem('Stack/Api', 'route', `${message}.*\\(got "${route.replace(/[{}+]/g, '\\$&')}"\\)`));
  });

  test('a route declared twice', () => {
    // GIVEN
    const { api } = smallApi();

    // WHEN / THEN
    expect(() => api.addRoute('get /pets/', mock())).toThrow(problem('Stack/Api', 'route', 'is declared twice \\(got "get /pets/"\\)'));
  });

  test('a bad route in a tier or stage throttle', () => {
    // GIVEN
    const { api, tier } = smallApi();

    // WHEN / THEN
    expect(() => tier.addMethodThrottle('pets', { rateLimit: 1 })).toThrow(problem('Stack/Api/Basic', "methodThrottles['pets']", "a route is 'METHOD /path'"));
    expect(() => api.addStage('staging', { methodThrottles: { 'GRAB /pets': { rateLimit: 1 } } }))
      .toThrow(problem('Stack/Api/StageStaging', "methodThrottles['GRAB /pets']", 'the method must be one of'));
  });
});

describe('clients', () => {
  test('a client name is used once per API', () => {
    // GIVEN
    const { api, tier } = smallApi();
    api.addClient('acme', { tiers: [tier] });

    // WHEN / THEN
    expect(() => api.addClient('acme2', { tiers: [tier], clientName: 'acme' }))
      .toThrow(problem('Stack/Api/Clients/acme2', 'clientName', 'is used by Stack/Api/Clients/acme already on the same API \\(got "acme"\\)'));
  });

  test('the same client name on two APIs is fine', () => {
    // GIVEN
    const { app, stack, api, tier } = smallApi();
    const other = new KeyProtectedApi(stack, 'Other');
    other.addRoute('GET /x', mock());
    const otherTier = other.addTier('Basic');

    // WHEN
    api.addClient('acme', { tiers: [tier] });
    other.addClient('acme', { tiers: [otherTier] });

    // THEN
    expect(() => app.synth()).not.toThrow();
  });

  test.each([
    [[], 'needs at least one generation \\(got \\[\\]\\)'],
    [[0], 'generations are whole numbers from 1 \\(got 0\\)'],
    [[1.5], 'generations are whole numbers from 1 \\(got 1.5\\)'],
    [[1, 1], 'lists a generation twice \\(got \\[1, 1\\]\\)'],
  ])('generations %j', (generations, message) => {
    // GIVEN
    const { api, tier } = smallApi();

    // WHEN / THEN
    expect(() => api.addClient('acme', { tiers: [tier], generations })).toThrow(problem('Stack/Api/Clients/acme', 'generations', message));
  });

  test('an explicit value has one generation', () => {
    // GIVEN
    const { api, tier } = smallApi();

    // WHEN / THEN
    expect(() => api.addClient('acme', { tiers: [tier], generations: [1, 2], keyValue: KeyValue.fromSecretValue(SecretValue.secretsManager('x')) }))
      .toThrow(problem('Stack/Api/Clients/acme', 'generations', 'an explicit keyValue is one value.*\\(got \\[1, 2\\]\\)'));
  });

  test('a blank client or tier name', () => {
    // GIVEN
    const { api, tier } = smallApi();

    // WHEN / THEN
    expect(() => api.addClient('acme', { tiers: [tier], clientName: ' ' })).toThrow(problem('Stack/Api/Clients/acme', 'clientName', 'must be 1-1024 characters and not blank'));
    expect(() => api.addTier('Blank', { tierName: '' })).toThrow(problem('Stack/Api/Blank', 'tierName', 'must be 1-1024 characters and not blank'));
  });
});

describe('key source AUTHORIZER', () => {
  function authorizerApi() {
    const { app, stack } = newStack();
    const fn = new lambda.Function(stack, 'AuthFn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const api = new KeyProtectedApi(stack, 'Api', { apiKeySource: apigw.ApiKeySourceType.AUTHORIZER });
    api.addTier('Basic');
    return { app, stack, api, fn };
  }

  test('a key-required route without a Lambda authorizer', () => {
    // GIVEN
    const { app, api } = authorizerApi();

    // WHEN
    api.addRoute('GET /pets', mock(), { authorizationType: apigw.AuthorizationType.IAM });

    // THEN
    expect(() => app.synth()).toThrow(problem('Stack/Api', "route 'GET /pets'", 'with apiKeySource AUTHORIZER a key-required route needs a Lambda authorizer that returns usageIdentifierKey'));
  });

  test('a key-required route with a Lambda authorizer, and a public route without one, are fine', () => {
    // GIVEN
    const { app, stack, api, fn } = authorizerApi();

    // WHEN
    api.addRoute('GET /pets', mock(), { authorizer: new apigw.TokenAuthorizer(stack, 'Token', { handler: fn }) });
    api.addRoute('GET /health', mock(), { apiKeyRequired: false });

    // THEN
    expect(() => app.synth()).not.toThrow();
  });
});

describe('warning: the API key is the only authorization', () => {
  test('on a key-required route without an authorizer', () => {
    // GIVEN / WHEN
    const { stack } = smallApi();

    // THEN
    Annotations.fromStack(stack).hasWarning('/Stack/Api/Api/Default/pets/GET',
      Match.stringLikeRegexp('GET /pets: the API key is the only check on this route.*\\[ack: keygate:apiKeyOnlyAuthorization\\]'));
  });

  test('not on public routes nor on routes with an authorizer', () => {
    // GIVEN
    const { app, stack } = newStack();
    const api = new KeyProtectedApi(stack, 'Api');
    api.addTier('Basic');

    // WHEN
    api.addRoute('GET /health', mock(), { apiKeyRequired: false });
    api.addRoute('GET /pets', mock(), { authorizationType: apigw.AuthorizationType.IAM });

    // THEN
    expect(() => app.synth()).not.toThrow();
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('only check'));
  });

  test('acknowledgeWarning silences it, as the example does', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addRoute('POST /pets', mock());
    CoreAnnotations.of(api).acknowledgeWarning('keygate:apiKeyOnlyAuthorization', 'demo API without user accounts');

    // THEN
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('only check'));
  });
});
