import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SecretValue } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { KeyValue } from '../lib';
import { smallApi } from './support/keygate-fixtures';

const DYNAMIC_REFERENCE = /^\{\{resolve:secretsmanager:.+:SecretString:::\}\}$/;

describe('client keys', () => {
  test('by default API Gateway generates the value: the ApiKey has no Value', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    const client = api.addClient('acme', { tiers: [tier] });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Name: 'acme',
      Enabled: true,
      Value: Match.absent(),
      StageKeys: Match.absent(),
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(client.secret).toBeUndefined();
    expect(client.clientName).toBe('acme');
  });

  test('Secrets Manager: a generated alphanumeric secret, referenced by a dynamic reference', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    const client = api.addClient('globex', { tiers: [tier], keyValue: KeyValue.secretsManager() });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ ExcludePunctuation: true, IncludeSpace: false, PasswordLength: 40 }),
      SecretString: Match.absent(),
    });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Name: 'globex',
      Value: {
        'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^ApiClientsglobexGeneration1Secret') }, ':SecretString:::}}']],
      },
    });
    expect(client.secret).toBeDefined();
  });

  test('an explicit value from Secrets Manager is referenced, never copied', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('umbrella', { tiers: [tier], keyValue: KeyValue.fromSecretValue(SecretValue.secretsManager('partners/umbrella')) });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Name: 'umbrella',
      Value: Match.stringLikeRegexp(DYNAMIC_REFERENCE.source),
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('plain value'));
  });

  test('an explicit plain value is used, with a warning that it lands in the template', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('test', { tiers: [tier], keyValue: KeyValue.fromSecretValue(SecretValue.unsafePlainText('a'.repeat(20))) });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::ApiKey', { Value: 'a'.repeat(20) });
    Annotations.fromStack(stack).hasWarning('/Stack/Api/Clients/test', Match.stringLikeRegexp('keyValue is a plain value'));
  });

  test('enabled, description, customerId and tags', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('acme', {
      tiers: [tier],
      clientName: 'acme-corp',
      enabled: false,
      description: 'Acme Corp',
      customerId: 'acme-001',
      tags: { team: 'sales' },
      keyValue: KeyValue.secretsManager(),
    });

    // THEN
    const template = Template.fromStack(stack);
    const tags = [
      { Key: 'keygate:client', Value: 'acme-corp' },
      { Key: 'keygate:generation', Value: '1' },
      { Key: 'team', Value: 'sales' },
    ];
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Name: 'acme-corp',
      Enabled: false,
      Description: 'Acme Corp',
      CustomerId: 'acme-001',
      Tags: tags,
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Tags: tags });
  });

  test('an existing key is imported by id and only associated', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    const client = api.addClient('legacy', { tiers: [tier], existingKey: apigw.ApiKey.fromApiKeyId(stack, 'LegacyKey', 'abcdef1234') });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: 'abcdef1234',
      KeyType: 'API_KEY',
      UsagePlanId: { Ref: Match.stringLikeRegexp('^ApiBasic') },
    });
    expect(client.apiKey.keyId).toBe('abcdef1234');
  });

  test('a client in tiers of different stages gets one UsagePlanKey per tier', () => {
    // GIVEN
    const { stack, api } = smallApi();
    const staging = api.addStage('staging');
    const sandbox = api.addTier('Sandbox', { stages: [staging] });
    const prod = api.addTier('Prod', { stages: [api.defaultStage] });

    // WHEN
    api.addClient('acme', { tiers: [prod, sandbox] });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { UsagePlanId: { Ref: Match.stringLikeRegexp('^ApiProd') } });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { UsagePlanId: { Ref: Match.stringLikeRegexp('^ApiSandbox') } });
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 2);
  });

  describe('grantRead', () => {
    test('on the secrets of every live generation when values live in Secrets Manager', () => {
      // GIVEN
      const { stack, api, tier } = smallApi();
      const client = api.addClient('globex', { tiers: [tier], keyValue: KeyValue.secretsManager(), generations: [1, 2] });
      const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });

      // WHEN
      client.grantRead(reader);

      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Effect: 'Allow',
              Resource: { Ref: Match.stringLikeRegexp('^ApiClientsglobexGeneration1Secret') },
            }),
            Match.objectLike({
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Effect: 'Allow',
              Resource: { Ref: Match.stringLikeRegexp('^ApiClientsglobexGeneration2Secret') },
            }),
          ]),
        },
      });
    });

    test('apigateway:GET on the key when API Gateway generated the value', () => {
      // GIVEN
      const { stack, api, tier } = smallApi();
      const client = api.addClient('acme', { tiers: [tier] });
      const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });

      // WHEN
      client.grantRead(reader);

      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [{
            Action: 'apigateway:GET',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/apikeys/$'), { Ref: Match.stringLikeRegexp('^ApiClientsacmeGeneration1Key') }])],
            },
          }],
        },
      });
    });
  });
});

