import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { KeyProtectedApi, KeyRotation, KeyValue } from '../../lib';
import { mock } from '../support/keygate-fixtures';

/** IAM: a role's inline policies together hold at most 10,240 characters (whitespace not counted). */
const IAM_INLINE_POLICY_LIMIT = 10_240;

/**
 * A template value as it reads after deploy, with each reference replaced by a value as long
 * as the longest AWS gives: secret ARNs (name + 6-character suffix), usage plan ids (10), a
 * partition of 10 (aws-iso-b is 9), function ARNs.
 */
function deployed(value: unknown, template: Record<string, { Type: string }>): unknown {
  if (Array.isArray(value)) return value.map((v) => deployed(v, template));
  if (value === null || typeof value !== 'object') return value;
  const entries = value as Record<string, unknown>;
  if ('Ref' in entries) {
    const ref = String(entries.Ref);
    if (ref === 'AWS::Partition') return 'aws-iso-bx';
    if (ref === 'AWS::Region') return 'ap-southeast-5';
    if (ref === 'AWS::AccountId') return '123456789012';
    if (ref === 'AWS::StackName') return 'S'.repeat(128);
    const type = template[ref]?.Type;
    if (type === 'AWS::SecretsManager::Secret') return `arn:aws-iso-bx:secretsmanager:ap-southeast-5:123456789012:secret:${ref}-AbCdEf`;
    if (type === 'AWS::ApiGateway::UsagePlan') return 'abcdefghij';
    return 'x'.repeat(64);
  }
  if ('Fn::GetAtt' in entries) return `arn:aws-iso-bx:lambda:ap-southeast-5:123456789012:function:${'x'.repeat(64)}`;
  if ('Fn::Join' in entries) {
    const [separator, parts] = entries['Fn::Join'] as [string, unknown[]];
    return (deployed(parts, template) as unknown[]).join(separator);
  }
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, deployed(v, template)]));
}

/** Characters of every inline policy of the rotation Lambda's role, as IAM counts them after deploy. */
function rotationRolePolicyCharacters(stack: Stack): number {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const roleId = Object.keys(resources).find((id) => resources[id].Type === 'AWS::IAM::Role' && id.startsWith('KeygateKeyRotationFunctionServiceRole'));
  expect(roleId).toBeDefined();
  const documents = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .map((r) => r.Properties.PolicyDocument);
  const inlineOnRole = (resources[roleId!].Properties.Policies as { PolicyDocument: unknown }[] | undefined ?? []).map((p) => p.PolicyDocument);
  expect(documents.length).toBeGreaterThan(0);
  return [...documents, ...inlineOnRole].reduce((sum: number, doc) => sum + JSON.stringify(deployed(doc, resources)).length, 0);
}

function rotatingApp(clients: number, tiers: number): Stack {
  const app = new App();
  const stack = new Stack(app, 'Rotating', { env: { account: '123456789012', region: 'eu-west-1' } });
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const plans = Array.from({ length: tiers }, (_, i) => api.addTier(`Tier${i}`, { quota: { limit: 1000, period: apigw.Period.MONTH } }));
  for (let c = 0; c < clients; c++) {
    api.addClient(`client${c}`, { tiers: [plans[c % tiers]], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(90)) });
  }
  return stack;
}

describe('the rotation Lambda\'s role at scale', () => {
  test('80 rotating clients over 40 tiers: every inline policy of the role together stays within IAM\'s 10,240 characters', () => {
    // GIVEN / WHEN
    const stack = rotatingApp(80, 40);

    // THEN
    expect(rotationRolePolicyCharacters(stack)).toBeLessThanOrEqual(IAM_INLINE_POLICY_LIMIT);
  });

  test('the role does not grow with clients: 4 and 80 rotating clients over the same tiers give the same policy size', () => {
    expect(rotationRolePolicyCharacters(rotatingApp(80, 4))).toBe(rotationRolePolicyCharacters(rotatingApp(4, 4)));
  });
});
