import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Expiration, KeyExpiry, KeyProtectedApi, KeyRotation, KeyValue, Tier } from '../../lib';
import { mock, newStack } from '../support/keygate-fixtures';

/** An API with every job that alerts: rotation (client and client set), expiry, hygiene, quota warnings, alarms, audit trail. */
function everyAlertingJob(stack: Stack, rotationTopic?: sns.ITopic): KeyProtectedApi {
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const basic = api.addTier('Basic', { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 10, period: apigw.Period.DAY } });
  api.addClient('globex', { tiers: [basic], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(90), { topic: rotationTopic }) });
  api.addClient('trial', { tiers: [basic], expires: Expiration.after(Duration.days(14)) });
  api.addClientSet('Partners', { clients: [{ name: 'acme', tierNames: ['Basic'] }], setId: 'partners', rotation: KeyRotation.every(Duration.days(30), { topic: rotationTopic }) });
  api.addKeyHygiene({ disableUnusedAfter: Duration.days(90) });
  api.addQuotaWarnings();
  api.addAlarms();
  api.addAuditTrail();
  return api;
}

function lambdaTopicArn(template: Template, handler: RegExp): unknown {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => handler.test(id));
  expect(functions).toHaveLength(1);
  return functions[0][1].Properties.Environment?.Variables?.TOPIC_ARN;
}

describe('alerts of an API go to its one encrypted alert topic', () => {
  test('rotation, expiry, hygiene, quota warnings, alarms and audit trail all notify api.alertTopic, which has a KMS key', () => {
    // GIVEN
    const { stack } = newStack();

    // WHEN
    const api = everyAlertingJob(stack);

    // THEN exactly one topic, encrypted with a customer-managed key, TLS only
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const topicId = stack.getLogicalId(api.alertTopic.node.defaultChild as sns.CfnTopic);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAlertTopicKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    // every alarm (rotation Lambda errors, quota thresholds, API alarms) notifies it, and only it
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map(([id]) => id)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^KeygateKeyRotationErrorsAlarm/),
      expect.stringMatching(/^ApiQuotaWarningsThreshold80/),
      expect.stringMatching(/^ApiQuotaWarningsThreshold100/),
    ]));
    for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    // the jobs that publish themselves publish to it
    expect(lambdaTopicArn(template, /^KeygateKeyExpiryJobHandler/)).toEqual({ Ref: topicId });
    expect(lambdaTopicArn(template, /^ApiKeyHygieneJobHandler/)).toEqual({ Ref: topicId });
    // and the audit trail's rule targets it
    template.hasResourceProperties('AWS::Events::Rule', { Targets: Match.arrayWith([Match.objectLike({ Arn: { Ref: topicId } })]) });
  });

  test('a topic the user passes replaces the alert topic for that job', () => {
    // GIVEN
    const { stack } = newStack();
    const own = new sns.Topic(stack, 'OnCall');

    // WHEN
    everyAlertingJob(stack, own);

    // THEN the rotation alarm notifies the user's topic only
    const template = Template.fromStack(stack);
    const rotationAlarm = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).find(([id]) => id.startsWith('KeygateKeyRotationErrorsAlarm'));
    expect(rotationAlarm?.[1].Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(own.node.defaultChild as sns.CfnTopic) }]);
  });

  test('the rotation alarm notifies the alert topic of every API with rotating clients in the stack', () => {
    // GIVEN
    const { stack } = newStack();
    const apis = ['Shop', 'Admin'].map((id) => {
      const api = new KeyProtectedApi(stack, id);
      api.addRoute('GET /pets', mock());
      api.addClient('globex', { tiers: [api.addTier('Basic')], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(90)) });
      return api;
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: apis.map((api) => ({ Ref: stack.getLogicalId(api.alertTopic.node.defaultChild as sns.CfnTopic) })),
    });
  });

  test('a rotating client whose tiers are all imported needs a topic', () => {
    const { stack } = newStack();
    const imported = Tier.fromUsagePlanId(stack, 'Imported', 'abc123');
    const api = new KeyProtectedApi(stack, 'Api');
    expect(() => api.addClient('globex', { tiers: [imported], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(90)) }))
      .toThrow(/\[Stack\/Api\/Clients\/globex\] rotation\.topic: the client's tiers are all imported \(Tier\.fromUsagePlanId\), so keygate knows no API whose alert topic to notify/);
  });

  test('expiring clients of two APIs in one stack need the KeyExpiry job to be given a topic', () => {
    const { stack } = newStack();
    const [shop, admin] = ['Shop', 'Admin'].map((id) => {
      const api = new KeyProtectedApi(stack, id);
      api.addRoute('GET /pets', mock());
      api.addTier('Basic');
      return api;
    });
    shop.addClient('trial', { tiers: [shop.node.findChild('Basic') as Tier], expires: Expiration.after(Duration.days(14)) });
    expect(() => admin.addClient('trial', { tiers: [admin.node.findChild('Basic') as Tier], expires: Expiration.after(Duration.days(14)) }))
      .toThrow(/expires: the stack's KeyExpiry job notifies the alert topic of Stack\/Shop, and this key belongs to another API/);
  });

  test('a KeyExpiry given a topic serves expiring clients of several APIs', () => {
    const { stack } = newStack();
    const own = new sns.Topic(stack, 'OnCall');
    new KeyExpiry(stack, 'KeygateKeyExpiry', { topic: own });
    for (const id of ['Shop', 'Admin']) {
      const api = new KeyProtectedApi(stack, id);
      api.addRoute('GET /pets', mock());
      api.addClient('trial', { tiers: [api.addTier('Basic')], expires: Expiration.after(Duration.days(14)) });
    }
    expect(lambdaTopicArn(Template.fromStack(stack), /^KeygateKeyExpiryJobHandler/)).toEqual({ Ref: stack.getLogicalId(own.node.defaultChild as sns.CfnTopic) });
  });
});
