/*
 * Integration test of the partner API example (examples/partner-api): the key travels in the
 * Authorization header and a Lambda authorizer hands it to API Gateway (apiKeySource
 * AUTHORIZER). Deploys, then: no Authorization → 401, a non-key Authorization → 403, globex's
 * newest key (Secrets Manager) on prod → 200, a burst with it on staging (Sandbox: burst 5) →
 * 429; destroys. A prerequisite stack holds the secret the example reads umbrella's key from.
 */
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { App, Stack } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { PartnerApiStack } from '../../examples/partner-api/partner-api-stack';
import { Client } from '../../lib';
import { INTEG_OPTIONS, KeyProbe } from './key-probe';

// No stack traces (absolute paths of this machine) in the snapshot's metadata.
const app = new App({ stackTraces: false, context: { 'aws:cdk:disable-creation-stack-traces': true } });
// The example reads umbrella's key from a secret managed elsewhere; here it is made first.
const prerequisites = new Stack(app, 'KeygateIntegPartnerPrerequisites');
new secretsmanager.Secret(prerequisites, 'UmbrellaKey', {
  secretName: 'keygate/partners/umbrella',
  description: 'keygate integ test: the API key value of the partner umbrella',
  generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
});
const stack = new PartnerApiStack(app, 'KeygateIntegPartnerApi');
stack.addDependency(prerequisites);
const integ = new IntegTest(app, 'KeygatePartnerApi', { testCases: [prerequisites, stack], ...INTEG_OPTIONS });

const globex = stack.node.findAll().find((c): c is Client => c instanceof Client && c.clientName === 'globex');
const staging = stack.api.stages.find((s) => s !== stack.api.defaultStage);
if (!globex?.secret || !staging) throw new Error('the partner API example has no globex client with a secret, or no staging stage');
const probe = new KeyProbe(stack, 'IntegKeyProbe');
globex.grantRead(probe.function);
const prodOrders = `${stack.api.url}orders`;

const noKey = integ.assertions.httpApiCall(prodOrders);
noKey.expect(ExpectedResult.objectLike({ status: 401 }));
const notAKey = integ.assertions.httpApiCall(prodOrders, { headers: { Authorization: 'Bearer not-a-key' } });
notAKey.expect(ExpectedResult.objectLike({ status: 403 }));

const key = { secretId: globex.secret.secretArn };
const withKey = probe.expect(integ, { url: prodOrders, key, requests: 1, authorizationPrefix: 'Key ' }, { succeeded: true, throttled: false });
const burst = probe.expect(integ, { url: staging.urlForPath('/orders'), key, requests: 40, authorizationPrefix: 'Key ' }, { succeeded: true, throttled: true });

noKey.next(notAKey).next(withKey).next(burst);
