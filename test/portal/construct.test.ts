import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as sns from 'aws-cdk-lib/aws-sns';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeveloperPortal, KeyProtectedApi, MarketplaceSubscriptions, Tier } from '../../lib';
import { mock } from '../support/keygate-fixtures';

interface Violation { readonly ruleName: string; readonly reason?: string; readonly violatingConstructs: { readonly constructPath: string }[] }

function shop(env?: { account: string; region: string }, app = new App()): { stack: Stack; api: KeyProtectedApi; free: Tier; pro: Tier } {
  const stack = new Stack(app, 'Shop', { env });
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  api.addRoute('GET /health', mock(), { apiKeyRequired: false });
  const free = api.addTier('Free', { throttle: { rateLimit: 5, burstLimit: 10 }, quota: { limit: 10_000, period: apigw.Period.MONTH } });
  const pro = api.addTier('Pro', { throttle: { rateLimit: 50, burstLimit: 100 } });
  return { stack, api, free, pro };
}

describe('DeveloperPortal template', () => {
  const { stack, api, free, pro } = shop();
  new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }, { tier: pro, approval: true }], keyRollOverlap: Duration.hours(2) });
  const t = Template.fromStack(stack);

  test('a user pool with self sign-up, e-mail verification and an admins group; a client without secret for USER_PASSWORD_AUTH', () => {
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      AutoVerifiedAttributes: ['email'],
      UsernameAttributes: ['email'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12 }) },
    });
    t.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'admins' });
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false, PreventUserExistenceErrors: 'ENABLED', ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH']),
    });
  });

  test('the portal API: /api needs the Cognito authorizer, the pages and sign-up do not; the stage is throttled, sign-up harder', () => {
    t.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'Api-portal', Description: 'keygate developer portal of Api' });
    t.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS', IdentitySource: 'method.request.header.Authorization' });
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'ANY', AuthorizationType: 'COGNITO_USER_POOLS' });
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'NONE' });
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'portal',
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }),
        Match.objectLike({ HttpMethod: 'POST', ResourcePath: '/~1auth~1{action}', ThrottlingRateLimit: 1, ThrottlingBurstLimit: 5 }),
      ]),
    });
  });

  test('the Lambda gets the offered tiers (Pro needs approval), the overlap and the API\'s routes with which need a key', () => {
    const fns = t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('developer portal') } });
    const env = (Object.values(fns)[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect(env.KEY_ROLL_OVERLAP_SECONDS).toBe('7200');
    expect(JSON.stringify(stack.resolve(env.PORTAL_TIERS))).toMatch(/"approval\\":true/);
    expect(JSON.parse(env.API_ROUTES as string)).toEqual([
      { method: 'GET', path: '/health', apiKeyRequired: false },
      { method: 'GET', path: '/pets', apiKeyRequired: true },
    ]);
  });

  test('least privilege: keys created only with the portal tag, changed only when they carry it, associated only with the offered plans', () => {
    const policies = t.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties.PolicyDocument.Statement);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
    expect(bySid('CreatePortalKeys').Condition).toEqual({ StringEquals: { 'aws:RequestTag/keygate:portal': expect.stringMatching(/Portal/) } });
    expect(bySid('ChangePortalKeys').Condition).toEqual({ StringEquals: { 'aws:ResourceTag/keygate:portal': expect.stringMatching(/Portal/) } });
    expect(bySid('TagPortalKeys').Condition).toEqual(bySid('ChangePortalKeys').Condition);
    const assoc = JSON.stringify(bySid('AssociateWithOfferedPlans').Resource);
    expect(assoc).toContain(stack.resolve(free.usagePlanId).Ref);
    expect(assoc).toContain(stack.resolve(pro.usagePlanId).Ref);
    expect(statements.some((s) => s.Resource === '*' && String(s.Action).startsWith('apigateway'))).toBe(false);
  });

  test('a schedule runs the portal\'s job (retire after the overlap, expiry, idle keys); without keyLifetime or disableUnusedAfter those rules are off', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ action: 'maintain' }) })],
    });
    const fns = t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('developer portal') } });
    const env = (Object.values(fns)[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect(env.KEY_LIFETIME_SECONDS).toBeUndefined();
    expect(env.DISABLE_UNUSED_AFTER_DAYS).toBeUndefined();
  });

  test('the idle rule may read which keys are in the offered plans (GetUsagePlanKeys), and no other plan', () => {
    const policies = t.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties.PolicyDocument.Statement);
    const offered = JSON.stringify(stack.resolve(statements.find((s) => s.Sid === 'OfferedPlans')!.Resource));
    expect(offered.match(/\/keys"/g)).toHaveLength(2);
    expect(offered.match(new RegExp(`${stack.resolve(free.usagePlanId).Ref as string}"\\},"\\/keys"`, 'g'))).toHaveLength(1);
  });
});

