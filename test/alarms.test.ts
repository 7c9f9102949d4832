import * as sns from 'aws-cdk-lib/aws-sns';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AlarmThreshold } from '../lib';
import { smallApi } from './support/keygate-fixtures';

const alarmNames = (template: Template): string[] => Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName as string).sort();

describe('KeygateAlarms', () => {
  test('per stage: 5XX rate, 429 rate and dominant key, each notifying the alert topic when it fires and clears', () => {
    // GIVEN
    const { stack, api } = smallApi();
    api.addStage('staging');

    // WHEN
    api.addAlarms();

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    expect(alarmNames(template)).toEqual([
      'Stack-Api-Alarms-ProdDominantKeyShare-F1AE3FF5', 'Stack-Api-Alarms-ProdServerErrorRate-DDC11231', 'Stack-Api-Alarms-ProdTooManyRequestsRate-FBB89647',
      'Stack-Api-Alarms-StagingDominantKeyShare-8939B24B', 'Stack-Api-Alarms-StagingServerErrorRate-029DA651', 'Stack-Api-Alarms-StagingTooManyRequestsRate-78C7E45A',
    ]);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topic }]);
      expect(alarm.Properties).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching' });
    }
  });

  test('the 5XX rate divides AWS/ApiGateway 5XXError by Count, from 20 requests a period', () => {
    const { stack, api } = smallApi();
    api.addAlarms();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('ProdServerErrorRate'),
      Threshold: 5,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests >= 20, 100 * (FILL(errors, 0)) / requests, 0)', ReturnData: true }),
        Match.objectLike({ Id: 'errors', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/ApiGateway', MetricName: '5XXError' }), Stat: 'Sum', Period: 300 }) }),
        Match.objectLike({ Id: 'requests', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/ApiGateway', MetricName: 'Count' }) }) }),
      ]),
    });
  });

  test('the 429 rate adds the Throttled and QuotaExceeded metric-filter counts', () => {
    const { stack, api } = smallApi();
    api.addAlarms();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('ProdTooManyRequestsRate'),
      Threshold: 10,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests >= 20, 100 * (FILL(throttled, 0) + FILL(overQuota, 0)) / requests, 0)' }),
        Match.objectLike({ Id: 'throttled', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'Keygate/AccessLog', MetricName: 'Throttled' }) }) }),
        Match.objectLike({ Id: 'overQuota', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'Keygate/AccessLog', MetricName: 'QuotaExceeded' }) }) }),
      ]),
    });
  });

  test('the dominant-key share reads the requests rule\'s top contributor over its sample count, with two keys or more', () => {
    const { stack, api } = smallApi();
    api.addAlarms();
    const template = Template.fromStack(stack);
    const [ruleId, rule] = Object.entries(template.findResources('AWS::CloudWatch::InsightRule')).find(([id]) => id.includes('TopKeysByRequests'))!;
    const name = rule.Properties.RuleName as string;
    template.hasResource('AWS::CloudWatch::Alarm', {
      DependsOn: [ruleId],
      Properties: Match.objectLike({
        Threshold: 80,
        Metrics: [
          Match.objectLike({ Expression: 'IF(keys >= 2, IF(keyed >= 100, 100 * busiest / keyed, 0), 0)', ReturnData: true }),
          { Id: 'busiest', Expression: `INSIGHT_RULE_METRIC('${name}', 'MaxContributorValue')`, Period: 300, ReturnData: false },
          { Id: 'keyed', Expression: `INSIGHT_RULE_METRIC('${name}', 'SampleCount')`, Period: 300, ReturnData: false },
          { Id: 'keys', Expression: `INSIGHT_RULE_METRIC('${name}', 'UniqueContributors')`, Period: 300, ReturnData: false },
        ],
      }),
    });
  });

  test('each alarm can be overridden or switched off', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addAlarms({
      serverErrorRate: AlarmThreshold.percent(1, { evaluationPeriods: 5, datapointsToAlarm: 5, period: Duration.minutes(1), minimumRequests: 50 }),
      tooManyRequestsRate: AlarmThreshold.off(),
      dominantKeyShare: AlarmThreshold.off(),
    });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1, EvaluationPeriods: 5, DatapointsToAlarm: 5,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(requests >= 50, 100 * (FILL(errors, 0)) / requests, 0)' }),
        Match.objectLike({ Id: 'requests', MetricStat: Match.objectLike({ Period: 60 }) })]),
    });
  });

  test('a topic of your own replaces the alert topic', () => {
    const { stack, api } = smallApi();
    const mine = new sns.Topic(stack, 'Mine', { enforceSSL: true });
    api.addAlarms({ serverErrorRate: AlarmThreshold.percent(5), tooManyRequestsRate: AlarmThreshold.off(), dominantKeyShare: AlarmThreshold.off(), topic: mine });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('^Mine') }] });
  });

  test('a stage without access log gets the 5XX alarm only', () => {
    const { stack, api } = smallApi({ stage: { accessLogging: false } });
    api.addAlarms();
    const template = Template.fromStack(stack);
    expect(alarmNames(template)).toEqual(['Stack-Api-Alarms-ProdServerErrorRate-DDC11231']);
    template.resourceCountIs('AWS::CloudWatch::InsightRule', 0);
  });

  test('alarm and rule names derive from construct paths, not from the order of calls', () => {
    const first = smallApi();
    first.api.addAlarms();
    const second = smallApi();
    second.api.addDashboard();
    second.api.addAuditTrail();
    second.api.addAlarms();
    const rules = (template: Template) => Object.values(template.findResources('AWS::CloudWatch::InsightRule')).map((r) => r.Properties.RuleName).sort();
    expect(alarmNames(Template.fromStack(second.stack))).toEqual(alarmNames(Template.fromStack(first.stack)));
    expect(rules(Template.fromStack(second.stack))).toEqual(rules(Template.fromStack(first.stack)));
  });

  test('the alert topic is encrypted with a rotated key that CloudWatch and EventBridge may use, and refuses plain HTTP', () => {
    const { stack, api } = smallApi();
    api.addAlarms();
    const template = Template.fromStack(stack);
    const key = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith(['cloudwatch.amazonaws.com', 'events.amazonaws.com'].map((service) => Match.objectLike({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow', Principal: { Service: service },
      }))) },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test.each([
    [() => AlarmThreshold.percent(0), /\[Stack\/Api\/Alarms\] ServerErrorRate: the percentage must be above 0 and at most 100 \(got 0\)/],
    [() => AlarmThreshold.percent(101), /ServerErrorRate: the percentage must be above 0 and at most 100 \(got 101\)/],
    [() => AlarmThreshold.percent(5, { evaluationPeriods: 2, datapointsToAlarm: 3 }), /ServerErrorRate\.datapointsToAlarm: must be an integer from 1 to evaluationPeriods \(2\) \(got 3\)/],
    [() => AlarmThreshold.percent(5, { evaluationPeriods: 0 }), /ServerErrorRate\.evaluationPeriods: must be a positive integer \(got 0\)/],
    [() => AlarmThreshold.percent(5, { minimumRequests: -1 }), /ServerErrorRate\.minimumRequests: must be a non-negative integer \(got -1\)/],
  ])('a bad threshold fails synth with the construct, property and value (%#)', (threshold, message) => {
    const { api } = smallApi();
    expect(() => api.addAlarms({ serverErrorRate: threshold() })).toThrow(message);
  });
});
