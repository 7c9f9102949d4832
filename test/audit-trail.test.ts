import * as sns from 'aws-cdk-lib/aws-sns';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { KeygateAuditTrail } from '../lib';
import { AUDITED_KEY_CHANGES } from '../lib/monitoring/audit-trail';
import { newStack, smallApi } from './support/keygate-fixtures';

describe('KeygateAuditTrail', () => {
  test('an EventBridge rule on CloudTrail key management: changes, and GetApiKey(s) only when they ask for the value', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addAuditTrail();

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.apigateway'],
        'detail-type': ['AWS API Call via CloudTrail'],
        'detail': {
          eventSource: ['apigateway.amazonaws.com'],
          $or: [
            { eventName: ['CreateApiKey', 'UpdateApiKey', 'DeleteApiKey', 'ImportApiKeys', 'CreateUsagePlanKey', 'DeleteUsagePlanKey'] },
            { eventName: ['GetApiKey'], requestParameters: { includeValue: [true, 'true'] } },
            { eventName: ['GetApiKeys'], requestParameters: { includeValues: [true, 'true'] } },
          ],
        },
      },
      // GetApiKey and GetApiKeys are read-only management events: a plain ENABLED rule never sees them.
      State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
    });
    expect(AUDITED_KEY_CHANGES).not.toContain('GetApiKey');
  });

  test('each call goes to a log group (with the resource policy EventBridge needs) and to the alert topic', () => {
    // GIVEN
    const { stack, api } = smallApi();

    // WHEN
    api.addAuditTrail();

    // THEN
    const template = Template.fromStack(stack);
    const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.includes('AuditTrail'))!;
    const rule = Object.keys(template.findResources('AWS::Events::Rule'))[0];
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:111111111111:log-group:', { Ref: logGroup }]] },
          InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('^\\{"timestamp":<time>,"message":"keygate audit: <detail-eventName> ') }),
        }),
        Match.objectLike({ Arn: { Ref: topic } }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::ResourcePolicy', {
      PolicyDocument: { 'Fn::Join': ['', Match.arrayWith([
        Match.stringLikeRegexp('"Action":\\["logs:CreateLogStream","logs:PutLogEvents"\\],"Condition":\\{"ArnEquals":\\{"aws:SourceArn":"'),
        { 'Fn::GetAtt': [rule, 'Arn'] },
        Match.stringLikeRegexp('"Principal":\\{"Service":\\["events.amazonaws.com","delivery.logs.amazonaws.com"\\]\\}'),
        { 'Fn::GetAtt': [logGroup, 'Arn'] },
      ])] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })]) },
    });
    // No Lambda-backed custom resource writes the log group policy.
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  test('notifications carry ids and the caller, never request or response bodies (a key value could be in them)', () => {
    const { stack, api } = smallApi();
    api.addAuditTrail();
    const rule = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'))[0];
    for (const target of rule.Properties.Targets as Array<{ InputTransformer: { InputPathsMap: Record<string, string> } }>) {
      expect(Object.values(target.InputTransformer.InputPathsMap).sort()).toEqual([
        '$.detail.awsRegion', '$.detail.errorCode', '$.detail.eventID', '$.detail.eventName', '$.detail.requestParameters.apiKey',
        '$.detail.requestParameters.keyId', '$.detail.requestParameters.usagePlanId', '$.detail.responseElements.id',
        '$.detail.sourceIPAddress', '$.detail.userIdentity.arn', ...(target.InputTransformer.InputPathsMap.time ? ['$.time'] : []),
      ].sort());
    }
  });

  test('on its own, without a topic, it writes the log only; with one, it notifies it too', () => {
    const { stack } = newStack();
    new KeygateAuditTrail(stack, 'Audit');
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Id: 'Target0' })] });
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Topic', 0);

    const other = newStack();
    const topic = new sns.Topic(other.stack, 'Ops');
    new KeygateAuditTrail(other.stack, 'Audit', { topic });
    Template.fromStack(other.stack).hasResourceProperties('AWS::Events::Rule', { Targets: [Match.anyValue(), Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Ops') } })] });
  });

  test('addAuditTrail with a topic of your own creates no alert topic', () => {
    const { stack, api } = smallApi();
    api.addAuditTrail({ topic: new sns.Topic(stack, 'Ops', { enforceSSL: true }) });
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Topic', 1);
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 0);
  });
});
