import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { KeygateDashboard, TopKeysBy } from '../lib';
import { insightRuleBody } from '../lib/monitoring/access-log-insights';
import { QUOTA_WARNINGS_CONSTRUCT_ID } from '../lib/shared/quota-metrics';
import { smallApi } from './support/keygate-fixtures';

interface Widget { type: string; properties: Record<string, unknown> & { title?: string; metrics?: unknown[][]; insightRule?: { ruleName: string; maxContributorCount: number; orderBy: string } } }

/** The dashboard body with each Ref written as `<LogicalId>` and each GetAtt as `<LogicalId.Attr>`. */
function dashboardWidgets(template: Template): Widget[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0].Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => {
    if (typeof part === 'string') return part;
    const ref = (part as { Ref?: string }).Ref;
    if (ref) return `<${ref}>`;
    const [id, attr] = (part as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
    return `<${id}.${attr}>`;
  }).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

const logicalId = (template: Template, type: string, pathPart: string): string => {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.includes(pathPart));
  expect(ids).toHaveLength(1);
  return ids[0];
};

describe('KeygateDashboard', () => {
  test('per stage: requests, 4XX and 5XX; latency p50, p90, p99 (AWS/ApiGateway, ApiName and Stage)', () => {
    // GIVEN
    const { stack, api } = smallApi({ restApiName: 'pets' });
    api.addStage('staging');

    // WHEN
    api.addDashboard();

    // THEN
    const template = Template.fromStack(stack);
    const widgets = dashboardWidgets(template);
    for (const [stage, stageRef] of [['prod', `<${logicalId(template, 'AWS::ApiGateway::Stage', 'Deployment')}>`], ['staging', `<${logicalId(template, 'AWS::ApiGateway::Stage', 'StageStaging')}>`]]) {
      const traffic = widgets.find((w) => w.properties.title === `${stage}: requests, 4XX and 5XX`)!;
      expect(traffic.properties.metrics!.map((m) => m.slice(0, 6))).toEqual(['Count', '4XXError', '5XXError'].map((name) => (
        ['AWS/ApiGateway', name, 'ApiName', 'pets', 'Stage', stageRef])));
      const latency = widgets.find((w) => w.properties.title === `${stage}: latency`)!;
      expect(latency.properties.metrics!.map((m) => [m[1], (m[6] as { stat: string }).stat])).toEqual([['Latency', 'p50'], ['Latency', 'p90'], ['Latency', 'p99']]);
    }
  });

  test('403 and 429 by reason, from the metric filters on the stage\'s access log (ApiId and Stage dimensions)', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addDashboard();

    // THEN
    const template = Template.fromStack(stack);
    const widgets = dashboardWidgets(template);
    const apiRef = `<${logicalId(template, 'AWS::ApiGateway::RestApi', 'Api')}>`;
    const stageRef = `<${logicalId(template, 'AWS::ApiGateway::Stage', 'Deployment')}>`;
    const reasons = (title: string) => widgets.find((w) => w.properties.title === title)!.properties.metrics!.map((m) => m.slice(0, 6));
    expect(reasons('prod: 401/403 by reason')).toEqual(['InvalidApiKey', 'MissingAuthenticationToken', 'Authorizer'].map((name) => (
      ['Keygate/AccessLog', name, 'ApiId', apiRef, 'Stage', stageRef])));
    expect(reasons('prod: 429 by reason')).toEqual(['Throttled', 'QuotaExceeded'].map((name) => ['Keygate/AccessLog', name, 'ApiId', apiRef, 'Stage', stageRef]));
    const logGroup = logicalId(template, 'AWS::Logs::LogGroup', 'AccessLogs');
    template.resourceCountIs('AWS::Logs::MetricFilter', 5);
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logGroup },
      FilterPattern: '{ $.errorResponseType = "THROTTLED" }',
      MetricTransformations: [{ MetricNamespace: 'Keygate/AccessLog', MetricName: 'Throttled', MetricValue: '1', Dimensions: [{ Key: 'ApiId', Value: '$.apiId' }, { Key: 'Stage', Value: '$.stage' }] }],
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.errorResponseType = "QUOTA_EXCEEDED" }',
      MetricTransformations: [{ MetricName: 'QuotaExceeded' }],
    });
  });

  test('top keys by requests, by 429 and by 403: insight-rule widgets of valid Contributor Insights rules on the access log', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addDashboard({ topKeys: 5 });

    // THEN
    const template = Template.fromStack(stack);
    const rules = template.findResources('AWS::CloudWatch::InsightRule');
    expect(Object.keys(rules)).toHaveLength(3);
    const logGroup = logicalId(template, 'AWS::Logs::LogGroup', 'AccessLogs');
    const insightWidgets = dashboardWidgets(template).filter((w) => w.properties.insightRule);
    expect(insightWidgets.map((w) => w.properties.title)).toEqual(['prod: top keys by requests', 'prod: top keys by 429 (throttled or over quota)', 'prod: top keys and source ips by 403']);
    for (const [index, by] of TopKeysBy.all().entries()) {
      const [, rule] = Object.entries(rules).find(([id]) => id.includes(`TopKeysBy${by.id}`))!;
      expect(insightWidgets[index].properties.insightRule).toEqual({ ruleName: rule.Properties.RuleName, maxContributorCount: 5, orderBy: 'Sum' });
      expect(rule.Properties.RuleState).toBe('ENABLED');
      const join = (rule.Properties.RuleBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      expect(join.filter((part) => typeof part !== 'string')).toEqual([{ Ref: logGroup }]);
      const body = JSON.parse(join.map((part) => (typeof part === 'string' ? part : 'LOG_GROUP')).join(''));
      expect(body).toEqual(insightRuleBody('LOG_GROUP', by));
      expect(body).toMatchObject({ Schema: { Name: 'CloudWatchLogRule', Version: 1 }, LogFormat: 'JSON', AggregateOn: 'Count', LogGroupNames: ['LOG_GROUP'] });
      expect(body.Contribution.Keys[0]).toBe('$.apiKeyId');
    }
  });

  test('per-key quota usage appears once the quota-warning job exists, whichever is added first', () => {
    // GIVEN
    const without = smallApi();
    without.api.addDashboard();
    const withJob = smallApi();

    // WHEN: the dashboard first, the job (here a stand-in with its construct id) after.
    withJob.api.addDashboard();
    new Construct(withJob.api, QUOTA_WARNINGS_CONSTRUCT_ID);

    // THEN
    const quotaWidgets = (stack: typeof without.stack) => dashboardWidgets(Template.fromStack(stack)).filter((w) => w.properties.title === 'Quota used per key (%)');
    expect(quotaWidgets(without.stack)).toEqual([]);
    const [widget] = quotaWidgets(withJob.stack);
    const apiRef = `<${logicalId(Template.fromStack(withJob.stack), 'AWS::ApiGateway::RestApi', 'Api')}>`;
    expect(widget.properties.metrics).toEqual([[{
      expression: `SEARCH('{Keygate/Quota,ApiId,UsagePlanId,ApiKeyId} MetricName="QuotaUsedPercent" ApiId="${apiRef}"', 'Maximum', 300)`,
    }]]);
  });

  test('a stage without access log gets traffic and latency only, and no insight rules', () => {
    // GIVEN
    const { stack, api } = smallApi({ stage: { accessLogging: false } });

    // WHEN
    api.addDashboard();

    // THEN
    const template = Template.fromStack(stack);
    const titles = dashboardWidgets(template).map((w) => w.properties.title ?? w.properties.markdown);
    expect(titles).toEqual(['## Stage prod', 'prod: requests, 4XX and 5XX', 'prod: latency',
      'Stage prod has no access log (accessLogging: false): no rejections by reason, no top keys.']);
    template.resourceCountIs('AWS::CloudWatch::InsightRule', 0);
    template.resourceCountIs('AWS::Logs::MetricFilter', 0);
  });

  test('the dashboard name derives from the construct path, not from the order of calls; it can be set', () => {
    const first = smallApi();
    first.api.addDashboard();
    Template.fromStack(first.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Stack-Api-Dashboard-987C07BC' });
    const reordered = smallApi();
    reordered.api.addAlarms();
    reordered.api.addStage('staging');
    reordered.api.addDashboard();
    Template.fromStack(reordered.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Stack-Api-Dashboard-987C07BC' });
    const named = smallApi();
    new KeygateDashboard(named.stack, 'Ops', { api: named.api, dashboardName: 'pets-ops' });
    Template.fromStack(named.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'pets-ops' });
  });

  test('topKeys outside 1..100 fails synth, naming the construct', () => {
    const { api } = smallApi();
    expect(() => api.addDashboard({ topKeys: 0 })).toThrow(/\[Stack\/Api\/Dashboard\] topKeys: must be an integer from 1 to 100 \(got 0\)/);
  });

  test.each(['Dashboard', 'Alarms', 'AuditTrail'] as const)('add%s a second time fails, naming the API', (part) => {
    const { api } = smallApi();
    api[`add${part}`]();
    expect(() => api[`add${part}`]()).toThrow(new RegExp(`\\[Stack/Api\\] add${part}: an API has one; it was added already`));
  });
});
