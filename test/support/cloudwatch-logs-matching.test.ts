import { insightRuleContributor, InsightRuleBody, matchesFilterPattern, parseFilterPattern } from './cloudwatch-logs-matching';

// The JSON event of the CloudWatch Logs documentation's filter-pattern examples.
const EVENT = JSON.stringify({
  eventType: 'UpdateTrail',
  sourceIPAddress: '123.123.123.123',
  arrayKey: ['value', 'another value'],
  objectList: [{ name: 'a', id: 1 }, { name: 'b', id: 2 }],
  SomeObject: null,
  ThisFlag: true,
  user: { id: 2, email: 'John.Doe@example.com' },
  latency: 750,
  status: '429',
});

describe('JSON metric filter patterns', () => {
  test.each([
    ['{ $.eventType = "UpdateTrail" }', true],
    ['{ $.eventType = "Update*" }', true],
    ['{ $.eventType = "*Trail" }', true],
    ['{ $.eventType = "Delete*" }', false],
    ['{ $.eventType != "UpdateTrail" }', false],
    ['{ $.sourceIPAddress != 123.123.* }', false],
    ['{ $.sourceIPAddress != 124.* }', true],
    ['{ $.arrayKey[0] = "value" }', true],
    ['{ $.objectList[1].id = 2 }', true],
    ['{ $.objectList[1].id = 1 }', false],
    ['{ $.SomeObject = NULL }', true],
    ['{ $.ThisFlag = true }', true],
    ['{ $.ThisFlag = false }', false],
    ['{ $.latency > 500 }', true],
    ['{ $.latency <= 500 }', false],
    ['{ $.latency >= 750 && $.latency < 751 }', true],
    ['{ ($.user.id = 2 && $.user.email = "John.Doe@example.com") || $.arrayKey[2] = "GET" }', true],
    ['{ ($.user.id = 3 && $.user.email = "John.Doe@example.com") || $.arrayKey[2] = "GET" }', false],
    ['{ $.user.id = 3 || $.user.id = 2 && $.eventType = "UpdateTrail" }', true],
    ['{ ($.status = "403") || ($.status = "429") }', true],
  ])('%s matches the documentation event: %s', (pattern, expected) => {
    expect(matchesFilterPattern(pattern, EVENT)).toBe(expected);
  });

  test('strings and numbers do not compare with each other, and missing fields match nothing', () => {
    expect(matchesFilterPattern('{ $.status = 429 }', EVENT)).toBe(false);
    expect(matchesFilterPattern('{ $.latency = "750" }', EVENT)).toBe(false);
    expect(matchesFilterPattern('{ $.nothing != "x" }', EVENT)).toBe(false);
  });

  test('a line that is not JSON matches no JSON pattern', () => {
    expect(matchesFilterPattern('{ $.status = "429" }', '{"status":"429","errorMessage":-}')).toBe(false);
  });

  test('patterns outside the grammar are refused, not guessed', () => {
    expect(() => parseFilterPattern('$.status = "429"')).toThrow(/not a JSON filter pattern/);
    expect(() => parseFilterPattern('{ $.status ~ "429" }')).toThrow(/cannot read|unknown operator/);
    expect(() => parseFilterPattern('{ ($.status = "429" }')).toThrow(/expected \)|unexpected end/);
    expect(() => parseFilterPattern('{ status = "429" }')).toThrow(/bad selector status/);
  });
});

describe('Contributor Insights rules on JSON logs', () => {
  const rule = (filters: Array<Record<string, unknown>>, keys = ['$.user.email']): InsightRuleBody => ({
    Schema: { Name: 'CloudWatchLogRule', Version: 1 }, LogGroupNames: ['g'], LogFormat: 'JSON',
    Contribution: { Keys: keys, Filters: filters }, AggregateOn: 'Count',
  });

  test('keys name the contributor; every filter must pass', () => {
    expect(insightRuleContributor(rule([]), EVENT)).toBe('John.Doe@example.com');
    expect(insightRuleContributor(rule([], ['$.user.email', '$.sourceIPAddress']), EVENT)).toBe('John.Doe@example.com|123.123.123.123');
    expect(insightRuleContributor(rule([{ Match: '$.status', In: ['429'] }]), EVENT)).toBe('John.Doe@example.com');
    expect(insightRuleContributor(rule([{ Match: '$.status', In: [429] }]), EVENT)).toBeUndefined();
    expect(insightRuleContributor(rule([{ Match: '$.status', NotIn: ['429'] }]), EVENT)).toBeUndefined();
    expect(insightRuleContributor(rule([{ Match: '$.eventType', StartsWith: ['Update'] }, { Match: '$.latency', GreaterThan: 700 }]), EVENT)).toBe('John.Doe@example.com');
    expect(insightRuleContributor(rule([{ Match: '$.latency', LessThan: 700 }]), EVENT)).toBeUndefined();
    expect(insightRuleContributor(rule([{ Match: '$.nothing', IsPresent: false }]), EVENT)).toBe('John.Doe@example.com');
  });

  test('a line without the key, or not JSON, counts for nobody', () => {
    expect(insightRuleContributor(rule([], ['$.nobody']), EVENT)).toBeUndefined();
    expect(insightRuleContributor(rule([]), 'not json')).toBeUndefined();
  });

  test('a rule of another schema is refused', () => {
    expect(() => insightRuleContributor({ ...rule([]), Schema: { Name: 'ServiceLogRule', Version: 1 } }, EVENT)).toThrow(/not a JSON CloudWatchLogRule v1/);
  });
});
