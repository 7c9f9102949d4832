import * as iam from 'aws-cdk-lib/aws-iam';
import { Duration, SecretValue } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Expiration, KeyRotation, KeyValue } from '../lib';
import { rotationApp } from './rotation/fixture';
import { smallApi } from './support/keygate-fixtures';

const every90 = (): KeyRotation => KeyRotation.every(Duration.days(90), { overlap: Duration.days(7) });

function logicalIdOf(template: Template, type: string, props: Record<string, unknown>): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('KeyRotation', () => {
  test('a rotating client: a secret on a 90-day schedule run by the rotation Lambda; the stack owns no key of it', () => {
    // GIVEN / WHEN
    const { stack } = rotationApp();

    // THEN
    const template = Template.fromStack(stack);
    const secretId = logicalIdOf(template, 'AWS::SecretsManager::Secret', Match.objectLike({
      Tags: Match.arrayWith([{ Key: 'keygate:client', Value: 'globex' }]),
    }) as unknown as Record<string, unknown>);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 40, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true },
      Tags: Match.arrayWith([
        { Key: 'keygate:rotation-overlap-seconds', Value: '604800' },
        { Key: 'keygate:usage-plans', Value: { Ref: Match.stringLikeRegexp('^ApiPremium') } },
        { Key: 'team', Value: 'partners' },
      ]),
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: secretId },
      RotationLambdaARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeygateKeyRotationFunction'), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(90 days)' },
      RotateImmediatelyOnUpdate: true,
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Handler: 'index.handler', Timeout: 300 });
    // Only acme's key (and its association) belong to the stack.
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Name: 'acme' });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
  });

  test('the hourly retire run names every rotating secret; failures alarm to an SNS topic', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('globex', { tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: every90() });
    const initech = api.addClient('initech', { tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: every90() });

    // THEN one Lambda, rule, topic and alarm serve both clients
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    template.resourceCountIs('AWS::Events::Rule', 1);
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0];
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    const input = JSON.stringify(rule.Properties.Targets[0].Input);
    expect(input).toContain('\\"action\\":\\"retire\\"');
    expect(input.match(/"Ref":"ApiClients(globex|initech)Secret/g)).toHaveLength(2);
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching', AlarmActions: [{ Ref: topicId }],
    });
    expect(initech.rotationAlarmTopic).toBeDefined();
  });

  test('the rotation Lambda may change keys, the tiers\' plan keys, and only the secrets tagged for its stack', () => {
    const { stack } = rotationApp();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: ['apigateway:GET', 'apigateway:POST'],
        Resource: [{ 'Fn::Join': ['', Match.arrayWith([':apigateway:', '::/usageplans/', { Ref: Match.stringLikeRegexp('^ApiPremium') }, '/keys*'])] }],
      })]) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Condition: { StringEquals: { 'secretsmanager:ResourceTag/keygate:rotated-by': 'RotationStack' } },
      })]) },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Tags: Match.arrayWith([{ Key: 'keygate:rotated-by', Value: 'RotationStack' }]) });
  });

  test('a deploy after a rotation changes nothing: no template value depends on the rotated secret', () => {
    // GIVEN two synths of the same app (before and after a rotation: the app can't see it)
    const before = JSON.stringify(Template.fromStack(rotationApp().stack).toJSON());
    const after = JSON.stringify(Template.fromStack(rotationApp().stack).toJSON());
    expect(after).toBe(before);

    // THEN nothing resolves the secret's value (a dynamic reference would be re-resolved, and an
    // ApiKey Value change replaces the key), and the secret is only ever referenced by its ARN
    expect(before).not.toContain('{{resolve:secretsmanager');
    const template = JSON.parse(before) as { Resources: Record<string, unknown> };
    const secretId = Object.entries(template.Resources).find(([id, r]) => (r as { Type: string }).Type === 'AWS::SecretsManager::Secret' && id.includes('globex'))![0];
    const mentions = JSON.stringify(template.Resources).match(new RegExp(`\\{[^{}]*"${secretId}"[^{}]*\\}`, 'g')) ?? [];
    expect(mentions.length).toBeGreaterThan(0);
    for (const mention of mentions) expect(mention).toBe(`{"Ref":"${secretId}"}`);
  });

  test('switched off: no schedule, no rotation Lambda', () => {
    const { stack, api, tier } = smallApi();
    api.addClient('globex', { tiers: [tier], keyValue: KeyValue.secretsManager() });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
  });

  test('consumers read the key from the secret; apiKey explains why there is none', () => {
    // GIVEN
    const { stack, rotating } = rotationApp();
    const role = new iam.Role(stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // WHEN
    rotating.grantRead(role);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Consumer') }],
      PolicyDocument: { Statement: [{ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('^ApiClientsglobexSecret') } }] },
    });
    expect(rotating.secret).toBeDefined();
    expect(rotating.generations).toEqual([]);
    expect(() => rotating.apiKey).toThrow(/\[RotationStack\/Api\/Clients\/globex\] apiKey: a rotating client's keys are created by its rotation schedule/);
  });
});

