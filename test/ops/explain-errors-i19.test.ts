/** Issue #19 item 13: explainError names the operation and status, TLS mismatches, and keeps logical ids. */
import { ApiKey } from '@aws-sdk/client-api-gateway';
import { GetUsageCommand } from '@aws-sdk/client-api-gateway';
import { createClients } from '../../lib/ops/client';
import { explainError } from '../../lib/ops/errors';
import { refuseManagedChange } from '../../lib/ops/keys';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

test('a GetUsage 404 names the HTTP status and the operation', async () => {
  const c = createClients({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
  // The real client stack runs (the operation is named by a middleware); only the HTTP answer is scripted.
  c.apigw.config.requestHandler = {
    handle: async () => ({ response: { statusCode: 404, headers: { 'x-amzn-errortype': 'NotFoundException', 'content-type': 'application/json' }, body: Buffer.from('{"message":"Invalid Usage Plan ID specified"}') } }),
    updateHttpClientConfig: () => undefined, httpHandlerConfigs: () => ({}),
  } as never;
  const err = await c.apigw.send(new GetUsageCommand({ usagePlanId: 'nope', startDate: '2026-12-01', endDate: '2026-12-02' })).catch((e: unknown) => e);
  c.destroy();
  expect(explainError(err, { endpoint: 'http://127.0.0.1:9' }).message).toMatch(/^Not found \(HTTP 404 from GetUsage\): Invalid Usage Plan ID specified\./);
});

test('https:// against a plain-HTTP endpoint says to use http://, not a raw OpenSSL error', () => {
  const ssl = Object.assign(new Error('write EPROTO 40E8C3F1:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), { code: 'EPROTO' });
  const e = explainError(ssl, { endpoint: 'https://127.0.0.1:4566' });
  expect(e.exitCode).toBe(2);
  expect(e.message).toBe('--endpoint https://127.0.0.1:4566 uses https://, but the server there does not speak TLS (the local gateway serves plain HTTP): use http://127.0.0.1:4566.');
});

test('the managed-key refusal keeps the logical id (no "[value]"), and still cuts values', () => {
  const key: ApiKey = { id: 'k1', name: 'acme', tags: { 'aws:cloudformation:stack-name': 'PetStore', 'aws:cloudformation:logical-id': 'PetStoreApiAcmeKeyF2D4A1B7C9E0' } };
  let err: unknown;
  try { refuseManagedChange(key, 'disabling', {}); } catch (e) { err = e; }
  const message = explainError(err).message;
  expect(message).toMatch(/\(logical id PetStoreApiAcmeKeyF2D4A1B7C9E0\)/);
  expect(message).not.toMatch(/\[value\]/);
  expect(explainError(new Error('bad key Abcdefghij0123456789XYZ')).message).toBe('bad key [value]');
});
