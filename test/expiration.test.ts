import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Expiration, KeyExpiry } from '../lib';
import { smallApi } from './support/keygate-fixtures';

const FUTURE = new Date('2099-01-31T00:00:00Z');
const PAST = new Date('2020-01-31T00:00:00Z');

describe('expiring clients', () => {
  test('Expiration.after tags the key with its lifetime in seconds and puts it under the stack\'s expiry job', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('trial', { tiers: [tier], expires: Expiration.after(Duration.days(14)) });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Name: 'trial',
      Enabled: true,
      Tags: Match.arrayWith([{ Key: 'keygate:expires-after-seconds', Value: '1209600' }]),
    });
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Environment: { Variables: { TOPIC_ARN: { Ref: Match.stringLikeRegexp('^ApiAlertTopic') } } },
    });
    // The job gets exactly the expiring keys' ids, hourly.
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({
        Input: { 'Fn::Join': ['', ['{"keyIds":["', { Ref: Match.stringLikeRegexp('^ApiClientstrialGeneration1Key') }, '"]}']] },
        RetryPolicy: { MaximumRetryAttempts: 2 },
      })],
    });
    // …and again after each update of its stack.
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.cloudformation'],
        'detail-type': ['CloudFormation Stack Status Change'],
        'detail': { 'stack-id': [{ Ref: 'AWS::StackId' }], 'status-details': { status: ['UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE'] } },
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  test('the job may read and disable only the expiring keys', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('trial', { tiers: [tier], expires: Expiration.after(Duration.days(14)) });
    api.addClient('partner', { tiers: [tier], expires: Expiration.atDate(FUTURE) });
    api.addClient('forever', { tiers: [tier] });

    // THEN
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement);
    const keyAccess = statements.find((s) => JSON.stringify(s.Action) === JSON.stringify(['apigateway:GET', 'apigateway:PATCH']));
    const resources = JSON.stringify(keyAccess?.Resource);
    expect(resources).toMatch(/ApiClientstrialGeneration1Key/);
    expect(resources).toMatch(/ApiClientspartnerGeneration1Key/);
    expect(resources).not.toMatch(/forever/);
    template.resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('Expiration.atDate tags the key with the instant', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('partner', { tiers: [tier], expires: Expiration.atDate(FUTURE) });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Tags: Match.arrayWith([{ Key: 'keygate:expires-at', Value: '2099-01-31T00:00:00.000Z' }]),
    });
  });

  test('a past date with enabled: false is history: the template keeps the key disabled', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('old-trial', { tiers: [tier], enabled: false, expires: Expiration.atDate(PAST) });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Name: 'old-trial',
      Enabled: false,
      Tags: Match.arrayWith([{ Key: 'keygate:expires-at', Value: '2020-01-31T00:00:00.000Z' }]),
    });
  });

  test('no expiring client, no job', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('forever', { tiers: [tier] });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  test('KeyExpiry props: a schedule and the owner\'s topic', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();
    const expiry = new KeyExpiry(stack, 'KeygateKeyExpiry', { schedule: Duration.minutes(10) });

    // WHEN
    api.addClient('trial', { tiers: [tier], expires: Expiration.after(Duration.days(14)) });

    // THEN
    expect(KeyExpiry.of(api)).toBe(expiry);
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
  });
});

describe('expiry: bad input fails synth naming path, property and value', () => {
  test('a date in the past', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('trial', { tiers: [tier], expires: Expiration.atDate(PAST) }))
      .toThrow(/\[Stack\/Api\/Clients\/trial\] expires: is in the past, so the key would be created expired; .*enabled: false \(got "2020-01-31T00:00:00.000Z"\)/);
  });

  test('an invalid date', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('trial', { tiers: [tier], expires: Expiration.atDate(new Date('not a date')) }))
      .toThrow(/\[Stack\/Api\/Clients\/trial\] expires: Expiration.atDate needs a valid date \(got "Invalid Date"\)/);
  });

  test('a lifetime under a minute', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('trial', { tiers: [tier], expires: Expiration.after(Duration.seconds(0)) }))
      .toThrow(/\[Stack\/Api\/Clients\/trial\] expires: Expiration.after needs a duration of at least one minute, in whole seconds \(got "0 seconds"\)/);
  });

  test('expiry on an existing key keygate does not own', () => {
    const { stack, api, tier } = smallApi();
    const existingKey = apigw.ApiKey.fromApiKeyId(stack, 'Legacy', 'abc123defg');
    expect(() => api.addClient('legacy', { tiers: [tier], existingKey, expires: Expiration.after(Duration.days(1)) }))
      .toThrow(/\[Stack\/Api\/Clients\/legacy\] expires: applies to keys keygate creates, not to an existingKey/);
  });

  test('a schedule that is not whole minutes', () => {
    const { stack } = smallApi();
    expect(() => new KeyExpiry(stack, 'KeygateKeyExpiry', { schedule: Duration.seconds(90) }))
      .toThrow(/\[Stack\/KeygateKeyExpiry\] schedule: must be whole minutes from 1 minute to 1 day \(got "1 minute 30 seconds"\)/);
  });
});