describe('key generations (rotation in code)', () => {
  function rotationStep(generations: number[]) {
    const fixture = smallApi();
    fixture.api.addClient('acme', { tiers: [fixture.tier], keyValue: KeyValue.secretsManager(), generations });
    fixture.api.addClient('initech', { tiers: [fixture.tier] });
    const template = Template.fromStack(fixture.stack).toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const ids = (type: string) => Object.keys(template.Resources).filter((id) => template.Resources[id].Type === type).sort();
    return { template, ids };
  }

  test('[1] -> [1, 2] -> [2]: each generation keeps its logical ids; the other client is untouched', () => {
    // GIVEN
    const one = rotationStep([1]);

    // WHEN
    const overlap = rotationStep([1, 2]);
    const two = rotationStep([2]);

    // THEN: generation 1 keeps its ids while 2 is added beside it, then goes.
    const keyIds = (step: typeof one) => step.ids('AWS::ApiGateway::ApiKey');
    const gen1 = keyIds(one).filter((id) => id.startsWith('ApiClientsacmeGeneration1'));
    const gen2 = keyIds(overlap).filter((id) => id.startsWith('ApiClientsacmeGeneration2'));
    const initech = keyIds(one).filter((id) => id.startsWith('ApiClientsinitech'));
    expect(gen1).toHaveLength(1);
    expect(gen2).toHaveLength(1);
    expect(initech).toHaveLength(1);
    expect(keyIds(one)).toEqual([...gen1, ...initech].sort());
    expect(keyIds(overlap)).toEqual([...gen1, ...gen2, ...initech].sort());
    expect(keyIds(two)).toEqual([...gen2, ...initech].sort());

    // Secrets and associations follow their generation.
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::ApiGateway::UsagePlanKey']) {
      const g1 = one.ids(type).filter((id) => id.startsWith('ApiClientsacmeGeneration1'));
      const g2 = two.ids(type).filter((id) => id.startsWith('ApiClientsacmeGeneration2'));
      expect(g1).toHaveLength(1);
      expect(g2).toHaveLength(1);
      expect(overlap.ids(type)).toEqual(expect.arrayContaining([...g1, ...g2]));
    }

    // Properties of the keys that stay are unchanged: no replacement, no new value.
    expect(overlap.template.Resources[gen1[0]]).toEqual(one.template.Resources[gen1[0]]);
    expect(two.template.Resources[gen2[0]].Properties).toEqual(overlap.template.Resources[gen2[0]].Properties);
    for (const step of [overlap, two]) {
      expect(step.template.Resources[initech[0]]).toEqual(one.template.Resources[initech[0]]);
    }
    // Generation 2 has its own name.
    expect(overlap.template.Resources[gen2[0]].Properties).toEqual(expect.objectContaining({ Name: 'acme-gen2' }));
  });

  test('apiKey and secret are the newest generation', () => {
    // GIVEN / WHEN
    const { api, tier } = smallApi();
    const client = api.addClient('acme', { tiers: [tier], keyValue: KeyValue.secretsManager(), generations: [2, 1] });

    // THEN
    expect(client.generations.map((g) => g.generation)).toEqual([1, 2]);
    expect(client.apiKey).toBe(client.generations[1].apiKey);
    expect(client.secret).toBe(client.generations[1].secret);
  });
});
