/*
 * Integration test of the pet store example (examples/pet-store): deploys the stack, then
 * calls the deployed API — no key → 403, the public route → 200, globex's key read from
 * Secrets Manager → 200, a burst with initech's key (Free: burst 2) → 429 — and destroys it.
 *
 *   npm run integ            # offline: the synthesized app must equal the committed snapshot
 *   npm run integ:deploy     # against the account and region of your AWS credentials
 */
import { App } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { PetStoreStack } from '../../examples/pet-store/pet-store-stack';
import { INTEG_OPTIONS, KeyProbe } from './key-probe';

// No stack traces (absolute paths of this machine) in the snapshot's metadata.
const app = new App({ stackTraces: false, context: { 'aws:cdk:disable-creation-stack-traces': true } });
const stack = new PetStoreStack(app, 'KeygateIntegPetStore');
const integ = new IntegTest(app, 'KeygatePetStore', { testCases: [stack], ...INTEG_OPTIONS });

const url = stack.api.url;
const client = (name: string) => {
  const found = stack.clients.find((c) => c.clientName === name);
  if (!found) throw new Error(`the pet store has no client ${name}`);
  return found;
};
const probe = new KeyProbe(stack, 'IntegKeyProbe');
const globex = client('globex');
globex.grantRead(probe.function);

const noKey = integ.assertions.httpApiCall(`${url}pets/types`);
noKey.expect(ExpectedResult.objectLike({ status: 403, body: { message: 'Forbidden' } }));

const health = integ.assertions.httpApiCall(`${url}health`);
health.expect(ExpectedResult.objectLike({ status: 200, body: { status: 'ok' } }));

const withKey = probe.expect(integ, { url: `${url}pets/types`, key: { secretId: globex.secret!.secretArn }, requests: 1 }, { succeeded: true, throttled: false });
const burst = probe.expect(integ, { url: `${url}pets/types`, key: { keyId: client('initech').apiKey.keyId }, requests: 40 }, { succeeded: true, throttled: true });

noKey.next(health).next(withKey).next(burst);
