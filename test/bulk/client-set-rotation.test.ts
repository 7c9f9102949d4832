/** Template assertions and synth errors of rotating client sets (`ClientSetOptions.rotation`). */
import * as fs from 'fs';
import * as path from 'path';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Duration } from 'aws-cdk-lib';
import { ClientSet, ClientSetEntry, KeyRotation, KeyValue } from '../../lib';
import { bulkFixture, BulkFixture } from './support';

const EVERY_90_DAYS = KeyRotation.every(Duration.days(90), { overlap: Duration.days(7) });
const clients: ClientSetEntry[] = [
  { name: 'acme', tierNames: ['Free'] },
  { name: 'globex', tierNames: ['Pro'], tags: { team: 'partners' } },
];

function rotatingSet(f: BulkFixture = bulkFixture(), entries: ClientSetEntry[] = clients, setId = 'partners'): { f: BulkFixture; set: ClientSet } {
  const set = f.api.addClientSet('Partners', { clients: entries, setId, rotation: EVERY_90_DAYS });
  return { f, set };
}

/** The statements of every policy whose logical id starts with `logicalIdPrefix`. */
function statementsOf(template: Template, logicalIdPrefix: string): Array<Record<string, unknown>> {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith(logicalIdPrefix));
  if (policies.length === 0) throw new Error(`no policy ${logicalIdPrefix}`);
  return policies.flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement);
}

