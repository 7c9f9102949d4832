import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { QuotaWarnings } from '../lib';
import { smallApi } from './support/keygate-fixtures';

const QUOTA = { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: apigw.Period.MONTH } };

describe('quota warnings', () => {
  test('a job publishes per key and tier every 15 minutes; an alarm per default threshold (80 %, 100 %) notifies a topic', () => {
    // GIVEN
    const { stack, api } = smallApi({}, QUOTA);

    // WHEN
    const warnings = api.addQuotaWarnings();
    api.addTier('Premium', QUOTA); // added later: watched too

    // THEN
    expect(warnings.node.path).toBe('Stack/Api/QuotaWarnings');
    expect(warnings).toBeInstanceOf(QuotaWarnings);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({
        Input: {
          'Fn::Join': ['', ['{"apiId":"', { Ref: Match.stringLikeRegexp('^Api[0-9A-F]{8}$') }, '","usagePlanIds":["',
            { Ref: Match.stringLikeRegexp('^ApiBasic') }, '","', { Ref: Match.stringLikeRegexp('^ApiPremium') }, '"]}']],
        },
      })],
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    for (const threshold of [80, 100]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'ignore',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^ApiAlertTopic') }],
        Metrics: [Match.objectLike({
          Expression: {
            'Fn::Join': ['', [
              'SELECT MAX(QuotaUsedPercent) FROM SCHEMA("Keygate/Quota", ApiId, UsagePlanId, ApiKeyId) WHERE ApiId = \'',
              { Ref: Match.stringLikeRegexp('^Api[0-9A-F]{8}$') },
              '\' GROUP BY UsagePlanId, ApiKeyId ORDER BY MAX() DESC LIMIT 500',
            ]],
          },
          Period: 900,
        })],
      });
    }
    // CloudWatch publishes to the topic: its key lets CloudWatch use it.
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    // The job reads the plans of this API's tiers and writes only its own namespace.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'Keygate/Quota' } } }),
        ]),
      },
    });
    Annotations.fromStack(stack).hasNoWarning('/Stack/Api/QuotaWarnings/*', Match.anyValue());
  });

  test('thresholds, schedule and topic of your own', () => {
    // GIVEN
    const { stack, api } = smallApi({}, QUOTA);
    const topic = new sns.Topic(stack, 'Owner');

    // WHEN
    const warnings = api.addQuotaWarnings({ thresholds: [50, 90], schedule: Duration.minutes(5), topic });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 50, AlarmActions: [{ Ref: Match.stringLikeRegexp('^Owner') }] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 90, Metrics: [Match.objectLike({ Period: 300 })] });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(Object.keys(warnings.alarms)).toEqual(['50', '90']);
  });
});

describe('quota warnings: bad input fails synth naming path, property and value', () => {
  test('a threshold above 100 %', () => {
    const { api } = smallApi({}, QUOTA);
    expect(() => api.addQuotaWarnings({ thresholds: [80, 120] }))
      .toThrow(/\[Stack\/Api\/QuotaWarnings\] thresholds: each threshold is a percentage above 0 and at most 100 \(got 120\)/);
  });

  test('no threshold', () => {
    const { api } = smallApi({}, QUOTA);
    expect(() => api.addQuotaWarnings({ thresholds: [] })).toThrow(/\[Stack\/Api\/QuotaWarnings\] thresholds: needs at least one threshold \(got \[\]\)/);
  });

  test('a threshold twice', () => {
    const { api } = smallApi({}, QUOTA);
    expect(() => api.addQuotaWarnings({ thresholds: [80, 80] })).toThrow(/\[Stack\/Api\/QuotaWarnings\] thresholds: lists a threshold twice \(got \[80, 80\]\)/);
  });

  test('a schedule longer than the 3 hours a Metrics Insights alarm looks back', () => {
    const { api } = smallApi({}, QUOTA);
    expect(() => api.addQuotaWarnings({ schedule: Duration.hours(4) }))
      .toThrow(/\[Stack\/Api\/QuotaWarnings\] schedule: must be whole minutes from 1 minute to 3 hours \(got "4 hours"\)/);
  });
});
