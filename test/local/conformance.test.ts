/**
 * Conformance: the 15 cloud assemblies synthesized by aws-cdk's own integration tests
 * (test/fixtures/aws-cdk-integ: source and Apache-2.0 licence in its NOTICE.md) all load; their MOCK routes and key/plan rules are
 * served; what cannot run (missing Lambda assets, S3 OpenAPI bodies, Cognito, custom
 * resources…) is reported by logical id — and every resource is accounted for.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LocalGateway, startLocalGateway } from '../../lib/local';

const ROOT = path.resolve(__dirname, '..', 'fixtures', 'aws-cdk-integ');

interface Req {
  readonly stage?: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Use the value of the key of this logical id as x-api-key. */
  readonly keyOf?: string;
  readonly status: number;
  readonly body?: Record<string, unknown>;
  readonly header?: [string, string];
  readonly bodyContains?: string;
}

interface Expectation {
  readonly apis: Record<string, string[]>;
  readonly unsupported: string[];
  readonly keys: number;
  /** plan name → number of associated keys. */
  readonly plans?: Record<string, number>;
  readonly requests: Req[];
}

const FORBIDDEN = { message: 'Forbidden' };
const NO_ROUTE = { message: 'Missing Authentication Token' };
const UNAUTHORIZED = { message: 'Unauthorized' };
const INTERNAL = { message: 'Internal server error' };

