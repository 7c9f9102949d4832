import { renderAccessLogLine } from '../../lib/local/apigateway/data-plane/access-log';
import { KeygateAccessLogFormat } from '../../lib';

describe('access-log lines of the local gateway', () => {
  test('each $context variable becomes its value; one without a value becomes -, as API Gateway writes it', () => {
    const line = renderAccessLogLine('{"id":"$context.requestId","key":"$context.identity.apiKeyId","type":"$context.error.responseType","q":$context.error.messageString,"e":"$context.error.message"}', {
      requestId: 'r1', identity: { sourceIp: '127.0.0.1' }, error: { message: 'Forbidden', messageString: '"Forbidden"', responseType: '' },
    });
    expect(line).toBe('{"id":"r1","key":"-","type":"-","q":"Forbidden","e":"Forbidden"}');
  });

  test('keygate\'s format gives JSON for a successful request and for a rejected one', () => {
    const format = KeygateAccessLogFormat.json().toString();
    const ok = JSON.parse(renderAccessLogLine(format, { requestId: 'r1', apiId: 'a1', stage: 'prod', status: 200, identity: { apiKeyId: 'k1' } }));
    expect(ok).toMatchObject({ requestId: 'r1', apiId: 'a1', stage: 'prod', status: '200', apiKeyId: 'k1', errorResponseType: '-', errorMessage: '-' });
    const rejected = JSON.parse(renderAccessLogLine(format, { status: 429, error: { message: 'Limit Exceeded', responseType: 'QUOTA_EXCEEDED' } }));
    expect(rejected).toMatchObject({ status: '429', errorResponseType: 'QUOTA_EXCEEDED', errorMessage: 'Limit Exceeded', apiKeyId: '-' });
  });
});
