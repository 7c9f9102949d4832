/*
 * Integration test of a bulk client set (examples/bulk, 12 clients): deploys the stack (the
 * reconciler creates the keys), lists the set's keys with GetApiKeys, then calls the API —
 * no key → 403, customer-00002's key (Pro) → 200, a burst with customer-00003's key (Free:
 * burst 2) → 429 — and destroys it (the reconciler deletes the keys).
 */
import { App } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { BulkStack } from '../../examples/bulk/bulk-stack';
import { INTEG_OPTIONS, KeyProbe } from './key-probe';

const CLIENTS = 12;
// No stack traces (absolute paths of this machine) in the snapshot's metadata.
const app = new App({ stackTraces: false, context: { 'aws:cdk:disable-creation-stack-traces': true } });
const stack = new BulkStack(app, 'KeygateIntegClientSet', { clients: CLIENTS });
const integ = new IntegTest(app, 'KeygateClientSet', { testCases: [stack], ...INTEG_OPTIONS });
const probe = new KeyProbe(stack, 'IntegKeyProbe');
const reports = `${stack.api.url}reports`;

// The keys the reconciler made, without their values.
const listed = integ.assertions.awsApiCall('APIGateway', 'getApiKeys', { nameQuery: 'customer-000', includeValues: false, limit: 500 });
listed.expect(ExpectedResult.objectLike({
  items: Match.arrayWith([Match.objectLike({ name: 'customer-00001', enabled: true })]),
}));
const last = integ.assertions.awsApiCall('APIGateway', 'getApiKeys', { nameQuery: `customer-${String(CLIENTS).padStart(5, '0')}`, includeValues: false });
last.expect(ExpectedResult.objectLike({ items: [Match.objectLike({ name: 'customer-00012', enabled: true })] }));

const noKey = integ.assertions.httpApiCall(reports);
noKey.expect(ExpectedResult.objectLike({ status: 403, body: { message: 'Forbidden' } }));
const withKey = probe.expect(integ, { url: reports, key: { keyName: 'customer-00002' }, requests: 1 }, { succeeded: true, throttled: false });
const burst = probe.expect(integ, { url: reports, key: { keyName: 'customer-00003' }, requests: 40 }, { succeeded: true, throttled: true });

listed.next(last).next(noKey).next(withKey).next(burst);