describe('DeveloperPortal key rules', () => {
  test('keyLifetime and disableUnusedAfter reach the portal\'s Lambda in seconds and days', () => {
    const { stack, api, free } = shop();
    new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], keyLifetime: Duration.days(90), disableUnusedAfter: Duration.days(30) });
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('developer portal') } });
    const env = (Object.values(fns)[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect([env.KEY_LIFETIME_SECONDS, env.DISABLE_UNUSED_AFTER_DAYS]).toEqual(['7776000', '30']);
  });
  test('keyLifetime under a minute', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], keyLifetime: Duration.seconds(30) }))
      .toThrow(/\[Shop\/Portal\] keyLifetime: must be a duration of at least one minute, in whole seconds \(got "30 seconds"\)/);
  });
  test('keyLifetime in fractions of a second', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], keyLifetime: Duration.millis(90_500) }))
      .toThrow(/\[Shop\/Portal\] keyLifetime: must be a duration of at least one minute, in whole seconds \(got "1 minute 30 seconds"\)/);
  });
  test('disableUnusedAfter not whole days', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], disableUnusedAfter: Duration.hours(36) }))
      .toThrow(/\[Shop\/Portal\] disableUnusedAfter: must be a whole number of days, at least 1 \(got "1 day 12 hours"\)/);
  });
  test('disableUnusedAfter under a day', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], disableUnusedAfter: Duration.hours(12) }))
      .toThrow(/\[Shop\/Portal\] disableUnusedAfter: must be a whole number of days, at least 1 \(got "12 hours"\)/);
  });
});

/** A tier sold on AWS Marketplace (its subscription topic is AWS Marketplace's). */
function sell(stack: Stack, api: KeyProtectedApi, productCode = 'prodabc123', tier?: Tier, id = 'Marketplace'): MarketplaceSubscriptions {
  return new MarketplaceSubscriptions(stack, id, {
    tier: tier ?? api.addTier(`Sold${id}`, { throttle: { rateLimit: 10, burstLimit: 20 } }), productCode, createMeteringRole: id === 'Marketplace',
    subscriptionTopic: sns.Topic.fromTopicArn(stack, `${id}Topic`, `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${productCode}`),
  });
}

