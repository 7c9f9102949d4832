/**
 * The metric filters and Contributor Insights rules that keygate puts on a stage's access log,
 * applied with CloudWatch Logs' JSON matching semantics (test/support/cloudwatch-logs-matching)
 * to real access-log lines: the ones the local gateway writes, in the stage's own format, for
 * requests to the pet-store example.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { PartnerApiStack } from '../examples/partner-api/partner-api-stack';
import { PetStoreStack } from '../examples/pet-store/pet-store-stack';
import { RejectionReason } from '../lib';
import { LocalGateway, startLocalGateway } from '../lib/local';
import { insightRuleContributor, InsightRuleBody, matchesFilterPattern } from './support/cloudwatch-logs-matching';
import { tmpDir } from './local/fixtures';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

interface Sent { readonly requestId: string; readonly status: number; readonly message: string; readonly keyId?: string }
interface CfnResource { readonly Type: string; readonly Properties: Record<string, unknown> }

/** What API Gateway's gateway responses say, mapped to keygate's metric names. */
const REASON_BY_RESPONSE: Record<string, string> = {
  '403 Forbidden': 'InvalidApiKey',
  '403 Missing Authentication Token': 'MissingAuthenticationToken',
  '429 Too Many Requests': 'Throttled',
  '429 Limit Exceeded': 'QuotaExceeded',
};

describe('access-log metric filters and Contributor Insights rules on real access-log lines', () => {
  let resources: CfnResource[];
  let gw: LocalGateway;
  const lines: string[] = [];
  const sent: Sent[] = [];
  let now = Date.UTC(2026, 10, 27, 12, 0, 0);

  beforeAll(async () => {
    // GIVEN the pet-store example, synthesized, served by the local gateway with its access log.
    const outdir = tmpDir('insights');
    const app = new App({ outdir });
    new PetStoreStack(app, 'KeygatePetStore');
    app.synth();
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'KeygatePetStore.template.json'), 'utf8')) as { Resources: Record<string, CfnResource> };
    resources = Object.values(template.Resources);
    gw = await startLocalGateway({ assemblyDir: outdir, port: 0, clock: () => now, log: () => undefined, accessLog: (line) => lines.push(line) });

    // WHEN clients call it: good keys, a wrong key, an unknown route, a burst past the Free
    // throttle, then the Free quota used up.
    const base = gw.info.apis[0].stages[0].url;
    const keyOf = (plan: string) => {
      const planId = [...gw.model.plans.values()].find((p) => p.name === plan)!.id;
      return gw.model.keys.get([...gw.model.planKeys.get(planId)!][0])!;
    };
    const call = async (route: string, key?: { value: string; id: string }) => {
      const r = await fetch(`${base}${route}`, { headers: key ? { 'x-api-key': key.value } : {} });
      const body = await r.json() as { message?: string };
      sent.push({ requestId: r.headers.get('x-amzn-requestid')!, status: r.status, message: body.message ?? '', keyId: key?.id });
    };
    const free = keyOf('Free');
    const premium = keyOf('Premium');
    for (let i = 0; i < 3; i++) await call('/pets/types', premium);
    await call('/pets/types', { value: 'WrongKeyWrongKeyWrongKey0123456789', id: '-' });
    await call('/pets', undefined);
    await call('/no-such-route', premium);
    for (let i = 0; i < 4; i++) await call('/pets/types', free); // burst 2, then 429 THROTTLED
    const quota = [...gw.model.plans.values()].find((p) => p.name === 'Free')!.quota!.limit;
    for (let i = 0; i <= quota && sent[sent.length - 1].message !== 'Limit Exceeded'; i++) {
      now += 1000; // a token a second: never throttled, until the quota is used up (429 QUOTA_EXCEEDED)
      await call('/pets/types', free);
    }
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
  });

  const lineOf = (requestId: string): string => {
    const line = lines.find((l) => l.includes(`"requestId":"${requestId}"`));
    if (!line) throw new Error(`no access-log line for request ${requestId}`);
    return line;
  };
  const filters = () => resources.filter((r) => r.Type === 'AWS::Logs::MetricFilter').map((r) => ({
    metricName: (r.Properties.MetricTransformations as Array<{ MetricName: string }>)[0].MetricName,
    pattern: r.Properties.FilterPattern as string,
  }));
  const rule = (suffix: string): InsightRuleBody => {
    const insightRule = resources.find((r) => r.Type === 'AWS::CloudWatch::InsightRule' && String(r.Properties.RuleName).includes(`-TopKeysBy${suffix}-`))!;
    // RuleBody is a Fn::Join around the log group's Ref: the Ref becomes a name here.
    const join = (insightRule.Properties.RuleBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    return JSON.parse(join.map((part) => (typeof part === 'string' ? part : 'access-log-group')).join('')) as InsightRuleBody;
  };

  test('every request wrote one line, and every line is JSON', () => {
    expect(sent.length).toBeGreaterThan(100);
    expect(lines).toHaveLength(sent.length);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(sent.filter((s) => s.status === 429).map((s) => s.message).sort()).toEqual(['Limit Exceeded', 'Too Many Requests', 'Too Many Requests']);
  });

  test('each rejection is counted by exactly the metric filter of its reason; successful requests by none', () => {
    const patterns = filters();
    expect(patterns.map((f) => f.metricName).sort()).toEqual(['Authorizer', 'InvalidApiKey', 'MissingAuthenticationToken', 'QuotaExceeded', 'Throttled']);
    const counted: Record<string, number> = {};
    for (const request of sent) {
      const matched = patterns.filter((f) => matchesFilterPattern(f.pattern, lineOf(request.requestId))).map((f) => f.metricName);
      const expected = REASON_BY_RESPONSE[`${request.status} ${request.message}`];
      expect({ request: `${request.status} ${request.message}`, matched }).toEqual({ request: `${request.status} ${request.message}`, matched: expected ? [expected] : [] });
      for (const name of matched) counted[name] = (counted[name] ?? 0) + 1;
    }
    expect(counted).toEqual({ InvalidApiKey: 2, MissingAuthenticationToken: 1, Throttled: 2, QuotaExceeded: 1 });
  });

  test('the metric filters take the ApiId and Stage dimensions from the line', () => {
    const line = JSON.parse(lineOf(sent[0].requestId)) as Record<string, string>;
    expect(line.apiId).toBe(gw.info.apis[0].id);
    expect(line.stage).toBe('prod');
    for (const r of resources.filter((x) => x.Type === 'AWS::Logs::MetricFilter')) {
      expect((r.Properties.MetricTransformations as Array<{ Dimensions: unknown }>)[0].Dimensions).toEqual([
        { Key: 'ApiId', Value: '$.apiId' }, { Key: 'Stage', Value: '$.stage' },
      ]);
    }
  });

  test('the Contributor Insights rules rank keys by requests, by 429 and by 403 (then by source IP)', () => {
    const tally = (body: InsightRuleBody) => {
      const counts: Record<string, number> = {};
      for (const line of lines) {
        const contributor = insightRuleContributor(body, line);
        if (contributor !== undefined) counts[contributor] = (counts[contributor] ?? 0) + 1;
      }
      return counts;
    };
    const free = sent.find((s) => s.status === 429)!.keyId!;
    const premium = sent[0].keyId!;
    const keyed = (keyId: string) => sent.filter((s) => s.keyId === keyId && s.status !== 403).length;

    // Requests: only lines with a known key count, each for its key (the unknown route has no key check).
    expect(tally(rule('Requests'))).toEqual({ [free]: keyed(free), [premium]: keyed(premium) });
    expect(tally(rule('TooManyRequests'))).toEqual({ [free]: 3 });
    // A missing or wrong key has no key id: the source IP tells the callers apart.
    expect(tally(rule('Forbidden'))).toEqual({ '-|127.0.0.1': 3 });
  });
});

