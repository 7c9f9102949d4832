import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ClientOptions, KeyProtectedApi, KeyValue, Tier } from '../lib';
import { PetStoreStack } from '../examples/pet-store/pet-store-stack';
import { mock } from './support/keygate-fixtures';

interface CfnJson { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }
type Resources = Record<string, CfnJson>;

const KEY_TYPES = ['AWS::ApiGateway::ApiKey', 'AWS::ApiGateway::UsagePlanKey', 'AWS::SecretsManager::Secret', 'AWS::ApiGateway::UsagePlan'];

function resources(stack: Stack): Resources {
  return (Template.fromStack(stack).toJSON() as { Resources: Resources }).Resources;
}

function idsOf(all: Resources, types = KEY_TYPES): string[] {
  return Object.keys(all).filter((id) => types.includes(all[id].Type)).sort();
}

describe('logical ids of the pet-store example', () => {
  // A replaced ApiKey gets a new value and breaks that customer: these ids must never change.
  const PINNED: Record<string, string> = {
    PetStoreFree5E4459BE: 'AWS::ApiGateway::UsagePlan',
    PetStoreBasicFDF2C1E1: 'AWS::ApiGateway::UsagePlan',
    PetStorePremium863B5844: 'AWS::ApiGateway::UsagePlan',
    PetStoreClientsacmeGeneration1Key23F2BA40: 'AWS::ApiGateway::ApiKey',
    PetStoreClientsacmeGeneration1TierBasic175B5E181A2F18: 'AWS::ApiGateway::UsagePlanKey',
    PetStoreClientsglobexGeneration1SecretC7D930F5: 'AWS::SecretsManager::Secret',
    PetStoreClientsglobexGeneration1KeyDDB28FB6: 'AWS::ApiGateway::ApiKey',
    PetStoreClientsglobexGeneration1TierPremiumE5EE614063D00B: 'AWS::ApiGateway::UsagePlanKey',
    PetStoreClientsinitechGeneration1KeyE9BDF6CC: 'AWS::ApiGateway::ApiKey',
    PetStoreClientsinitechGeneration1TierFree103DF541BF24DB: 'AWS::ApiGateway::UsagePlanKey',
    PetStoreClientssoylentSecretDDAD48AC: 'AWS::SecretsManager::Secret',
    PetStoreClientstrialGeneration1Key0056062E: 'AWS::ApiGateway::ApiKey',
    PetStoreClientstrialGeneration1TierFree103DF5C968B09A: 'AWS::ApiGateway::UsagePlanKey',
  };

  test('keys, secrets, associations and tiers keep these logical ids', () => {
    // GIVEN / WHEN
    const stack = new PetStoreStack(new App(), 'KeygatePetStore');

    // THEN
    const all = resources(stack);
    expect(Object.fromEntries(idsOf(all).map((id) => [id, all[id].Type]))).toEqual(PINNED);
  });

  test('a client added to the example leaves every pinned resource as it was', () => {
    // GIVEN
    const before = resources(new PetStoreStack(new App(), 'KeygatePetStore'));

    // WHEN
    const stack = new PetStoreStack(new App(), 'KeygatePetStore');
    stack.api.addClient('hooli', { tiers: [stack.tiers.premium], keyValue: KeyValue.secretsManager() });
    const after = resources(stack);

    // THEN
    for (const id of Object.keys(PINNED)) expect(after[id]).toEqual(before[id]);
    expect(idsOf(after).filter((id) => !(id in PINNED))).toEqual([
      expect.stringMatching(/^PetStoreClientshooliGeneration1Key/),
      expect.stringMatching(/^PetStoreClientshooliGeneration1Secret/),
      expect.stringMatching(/^PetStoreClientshooliGeneration1TierPremium/),
    ]);
  });
});

describe('adding, removing and reordering clients', () => {
  type ClientSpec = [string, (tiers: { free: Tier; paid: Tier }) => ClientOptions];
  const SPECS: Record<string, ClientSpec> = {
    alpha: ['alpha', ({ free }) => ({ tiers: [free] })],
    bravo: ['bravo', ({ paid }) => ({ tiers: [paid], keyValue: KeyValue.secretsManager(), description: 'B' })],
    charlie: ['charlie', ({ free }) => ({ tiers: [free], customerId: 'c-1', generations: [1, 2] })],
    delta: ['delta', ({ paid }) => ({ tiers: [paid], enabled: false })],
  };

  function build(names: string[]): Resources {
    const app = new App();
    const stack = new Stack(app, 'Shop');
    const api = new KeyProtectedApi(stack, 'Api');
    api.addRoute('GET /items', mock());
    const tiers = {
      free: api.addTier('Free', { throttle: { rateLimit: 1, burstLimit: 2 } }),
      paid: api.addTier('Paid', { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: apigw.Period.DAY } }),
    };
    for (const name of names) {
      const [id, options] = SPECS[name];
      api.addClient(id, options(tiers));
    }
    return resources(stack);
  }

  /** Resources of one client: same ids, same properties. */
  function clientResources(all: Resources, name: string): Record<string, Record<string, unknown> | undefined> {
    const prefix = `ApiClients${name}Generation`;
    return Object.fromEntries(idsOf(all).filter((id) => id.startsWith(prefix)).map((id) => [id, all[id].Properties]));
  }

  const baseline = build(['alpha', 'bravo', 'charlie']);

  test.each([
    ['adding a client at the front', ['delta', 'alpha', 'bravo', 'charlie']],
    ['adding a client at the end', ['alpha', 'bravo', 'charlie', 'delta']],
    ['removing the first client', ['bravo', 'charlie']],
    ['removing a middle client', ['alpha', 'charlie']],
    ['reordering the clients', ['charlie', 'alpha', 'bravo']],
  ])('%s leaves every other client\'s key, secret and association ids and properties unchanged', (_what, names) => {
    // GIVEN: baseline alpha, bravo, charlie

    // WHEN
    const changed = build(names);

    // THEN
    for (const name of ['alpha', 'bravo', 'charlie'].filter((n) => names.includes(n))) {
      const expected = clientResources(baseline, name);
      expect(Object.keys(expected).length).toBeGreaterThanOrEqual(2);
      expect(clientResources(changed, name)).toEqual(expected);
    }
    // Tiers too.
    for (const id of idsOf(baseline, ['AWS::ApiGateway::UsagePlan'])) expect(changed[id]).toEqual(baseline[id]);
    // Only the DependsOn chain between associations may differ; it never causes a replacement.
  });

  test('the ids derive from names, not positions', () => {
    // GIVEN / WHEN
    const ids = idsOf(baseline, ['AWS::ApiGateway::ApiKey']);

    // THEN
    expect(ids).toEqual([
      expect.stringMatching(/^ApiClientsalphaGeneration1Key[0-9A-F]{8}$/),
      expect.stringMatching(/^ApiClientsbravoGeneration1Key[0-9A-F]{8}$/),
      expect.stringMatching(/^ApiClientscharlieGeneration1Key[0-9A-F]{8}$/),
      expect.stringMatching(/^ApiClientscharlieGeneration2Key[0-9A-F]{8}$/),
    ]);
  });
});
