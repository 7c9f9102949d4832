import { TemplateResolver, UnresolvableError } from '../../lib/local/cloudformation/intrinsics';
import { nextPeriodStart, periodStart, QuotaCounter } from '../../lib/local/apigateway/data-plane/quota';
import { generatePassword, generateSecretString } from '../../lib/local/secrets-manager/secrets';
import { ThrottleRegistry, TokenBucket } from '../../lib/local/apigateway/data-plane/throttle';
import { renderVtl } from '../../lib/local/apigateway/data-plane/vtl';
import { Router } from '../../lib/local/apigateway/data-plane/router';
import { RestApi } from '../../lib/local/apigateway/model';

describe('intrinsic functions', () => {
  const template = {
    Parameters: { Env: { Type: 'String', Default: 'dev' }, BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' } },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] }, NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] }, Both: { 'Fn::And': [{ Condition: 'NotProd' }, { 'Fn::Or': [true, false] }] } },
    Mappings: { M: { dev: { size: 'small' } } },
    Resources: {},
  };
  const r = new TemplateResolver(template, {
    pseudo: { region: 'us-east-1', accountId: '123456789012', partition: 'aws', urlSuffix: 'amazonaws.com', stackName: 'S', stackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/S/x' },
    ref: (id) => (id === 'Api' ? 'abc123defg' : undefined),
    getAtt: (id, attr) => (id === 'Api' && attr === 'RootResourceId' ? 'root000001' : undefined),
    importValue: (name) => (name === 'Other:Export' ? 'imported' : undefined),
    secretValue: (id, key) => (id === 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf' ? (key ? `json:${key}` : 'secretvalue') : undefined),
  });

  test('Ref, pseudo parameters, parameter defaults, GetAtt (both forms)', () => {
    expect(r.resolve({ Ref: 'Api' })).toBe('abc123defg');
    expect(r.resolve({ Ref: 'AWS::StackName' })).toBe('S');
    expect(r.resolve({ Ref: 'Env' })).toBe('dev');
    expect(r.resolve({ Ref: 'BootstrapVersion' })).toBe('30');
    expect(r.resolve({ 'Fn::GetAtt': ['Api', 'RootResourceId'] })).toBe('root000001');
    expect(r.resolve({ 'Fn::GetAtt': 'Api.RootResourceId' })).toBe('root000001');
    expect(() => r.resolve({ Ref: 'Missing' })).toThrow(UnresolvableError);
  });

  test('Join, Sub (string and map forms, ${!Literal}), Select, Split, FindInMap, GetAZs, ImportValue', () => {
    expect(r.resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Api' }, 'c']] })).toBe('a-abc123defg-c');
    expect(r.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${Api}/${Api.RootResourceId}/${!Keep}' })).toBe('arn:aws:x:us-east-1:abc123defg/root000001/${Keep}');
    expect(r.resolve({ 'Fn::Sub': ['${A}-${B}', { A: 'x', B: { Ref: 'Env' } }] })).toBe('x-dev');
    expect(r.resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] })).toBe('b');
    expect(r.resolve({ 'Fn::FindInMap': ['M', { Ref: 'Env' }, 'size'] })).toBe('small');
    expect(r.resolve({ 'Fn::GetAZs': '' })).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(r.resolve({ 'Fn::ImportValue': 'Other:Export' })).toBe('imported');
    expect(() => r.resolve({ 'Fn::ImportValue': 'Nope' })).toThrow(/Nope/);
  });

  test('Conditions and Fn::If, AWS::NoValue removes the property', () => {
    expect(r.condition('IsProd')).toBe(false);
    expect(r.condition('Both')).toBe(true);
    expect(r.resolve({ A: { 'Fn::If': ['IsProd', 'big', { Ref: 'AWS::NoValue' }] }, B: { 'Fn::If': ['NotProd', 1, 2] } })).toEqual({ B: 1 });
  });

  test('{{resolve:secretsmanager:…}} after Join, whole value and JSON key', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf';
    expect(r.resolve({ 'Fn::Join': ['', ['{{resolve:secretsmanager:', arn, ':SecretString:::}}']] })).toBe('secretvalue');
    expect(r.resolve(`{{resolve:secretsmanager:${arn}:SecretString:apiKey::}}`)).toBe('json:apiKey');
    expect(() => r.resolve('{{resolve:secretsmanager:unknown}}')).toThrow(/unknown/);
    expect(() => r.resolve('{{resolve:ssm:/x}}')).toThrow(/ssm/);
  });
});

describe('secrets', () => {
  test('GenerateSecretString honours length and exclusions', () => {
    for (let i = 0; i < 50; i++) {
      const p = generatePassword({ PasswordLength: 40, ExcludePunctuation: true, ExcludeCharacters: 'abc' });
      expect(p).toMatch(/^[A-Za-z0-9]{40}$/);
      expect(p).not.toMatch(/[abc]/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[0-9]/);
    }
    expect(JSON.parse(generateSecretString({ SecretStringTemplate: '{"user":"u"}', GenerateStringKey: 'password', PasswordLength: 8 }))).toEqual({ user: 'u', password: expect.stringMatching(/^.{8}$/) });
  });
});

describe('quota periods (UTC, with offset)', () => {
  const t = (s: string): number => Date.parse(s);
  test('DAY starts at UTC midnight', () => {
    expect(periodStart(t('2026-11-27T23:59:59Z'), { period: 'DAY', offset: 0 })).toBe(t('2026-11-27T00:00:00Z'));
    expect(nextPeriodStart(t('2026-11-27T10:00:00Z'), { period: 'DAY', offset: 0 })).toBe(t('2026-11-28T00:00:00Z'));
  });
  test('WEEK: offset 0 is Sunday, 1 Monday', () => {
    // 2026-11-27 is a Friday.
    expect(periodStart(t('2026-11-27T12:00:00Z'), { period: 'WEEK', offset: 0 })).toBe(t('2026-11-22T00:00:00Z'));
    expect(periodStart(t('2026-11-27T12:00:00Z'), { period: 'WEEK', offset: 1 })).toBe(t('2026-11-23T00:00:00Z'));
    expect(periodStart(t('2026-11-22T00:00:00Z'), { period: 'WEEK', offset: 0 })).toBe(t('2026-11-22T00:00:00Z'));
  });
  test('MONTH: offset counts days from the 1st, clamped to short months', () => {
    expect(periodStart(t('2026-11-27T12:00:00Z'), { period: 'MONTH', offset: 0 })).toBe(t('2026-11-01T00:00:00Z'));
    expect(periodStart(t('2026-11-27T12:00:00Z'), { period: 'MONTH', offset: 27 })).toBe(t('2026-10-28T00:00:00Z'));
    expect(periodStart(t('2026-11-28T00:00:00Z'), { period: 'MONTH', offset: 27 })).toBe(t('2026-11-28T00:00:00Z'));
    expect(periodStart(t('2027-03-01T00:00:00Z'), { period: 'MONTH', offset: 30 })).toBe(t('2027-02-28T00:00:00Z'));
    expect(nextPeriodStart(t('2026-12-15T00:00:00Z'), { period: 'MONTH', offset: 0 })).toBe(t('2027-01-01T00:00:00Z'));
  });
  test('counter sums the period and reports daily usage with remaining', () => {
    const q = new QuotaCounter();
    const quota = { limit: 10, offset: 0, period: 'WEEK' as const };
    q.count('p', 'k', quota, t('2026-11-23T10:00:00Z'));
    q.count('p', 'k', quota, t('2026-11-24T10:00:00Z'));
    q.count('p', 'k', quota, t('2026-11-24T11:00:00Z'));
    expect(q.used('p', 'k', quota, t('2026-11-24T12:00:00Z'))).toBe(3);
    expect(q.used('p', 'k', quota, t('2026-11-29T00:00:00Z'))).toBe(0);
    expect(q.usage('p', 'k', quota, '2026-11-23', '2026-11-25')).toEqual([[1, 9], [2, 7], [0, 7]]);
  });
});

describe('token buckets', () => {
  test('burst then refill at the rate, all-or-nothing across levels', () => {
    const b = new TokenBucket(2, 3, 0);
    const reg = new ThrottleRegistry();
    let ok = 0;
    for (let i = 0; i < 10; i++) if (ThrottleRegistry.tryTakeAll([b], 0)) ok++;
    expect(ok).toBe(3);
    expect(ThrottleRegistry.tryTakeAll([b], 499)).toBe(false);
    expect(ThrottleRegistry.tryTakeAll([b], 500)).toBe(true);
    const owner = {};
    const big = reg.bucketOf(owner, 'big', { rateLimit: 100, burstLimit: 100 }, 0)!;
    const empty = reg.bucketOf(owner, 'zero', { rateLimit: 0, burstLimit: 0 }, 0)!;
    expect(ThrottleRegistry.tryTakeAll([big, empty], 0)).toBe(false);
    expect(big.level(0)).toBe(100); // nothing taken from the other level
    expect(reg.bucketOf(owner, 'none', undefined, 0)).toBeUndefined();
    expect(reg.peekOf(owner, 'big')).toBe(big);
    expect(reg.peekOf(owner, 'never')).toBeUndefined();
  });
});

describe('VTL mapping templates', () => {
  test('references, #set, #if/#else, method calls, quiet references', () => {
    const out = renderVtl('#set($x = $input.params().header.get("Origin"))\n#if($x == "https://a")\nyes:$x\n#else\nno$!missing\n#end', {
      input: { params: () => ({ header: new Map([['origin', 'https://a'], ['Origin', 'https://a']]) }) },
    });
    expect(out.trim()).toBe('yes:https://a');
    expect(renderVtl('{"id":"$context.requestId","m":$context.error.messageString}', { context: { requestId: 'r1', error: { messageString: '"Forbidden"' } } }))
      .toBe('{"id":"r1","m":"Forbidden"}');
    expect(renderVtl('#foreach($i in [1,2,3])$i#if($foreach.hasNext),#end#end', {})).toBe('1,2,3');
    const ctx = { responseOverride: { header: {} as Record<string, unknown>, status: undefined as unknown } };
    renderVtl('#set($context.responseOverride.status = 418)#set($context.responseOverride.header.X-Y = "z")', { context: ctx });
    expect(ctx.responseOverride).toEqual({ status: 418, header: { 'X-Y': 'z' } });
  });
});

describe('routing', () => {
  test('literal before {param} before {proxy+}', () => {
    const res = (id: string, p: string) => ({ id, pathPart: p.split('/').pop() ?? '', path: p, methods: new Map() });
    const resources = [res('r', '/'), res('a', '/pets'), res('b', '/pets/{id}'), res('c', '/pets/mine'), res('d', '/{proxy+}'), res('e', '/pets/{id}/toys')];
    const api = { resources: new Map(resources.map((r) => [r.id, r])) } as unknown as RestApi;
    const router = new Router(api);
    expect(router.match(['pets', 'mine'])?.resource.id).toBe('c');
    expect(router.match(['pets', '7'])).toEqual({ resource: expect.objectContaining({ id: 'b' }), pathParams: { id: '7' } });
    expect(router.match(['pets', '7', 'toys'])?.resource.id).toBe('e');
    expect(router.match(['pets', '7', 'other'])).toEqual({ resource: expect.objectContaining({ id: 'd' }), pathParams: { proxy: 'pets/7/other' } });
    expect(router.match([])?.resource.id).toBe('r');
  });
});