describe('the authorizer reason on real access-log lines of the partner-api example (Lambda request authorizer)', () => {
  let gw: LocalGateway;
  const lines: string[] = [];

  beforeAll(async () => {
    // GIVEN the partner-api example, whose authorizer denies a malformed Authorization header.
    const outdir = tmpDir('insights-partner');
    const app = new App({ outdir });
    new PartnerApiStack(app, 'KeygatePartnerApi');
    app.synth();
    gw = await startLocalGateway({ assemblyDir: outdir, port: 0, log: () => undefined, accessLog: (line) => lines.push(line) });
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
  });

  test('denied or unauthorized by the authorizer counts as Authorizer; a key the authorizer passes but API Gateway doesn\'t know counts as InvalidApiKey', async () => {
    // WHEN
    const base = gw.info.apis[0].stages.find((s) => s.name === 'prod')!.url;
    const statuses: number[] = [];
    for (const authorization of [undefined, 'Bogus', 'Key WrongKeyWrongKeyWrongKey0123456789']) {
      const r = await fetch(`${base}/orders`, { headers: authorization ? { authorization } : {} });
      await r.text();
      statuses.push(r.status);
    }

    // THEN
    expect(statuses).toEqual([401, 403, 403]);
    expect(lines.map((line) => (JSON.parse(line) as { errorResponseType: string }).errorResponseType)).toEqual(['UNAUTHORIZED', 'ACCESS_DENIED', 'INVALID_API_KEY']);
    const reasonsOf = (line: string) => RejectionReason.all().filter((reason) => matchesFilterPattern(reason.filterPattern().logPatternString, line)).map((r) => r.metricName);
    expect(lines.map(reasonsOf)).toEqual([['Authorizer'], ['Authorizer'], ['InvalidApiKey']]);
  });
});