const EXPECTED: Record<string, Expectation> = {
  restapi: {
    apis: { 'my-api': ['beta', 'prod'] }, unsupported: [], keys: 2, plans: { Basic: 1 },
    requests: [
      { method: 'POST', path: '/v1/toys', status: 500, body: INTERNAL }, // MOCK without integration responses, as on AWS
      { method: 'GET', path: '/v1/toys', status: 403, body: FORBIDDEN },
      { method: 'GET', path: '/v1/toys', keyOf: 'TestStageMyTestApiKeyAB584BD5', status: 403, body: FORBIDDEN }, // StageKeys only, no plan
      { method: 'GET', path: '/v1/toys', keyOf: 'myapiApiKey43446CCF', status: 200, bodyContains: '"resource":"/v1/toys"' }, // inline Lambda
      { method: 'GET', path: '/v1/toys', keyOf: 'myapiApiKey43446CCF', status: 200 },
      { method: 'GET', path: '/v1/toys', keyOf: 'myapiApiKey43446CCF', status: 429, body: { message: 'Too Many Requests' } }, // per-method burst 2
      { method: 'GET', path: '/v1/books', status: 200, bodyContains: '"httpMethod":"GET"' },
      { method: 'GET', path: '/v1/nothing', status: 403, body: NO_ROUTE },
      { stage: 'prod', method: 'GET', path: '/v1/toys', keyOf: 'myapiApiKey43446CCF', status: 403, body: FORBIDDEN }, // plan is on beta only
    ],
  },
  'restapi-default-apikey': {
    apis: { MyRestApi: ['prod'] }, unsupported: [], keys: 0,
    requests: [
      { method: 'GET', path: '/', status: 403, body: FORBIDDEN },
      { method: 'POST', path: '/', status: 502, body: INTERNAL }, // inline code "foo" throws
    ],
  },
  'usage-plan.sharing': { apis: {}, unsupported: [], keys: 1, plans: { 'test-apigateway-usageplan-create-myusageplan4B391740-MOAIGIPESKDN': 1 }, requests: [] },
  'usage-plan.multikey': { apis: {}, unsupported: [], keys: 2, plans: { 'test-apigateway-usageplan-multikey-myusageplan4B391740-5K6NENI6J8KD': 2 }, requests: [] },
  'spec-restapi': {
    apis: { 'my-api': ['beta'] }, unsupported: ['myapi4C7BF186'], keys: 1, plans: { 'Basic': 1 },
    requests: [
      { method: 'GET', path: '/v1/toys', status: 403, body: FORBIDDEN },
      { method: 'POST', path: '/v1/toys', status: 500 },
      { method: 'GET', path: '/v1/toys', keyOf: 'myapiApiKey43446CCF', status: 200 },
    ],
  },
  'token-authorizer': {
    apis: { MyRestApi: ['prod'] },
    unsupported: ['MyAuthorizerFunction70F1223E', 'MyAuthorizer6575980E', 'SingletonFunction1488541a7b23466481b69b4408076b81HandlerCD40AE9F',
      'LambdaInvoke3deec958b1e945795e38da5fc2f86753', 'LambdaInvoke8e1b9f979f2329abf1ed6574d33d391a', 'LambdaInvoke0532e3d95b2a56b147278c621e5800c4'],
    keys: 0,
    requests: [
      { method: 'GET', path: '/', status: 401, body: UNAUTHORIZED },
      { method: 'GET', path: '/', headers: { authorization: 'allow' }, status: 500 },
      { method: 'OPTIONS', path: '/', status: 204, header: ['access-control-allow-origin', '*'] },
    ],
  },
  'request-authorizer.lit': {
    apis: { MyRestApi: ['prod'] }, unsupported: ['MyAuthorizerFunction70F1223E', 'MyAuthorizer6575980E', 'MySecondAuthorizer25A69B96'], keys: 0,
    requests: [
      { method: 'GET', path: '/', status: 401, body: UNAUTHORIZED },
      { method: 'GET', path: '/?allow=yes', headers: { authorization: 'x' }, status: 500 },
      { method: 'GET', path: '/auth', status: 401 },
    ],
  },
  'token-authorizer-iam-role': {
    apis: { MyRestApi: ['prod'] }, unsupported: ['MyAuthorizerFunction70F1223E', 'MyAuthorizer6575980E'], keys: 0,
    requests: [{ method: 'PATCH', path: '/', status: 401, body: UNAUTHORIZED }],
  },
  'cognito-authorizer': {
    // The local Cognito serves the pool and verifies tokens (keygate portal): a malformed token is 401, as on AWS.
    apis: { myrestapi: ['prod'] }, unsupported: [], keys: 0,
    requests: [
      { method: 'GET', path: '/', status: 401, body: UNAUTHORIZED },
      { method: 'GET', path: '/', headers: { authorization: 'eyJ.token' }, status: 401, body: UNAUTHORIZED },
    ],
  },
  'api-with-authorizer-and-proxy': {
    apis: { 'Actions-ApiGateway': ['prod'] },
    unsupported: ['lambdas342CE2BBD', 'ActionsApiGatewayInitiateActionproxyANY14A167E2'], keys: 0,
    requests: [
      { method: 'OPTIONS', path: '/InitiateAction', status: 204 },
      { method: 'OPTIONS', path: '/InitiateAction/a/b', status: 204 },
      { method: 'GET', path: '/InitiateAction/a/b', status: 401 },
      { method: 'GET', path: '/InitiateAction', status: 403, body: NO_ROUTE },
    ],
  },
  'api-with-overriding-default-authorizer': {
    apis: { 'Actions-ApiGateway': ['prod'] }, unsupported: [], keys: 0,
    requests: [
      { method: 'POST', path: '/', status: 200 },
      { method: 'GET', path: '/', status: 401 },
      { method: 'OPTIONS', path: '/', status: 204 },
      { method: 'POST', path: '/', headers: { 'content-type': 'text/plain' }, status: 415 }, // PassthroughBehavior NEVER
    ],
  },
  'restapi.defaults': {
    apis: { 'my-api': ['prod'] }, unsupported: [], keys: 0,
    requests: [{ method: 'GET', path: '/', status: 500, body: INTERNAL }, { method: 'POST', path: '/', status: 403, body: NO_ROUTE }],
  },
  'lambda-api-nonproxy': {
    apis: { lambdarestapi: ['prod'] }, unsupported: ['lambdarestapiANYB9BB3FB2', 'lambdarestapiproxyANYC900233F'], keys: 0,
    requests: [{ method: 'GET', path: '/', status: 500, bodyContains: 'AWS (non-proxy) integration' }, { method: 'GET', path: '/a/b', status: 500 }],
  },
  'lambda-api.latebound-deploymentstage': {
    apis: { lambdarestapi: ['prod'] }, unsupported: [], keys: 0,
    requests: [{ method: 'GET', path: '/x', status: 502 }],
  },
  cors: {
    apis: { 'cors-api-test': ['prod'] },
    unsupported: ['handlerE1533BD5', 'corsapitesttwitchGET4270341B', 'corsapitesttwitchPOSTB52CFB02', 'corsapitesttwitchDELETEB4C94228'], keys: 0,
    requests: [
      { method: 'OPTIONS', path: '/twitch', headers: { origin: 'https://www.test-cors.org' }, status: 204, header: ['access-control-allow-origin', 'https://www.test-cors.org'] },
      { method: 'OPTIONS', path: '/twitch', headers: { origin: 'https://evil.example' }, status: 204, header: ['access-control-allow-origin', 'https://google.com'] },
      { method: 'GET', path: '/twitch', status: 500, bodyContains: 'handlerE1533BD5' },
    ],
  },
};