describe('DeveloperPortal selling on AWS Marketplace', () => {
  const { stack, api, free } = shop();
  const mp = sell(stack, api);
  const portal = new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], marketplace: [mp] });
  const t = Template.fromStack(stack);

  test('the fulfillment URL: POST /marketplace without the authorizer, in an output; the Lambda knows the sold tier and product', () => {
    const resource = Object.entries(t.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'marketplace' } }));
    expect(resource).toHaveLength(1);
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', AuthorizationType: 'NONE', ResourceId: { Ref: resource[0][0] } });
    const parts = (stack.resolve(portal.fulfillmentUrl) as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    expect(parts[parts.length - 1]).toBe('/marketplace');
    expect(Object.keys(t.findOutputs('*')).some((k) => k.startsWith('PortalFulfillmentUrl'))).toBe(true);
    const env = Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler', Description: Match.stringLikeRegexp('developer portal') } }))[0].Properties.Environment.Variables;
    expect(JSON.stringify(stack.resolve(env.PORTAL_MARKETPLACE))).toContain('\\"productCode\\":\\"prodabc123\\"');
  });

  test('least privilege: ResolveCustomer (no resource-level permissions), and renaming/tagging only keys tagged for a Marketplace customer', () => {
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Action: unknown; Resource: unknown; Condition?: unknown }[]);
    expect(statements.find((s) => s.Sid === 'ResolveMarketplaceCustomers')).toMatchObject({ Action: 'aws-marketplace:ResolveCustomer', Resource: '*' });
    expect(statements.find((s) => s.Sid === 'ClaimMarketplaceKeys')).toMatchObject({ Action: 'apigateway:PATCH', Condition: { StringLike: { 'aws:ResourceTag/keygate:marketplace-customer': '*' } } });
    expect(statements.find((s) => s.Sid === 'TagMarketplaceKeys')).toMatchObject({ Action: 'apigateway:PUT', Condition: { StringLike: { 'aws:ResourceTag/keygate:marketplace-customer': '*' } } });
  });

  test('validated at synth: a sold tier also offered for self-service, a product twice; a Marketplace-only portal is fine', () => {
    const a = shop();
    const sold = sell(a.stack, a.api, 'prodabc123', a.free);
    expect(() => new DeveloperPortal(a.stack, 'Portal', { api: a.api, tiers: [{ tier: a.free }], marketplace: [sold] }))
      .toThrow(/Shop\/Portal.*marketplace.*sells a tier the portal also offers in tiers \(self-service keys would not be metered\).*Free/);
    const b = shop();
    const twice = [sell(b.stack, b.api, 'prodabc123'), sell(b.stack, b.api, 'prodabc123', undefined, 'Again')];
    expect(() => new DeveloperPortal(b.stack, 'Portal', { api: b.api, tiers: [{ tier: b.free }], marketplace: twice })).toThrow(/Shop\/Portal.*marketplace.*names the same product code twice.*prodabc123/);
    const c = shop();
    expect(() => new DeveloperPortal(c.stack, 'Portal', { api: c.api, tiers: [], marketplace: [sell(c.stack, c.api)] })).not.toThrow();
  });
});

describe('DeveloperPortal validation', () => {
  test('no tiers', () => {
    const { stack, api } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [] })).toThrow(/Shop\/Portal.*tiers.*a portal must offer at least one tier/);
  });
  test('a tier twice', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }, { tier: free }] })).toThrow(/Shop\/Portal.*tiers.*offers the same tier twice.*Free/);
  });
  test('overlap over 90 days', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], keyRollOverlap: Duration.days(91) })).toThrow(/Shop\/Portal.*keyRollOverlap.*must be at most 90 days.*91 days/);
  });
  test('headroom out of range', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], keyHeadroom: 10_000 })).toThrow(/Shop\/Portal.*keyHeadroom.*must be a whole number from 0 to 9999.*10000/);
  });
  test('rate limit not above 0', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], rateLimit: 0 })).toThrow(/Shop\/Portal.*rateLimit.*must be above 0/);
  });
  test('retire schedule not whole minutes', () => {
    const { stack, api, free } = shop();
    expect(() => new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }], retireEvery: Duration.seconds(90) })).toThrow(/Shop\/Portal.*retireEvery.*must be whole minutes/);
  });
});

describe.each([
  ['without env', undefined, false],
  ['with a fixed env', { account: '123456789012', region: 'eu-west-1' }, false],
  ['selling on AWS Marketplace', { account: '123456789012', region: 'us-east-1' }, true],
])('cdk-nag AwsSolutions on the portal %s', (_name, env, marketplace) => {
  test('only the app\'s own choice of AWSLambdaBasicExecutionRole is left; every acknowledgement has a reason', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-portal-nag-'));
    try {
      const app = new App({ outdir });
      const { stack, api, free, pro } = shop(env, app);
      new DeveloperPortal(stack, 'Portal', { api, tiers: [{ tier: free }, { tier: pro, approval: true }], marketplace: marketplace ? [sell(stack, api)] : undefined });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      try { app.synth(); } catch { /* findings elsewhere in the stack fail the synth */ }
      const report = (JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; violations: Violation[]; suppressedViolations?: Violation[] }[] })
        .pluginReports.find((r) => r.pluginName === 'AwsSolutions');
      const ours = /^Shop\/Portal\//;
      const findings = (report?.violations ?? []).flatMap((v) => v.violatingConstructs.filter((c) => ours.test(c.constructPath)).map((c) => `${v.ruleName} ${c.constructPath}`));
      expect(findings.sort()).toEqual([]);
      const acknowledged = (report?.suppressedViolations ?? []).filter((v) => v.violatingConstructs.some((c) => ours.test(c.constructPath)));
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const v of acknowledged) expect(v.reason?.length ?? 0).toBeGreaterThan(40);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
