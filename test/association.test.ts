import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { KeyProtectedApi, KeyValue } from '../lib';
import { mock, newStack, smallApi } from './support/keygate-fixtures';

interface CfnJson { DependsOn?: string[]; Properties: Record<string, unknown> }

function usagePlanKeys(stack: Stack): Record<string, CfnJson> {
  return Template.fromStack(stack).findResources('AWS::ApiGateway::UsagePlanKey', { Properties: Match.objectLike({ KeyType: 'API_KEY' }) }) as Record<string, CfnJson>;
}

/** The UsagePlanKeys in DependsOn order; fails unless they form one chain. */
function chainOf(keys: Record<string, CfnJson>): string[] {
  const ids = Object.keys(keys);
  const previous = new Map<string, string | undefined>();
  for (const id of ids) {
    const onKeys = (keys[id].DependsOn ?? []).filter((target) => target in keys);
    expect(onKeys.length).toBeLessThanOrEqual(1);
    previous.set(id, onKeys[0]);
  }
  const heads = ids.filter((id) => previous.get(id) === undefined);
  expect(heads).toHaveLength(1);
  const order = [heads[0]];
  for (;;) {
    const next = ids.filter((id) => previous.get(id) === order[order.length - 1]);
    expect(next.length).toBeLessThanOrEqual(1);
    if (next.length === 0) break;
    order.push(next[0]);
  }
  return order;
}

describe('UsagePlanKey associations', () => {
  test('all associations of a stack form one DependsOn chain (CreateUsagePlanKey runs one at a time)', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();
    const staging = api.addStage('staging');
    const sandbox = api.addTier('Sandbox', { stages: [staging] });
    const prod = api.addTier('Prod', { stages: [api.defaultStage] });

    // WHEN: clients with one or two tiers and two generations, plus an imported key.
    api.addClient('a', { tiers: [tier] });
    api.addClient('b', { tiers: [prod, sandbox], keyValue: KeyValue.secretsManager(), generations: [1, 2] });
    api.addClient('c', { tiers: [tier] });
    sandbox.addApiKey(apigw.ApiKey.fromApiKeyId(stack, 'Imported', 'imported-key-id'));

    // THEN
    const keys = usagePlanKeys(stack);
    expect(Object.keys(keys)).toHaveLength(1 + 2 * 2 + 1 + 1);
    const chain = chainOf(keys);
    expect(chain).toHaveLength(Object.keys(keys).length);
    // In creation order.
    expect(chain[0]).toMatch(/^ApiClientsaGeneration1/);
    expect(chain[chain.length - 1]).toMatch(/^ApiSandboxKey/);
  });

  test('the chain is per stack; two stacks in one app each have their own', () => {
    // GIVEN
    const { app, stack } = newStack('One');
    const other = new Stack(app, 'Two');

    // WHEN
    for (const s of [stack, other]) {
      const api = new KeyProtectedApi(s, 'Api');
      api.addRoute('GET /pets', mock());
      const tier = api.addTier('Basic');
      api.addClient('x', { tiers: [tier] });
      api.addClient('y', { tiers: [tier] });
    }

    // THEN
    for (const s of [stack, other]) {
      const keys = usagePlanKeys(s);
      expect(Object.keys(keys)).toHaveLength(2);
      expect(chainOf(keys)).toHaveLength(2);
    }
  });

  test('an association references its key and its tier', () => {
    // GIVEN
    const { stack, api, tier } = smallApi();

    // WHEN
    api.addClient('acme', { tiers: [tier] });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: Match.stringLikeRegexp('^ApiClientsacmeGeneration1Key') },
      KeyType: 'API_KEY',
      UsagePlanId: { Ref: Match.stringLikeRegexp('^ApiBasic') },
    });
  });
});