const SECRETS_OF_SET = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:keygate/partners/*']] };

describe('rotating ClientSet: template', () => {
  test('the resource carries the rotation Lambda, its schedule, the overlap and the recovery window', () => {
    // GIVEN / WHEN
    const { f } = rotatingSet();
    // THEN
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('Custom::KeygateClientSet', {
      SetId: 'partners',
      Rotation: {
        LambdaArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeygateKeyRotationFunction'), 'Arn'] },
        ScheduleExpression: 'rate(90 days)',
        OverlapSeconds: String(Duration.days(7).toSeconds()),
        RecoveryWindowDays: '7',
      },
    });
    // The secrets are created at deploy time, not by the stack: no Secret, no RotationSchedule, no ApiKey.
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
  });

  test('the reconciler may manage the set\'s secrets only, and invoke the rotation Lambda (RotateSecret needs it)', () => {
    const { f } = rotatingSet();
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^ApiClientsPartnersRotationAccess'),
      Roles: [{ Ref: Match.stringLikeRegexp('^KeygateClientSetProviderRole') }],
      PolicyDocument: { Statement: [
      {
        Effect: 'Allow',
        Action: [
          'secretsmanager:CreateSecret', 'secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecret', 'secretsmanager:TagResource', 'secretsmanager:UntagResource',
          'secretsmanager:RotateSecret', 'secretsmanager:CancelRotateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:RestoreSecret',
        ],
        Resource: SECRETS_OF_SET,
      },
      { Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' },
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeygateKeyRotationFunction'), 'Arn'] } },
      ] },
    });
    // The custom resource waits for that policy (and keeps it until the resource is gone).
    const [resource] = Object.values(template.findResources('Custom::KeygateClientSet'));
    expect(resource.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ApiClientsPartnersRotationAccess/)]));
  });

  test('the rotation Lambda may rotate the set\'s secrets, Secrets Manager may invoke it, and the retire run lists them by prefix', () => {
    const { f } = rotatingSet();
    const template = Template.fromStack(f.stack);
    const statements = statementsOf(template, 'KeygateKeyRotationFunction');
    expect(statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'], Resource: SECRETS_OF_SET }),
      expect.objectContaining({ Action: ['secretsmanager:ListSecrets', 'secretsmanager:GetRandomPassword'], Resource: '*' }),
    ]));
    // The set's tiers' plans: the rotation puts each new key in them.
    const planStatement = statements.find((s) => JSON.stringify(s.Resource).includes('/usageplans/'));
    expect(JSON.stringify(planStatement)).toMatch(/ApiFree.*ApiPro|ApiPro.*ApiFree/);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', Principal: 'secretsmanager.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeygateKeyRotationFunction'), 'Arn'] },
    });
    const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
    const input = JSON.parse((rule.Properties.Targets as Array<{ Input: string }>)[0].Input);
    expect(input).toEqual({ action: 'retire', secretIds: [], secretNamePrefixes: ['keygate/partners/'] });
  });

  test('a stack without a rotating set sends no name prefixes to the retire run', () => {
    const f = bulkFixture();
    f.api.addClient('solo', { tiers: [f.free], keyValue: KeyValue.secretsManager(), rotation: EVERY_90_DAYS });
    const [rule] = Object.values(Template.fromStack(f.stack).findResources('AWS::Events::Rule'));
    const input = JSON.stringify(rule.Properties.Targets);
    expect(input).toMatch(/secretIds/);
    expect(input).not.toMatch(/secretNamePrefixes/);
  });

  test('grantRead: GetSecretValue and DescribeSecret on the set\'s secrets; secretNameOf names a client\'s secret', () => {
    const { f, set } = rotatingSet();
    const role = new iam.Role(f.stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    set.grantRead(role);
    expect(statementsOf(Template.fromStack(f.stack), 'ConsumerDefaultPolicy')).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: SECRETS_OF_SET },
    ]);
    expect(set.secretNameOf('globex')).toBe('keygate/partners/globex');
  });

  test('no key value and no secret value in the template or the manifest asset', () => {
    const { f, set } = rotatingSet();
    const assembly = f.app.synth();
    const template = fs.readFileSync(path.join(assembly.directory, 'Bulk.template.json'), 'utf-8');
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, set.manifest.assetPath), 'utf-8'));
    expect(manifest.clients).toEqual([
      { name: 'acme', tiers: ['t0'] },
      { name: 'globex', tiers: ['t1'], tags: { team: 'partners' } },
    ]);
    expect(template).not.toMatch(/SecretString|GenerateSecretString|AWS::ApiGateway::ApiKey|AWS::SecretsManager::Secret/);
  });
});

describe('rotating ClientSet: synth errors', () => {
  test('a period the rotation cannot use names the construct path, property and value', () => {
    const f = bulkFixture();
    expect(() => f.api.addClientSet('Partners', { clients, rotation: KeyRotation.every(Duration.hours(1)) }))
      .toThrow(/Bulk\/Api\/Clients\/Partners.*rotation\.period.*Secrets Manager rotates every 4 hours to 999 days.*1 hour/);
  });

  test('an overlap not shorter than the period', () => {
    const f = bulkFixture();
    expect(() => f.api.addClientSet('Partners', { clients, rotation: KeyRotation.every(Duration.days(7), { overlap: Duration.days(7) }) }))
      .toThrow(/Bulk\/Api\/Clients\/Partners.*rotation\.overlap.*must be shorter than the rotation period.*7 days/);
  });

  test('an entry with generations', () => {
    expect(() => rotatingSet(bulkFixture(), [{ name: 'acme', tierNames: ['Free'], generations: [1, 2] }]))
      .toThrow(/Bulk\/Api\/Clients\/Partners.*clients\[0\]: generations.*a rotating client has no key generations.*\[1, 2\]/);
  });

  test('an entry with enabled: false (remove the client to retire it)', () => {
    expect(() => rotatingSet(bulkFixture(), [{ name: 'acme', tierNames: ['Free'], enabled: false }]))
      .toThrow(/clients\[0\]: enabled.*remove the client from the set to retire it.*false/);
  });

  test('a name with characters Secrets Manager does not allow in secret names', () => {
    expect(() => rotatingSet(bulkFixture(), [{ name: 'acme corp', tierNames: ['Free'] }]))
      .toThrow(/clients\[0\]: name.*keygate\/partners\/acme corp.*Secrets Manager allows 1-512 letters, digits.*acme corp/);
  });

  test('a name ending in a hyphen and six characters (read as a partial ARN)', () => {
    expect(() => rotatingSet(bulkFixture(), [{ name: 'acme-abc123', tierNames: ['Free'] }]))
      .toThrow(/clients\[0\]: name.*must not end with a hyphen and six characters.*acme-abc123/);
  });

  test('a name longer than a secret tag value', () => {
    const name = 'a'.repeat(257);
    expect(() => rotatingSet(bulkFixture(), [{ name, tierNames: ['Free'] }]))
      .toThrow(/clients\[0\]: name.*is 257 characters; a rotating client's secret carries it in a tag \(at most 256\)/);
  });

  test('too many tags for a secret', () => {
    const tags = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`t${i}`, 'x']));
    expect(() => rotatingSet(bulkFixture(), [{ name: 'acme', tierNames: ['Free'], tags }]))
      .toThrow(/clients\[0\]: tags.*at most 44 tags of its own.*45/);
  });

  test.each(['team:partners', 'team/partners'])('a setId a secret name prefix cannot hold: %s', (setId) => {
    expect(() => rotatingSet(bulkFixture(), clients, setId))
      .toThrow(new RegExp(`Bulk/Api/Clients/Partners.*setId.*its setId may hold letters, digits and _ \\+ = \\. @ - .*without /.*${setId}`));
  });

  test('grantRead and secretNameOf on a set without rotation', () => {
    const f = bulkFixture();
    const set = f.api.addClientSet('Plain', { clients });
    const role = new iam.Role(f.stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(() => set.grantRead(role)).toThrow(/Bulk\/Api\/Clients\/Plain.*rotation.*grantRead needs a rotating set/);
    expect(() => set.secretNameOf('acme')).toThrow(/Bulk\/Api\/Clients\/Plain.*rotation.*secretNameOf needs a rotating set/);
  });

  test('secretNameOf a name that is not a client of the set', () => {
    const { set } = rotatingSet();
    expect(() => set.secretNameOf('initech')).toThrow(/Bulk\/Api\/Clients\/Partners.*clientName.*is not a client of this set.*initech/);
  });
});