describe('KeyRotation ordering', () => {
  test('a schedule that rotates at deploy starts after the stack\'s last UsagePlanKey, also one added after it', () => {
    // GIVEN a rotating client declared before two stack-owned clients
    const { stack, api, tier } = smallApi();
    const rotating = api.addClient('globex', { tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: every90() });
    api.addClient('acme', { tiers: [tier] });
    api.addClient('initech', { tiers: [tier] });

    // WHEN
    const template = Template.fromStack(stack);

    // THEN the UsagePlanKeys form a chain, and the schedule depends on its end (initech's)
    const associations = template.findResources('AWS::ApiGateway::UsagePlanKey');
    const last = Object.keys(associations).find((id) => id.startsWith('ApiClientsinitech'));
    expect(last).toBeDefined();
    expect(associations[last!].DependsOn).toEqual([expect.stringMatching(/^ApiClientsacme/)]);
    const scheduleId = stack.getLogicalId(rotating.rotationSchedule!.node.defaultChild as never);
    expect(template.toJSON().Resources[scheduleId].DependsOn).toEqual(expect.arrayContaining([last]));
    // …and after the rotation Lambda's permissions, which stand in for aws-cdk's per-secret grants
    expect(template.toJSON().Resources[scheduleId].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^KeygateKeyRotationFunctionServiceRoleDefaultPolicy/)]));
  });
});

describe('KeyRotation validation', () => {
  test('a rotation period shorter than the overlap', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('globex', {
      tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(5), { overlap: Duration.days(7) }),
    })).toThrow(/\[.*\/globex\] rotation\.overlap: must be shorter than the rotation period \(5 days\), or two rotations would overlap \(got "7 days"\)/);
  });

  test('a rotation period Secrets Manager does not accept', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('globex', {
      tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.hours(1), { overlap: Duration.minutes(10) }),
    })).toThrow(/\[.*\/globex\] rotation\.period: Secrets Manager rotates every 4 hours to 999 days \(got "1 hour"\)/);
  });

  test('a rotation period of minutes, which Secrets Manager\'s rate() does not take', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('globex', {
      tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.minutes(250), { overlap: Duration.hours(1) }),
    })).toThrow(/\[.*\/globex\] rotation\.period: Secrets Manager schedules rotations in whole hours or days \(rate\(N hours\), rate\(N days\)\), not minutes or seconds \(got "4 hours 10 minutes"\)/);
  });

  test('a rotation period that is not a whole number of seconds', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('globex', {
      tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.seconds(14_400.5), { overlap: Duration.hours(1) }),
    })).toThrow(/\[.*\/globex\] rotation\.period: must be a whole number of seconds, and then of hours \(got /);
  });

  test('a rotation period of 14,401 seconds: a KeygateError, not a raw CDK error', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('globex', {
      tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.seconds(14_401), { overlap: Duration.hours(1) }),
    })).toThrow(/\[.*\/globex\] rotation\.period: Secrets Manager schedules rotations in whole hours or days/);
  });

  test('a rotation period above Secrets Manager\'s 999 days', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('globex', {
      tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(1000)),
    })).toThrow(/\[.*\/globex\] rotation\.period: Secrets Manager rotates every 4 hours to 999 days \(got "1000 days"\)/);
  });

  test.each([
    [Duration.hours(4), 'rate(4 hours)'],
    [Duration.minutes(300), 'rate(5 hours)'],
    [Duration.days(999), 'rate(999 days)'],
  ])('a period of %s synthesizes %s', (period, expression) => {
    const { stack, api, tier } = smallApi();
    api.addClient('globex', { tiers: [tier], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(period, { overlap: Duration.hours(1) }) });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: expression } });
  });

  test('rotation on a client whose value is generated by API Gateway', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('acme', { tiers: [tier], rotation: every90() }))
      .toThrow(/\[.*\/acme\] rotation: needs the key value in Secrets Manager \(keyValue: KeyValue.secretsManager\(\)\) \(got "keyValue generated"\)/);
  });

  test('rotation on a client with an explicit value', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('acme', { tiers: [tier], keyValue: KeyValue.fromSecretValue(SecretValue.secretsManager('partner/acme')), rotation: every90() }))
      .toThrow(/\[.*\/acme\] rotation: needs the key value in Secrets Manager .*\(got "keyValue explicit"\)/);
  });

  test('rotation together with stack key generations', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('acme', { tiers: [tier], keyValue: KeyValue.secretsManager(), generations: [1, 2], rotation: every90() }))
      .toThrow(/\[.*\/acme\] generations: a rotating client has no stack key generations: its rotation schedule creates and retires the keys \(got \[1, 2\]\)/);
  });

  test('rotation together with an expiry', () => {
    const { api, tier } = smallApi();
    expect(() => api.addClient('acme', { tiers: [tier], keyValue: KeyValue.secretsManager(), expires: Expiration.after(Duration.days(14)), rotation: every90() }))
      .toThrow(/\[.*\/acme\] expires: does not apply to a rotating client/);
  });
});
