import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { smallApi } from './support/keygate-fixtures';

describe('key hygiene', () => {
  test('a daily job disables unused keys of the API\'s tiers, leaving stack-owned keys alone by default', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    const hygiene = api.addKeyHygiene({ disableUnusedAfter: Duration.days(90) });

    // THEN
    expect(hygiene.node.path).toBe('Stack/Api/KeyHygiene');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [Match.objectLike({
        Input: { 'Fn::Join': ['', ['{"usagePlanIds":["', { Ref: Match.stringLikeRegexp('^ApiBasic') }, '"],"days":90,"includeManagedKeys":false}']] },
      })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { TOPIC_ARN: { Ref: Match.stringLikeRegexp('^ApiAlertTopic') } } } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'apigateway:PATCH', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:eu-west-1::/apikeys/*']] } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'apigateway:GET', Resource: Match.arrayWith([{ 'Fn::Join': ['', Match.arrayWith([{ Ref: Match.stringLikeRegexp('^ApiBasic') }, '/usage'])] }]) }),
        ]),
      },
    });
  });

  test('includeStackManagedKeys and a schedule', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addKeyHygiene({ disableUnusedAfter: Duration.days(30), includeStackManagedKeys: true, schedule: Duration.hours(6) });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({ Input: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('"days":30,"includeManagedKeys":true')])] } })],
    });
  });
});

describe('key hygiene: bad input fails synth naming path, property and value', () => {
  test('a window that is not whole days', () => {
    const { api } = smallApi();
    expect(() => api.addKeyHygiene({ disableUnusedAfter: Duration.hours(36) }))
      .toThrow(/\[Stack\/Api\/KeyHygiene\] disableUnusedAfter: must be a whole number of days, at least 1 \(got "1 day 12 hours"\)/);
  });

  test('a schedule under an hour', () => {
    const { api } = smallApi();
    expect(() => api.addKeyHygiene({ disableUnusedAfter: Duration.days(90), schedule: Duration.minutes(5) }))
      .toThrow(/\[Stack\/Api\/KeyHygiene\] schedule: must be whole minutes from 1 hour to 7 days \(got "5 minutes"\)/);
  });
});