/** Resource types the model turns into objects; anything else must be reported or listed as ignored. */
const HANDLED = new Set([
  'AWS::ApiGateway::RestApi', 'AWS::ApiGateway::Resource', 'AWS::ApiGateway::Method', 'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Stage', 'AWS::ApiGateway::ApiKey', 'AWS::ApiGateway::UsagePlan', 'AWS::ApiGateway::UsagePlanKey',
  'AWS::ApiGateway::GatewayResponse', 'AWS::ApiGateway::Authorizer', 'AWS::Lambda::Function', 'AWS::SecretsManager::Secret', 'AWS::SNS::Topic',
  'AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolGroup',
]);

describe('conformance: aws-cdk integ snapshots', () => {
  const apps = fs.readdirSync(ROOT).filter((d) => fs.statSync(path.join(ROOT, d)).isDirectory()).sort();

  test('all 15 assemblies are present and expected', () => {
    expect(apps).toHaveLength(15);
    expect(apps).toEqual(Object.keys(EXPECTED).sort());
  });

  describe.each(apps)('%s', (app) => {
    let gw: LocalGateway;
    const dir = path.join(ROOT, app);
    const exp = EXPECTED[app];

    beforeAll(async () => {
      gw = await startLocalGateway({ assemblyDir: dir, port: 0, clock: () => Date.UTC(2026, 10, 27, 12), log: () => undefined });
    });
    afterAll(async () => {
      await gw?.close();
    });

    test('loads APIs, stages, keys and plans', () => {
      const apis: Record<string, string[]> = {};
      for (const a of gw.info.apis) apis[a.name] = a.stages.map((s) => s.name).sort();
      expect(apis).toEqual(exp.apis);
      expect(gw.info.keys).toHaveLength(exp.keys);
      const plans: Record<string, number> = {};
      for (const p of gw.model.plans.values()) plans[p.name] = gw.model.planKeys.get(p.id)?.size ?? 0;
      expect(plans).toEqual(exp.plans ?? {});
      for (const a of gw.info.apis) expect(a.id).toMatch(/^[a-z0-9]{10}$/);
    });

    test('reports what it cannot emulate by logical id, and accounts for every resource', () => {
      const reported = gw.unsupported.map((u) => u.logicalId);
      for (const u of gw.unsupported) expect(u.reason.length).toBeGreaterThan(10);
      const accounted = new Set([...reported, ...gw.ignored.map((i) => i.logicalId)]);
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
        const t = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { Resources?: Record<string, { Type: string }> };
        for (const [id, r] of Object.entries(t.Resources ?? {})) {
          if (!HANDLED.has(r.Type)) expect({ id, type: r.Type, accounted: accounted.has(id) }).toEqual({ id, type: r.Type, accounted: true });
        }
      }
      // Nothing reported that the expectation does not know about.
      expect([...new Set(reported)].sort()).toEqual([...exp.unsupported].sort());
    });

    test('serves MOCK routes and key/plan rules', async () => {
      for (const r of exp.requests) {
        const api = gw.info.apis[0];
        const stage = api.stages.find((s) => s.name === (r.stage ?? api.stages[0].name))!;
        const headers: Record<string, string> = { ...r.headers };
        if (r.keyOf) headers['x-api-key'] = [...gw.model.keys.values()].find((k) => k.tags['aws:cloudformation:logical-id'] === r.keyOf)!.value;
        const res = await fetch(stage.url + r.path, { method: r.method, headers });
        const text = await res.text();
        const label = `${app} ${r.method} ${r.path}`;
        expect({ label, status: res.status }).toEqual({ label, status: r.status });
        expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
        if (r.body) expect(JSON.parse(text)).toEqual(r.body);
        if (r.bodyContains) expect(text).toContain(r.bodyContains);
        if (r.header) expect(res.headers.get(r.header[0])).toBe(r.header[1]);
      }
    });
  });
});
