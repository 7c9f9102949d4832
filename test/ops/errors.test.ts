import { explainError, OpsError, scrubKeyValues, UsageError } from '../../lib/ops/errors';

const aws = (name: string, message: string, status?: number, attempts?: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts } });

test.each([
  [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 1, /No AWS credentials.*--profile.*AWS_ACCESS_KEY_ID/],
  [new Error('Region is missing'), 2, /--region/],
  [aws('UnrecognizedClientException', 'The security token included in the request is invalid.', 403), 1, /rejected the credentials/],
  [aws('AccessDeniedException', 'User is not authorized', 403), 1, /apigateway:GET/],
  [aws('TooManyRequestsException', 'Too Many Requests', 429, 8), 1, /after 8 attempts.*wait a minute and re-run/],
  [aws('NotFoundException', 'Invalid API Key identifier specified', 404), 2, /keygate keys list.*region eu-west-1/],
  [aws('BadRequestException', 'Invalid patch path', 400), 2, /rejected the request: Invalid patch path/],
  [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }), 1, /Cannot reach API Gateway.*--endpoint/],
])('explainError %#', (err, exitCode, message) => {
  const e = explainError(err, { region: 'eu-west-1' });
  expect(e).toBeInstanceOf(OpsError);
  expect(e.exitCode).toBe(exitCode);
  expect(e.message).toMatch(message);
});

test('OpsErrors pass through', () => {
  const e = new UsageError('bad', ['line 2: x']);
  expect(explainError(e)).toBe(e);
  expect(e.exitCode).toBe(2);
});

test('key values are scrubbed from every explained error', () => {
  const value = 'AbCdEf0123456789AbCdEf0123456789AbCdEf01';
  const e = explainError(aws('BadRequestException', `Invalid API key value ${value} on line 3`, 400));
  expect(e.message).toBe('API Gateway rejected the request: Invalid API key value [value] on line 3');
  const passed = explainError(new OpsError(`failed: ${value}`, { details: [`row ${value}`] }));
  expect(passed.message).toBe('failed: [value]');
  expect(passed.details).toEqual(['row [value]']);
});

test('an ARN is kept whole (a secret name can be 20+ alphanumerics); a known value is cut even inside one', () => {
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:ApiClientsglobexSecret0411421F-al1p2acj3vpj-7h02yz';
  const value = 'AbCdEf0123456789AbCdEf0123456789AbCdEf01';
  expect(scrubKeyValues(`it belongs to the rotation schedule of the secret ${arn}. Rotate with \`--secret-id ${arn}\`, not ${value}`))
    .toBe(`it belongs to the rotation schedule of the secret ${arn}. Rotate with \`--secret-id ${arn}\`, not [value]`);
  expect(scrubKeyValues(`secret arn:aws:secretsmanager:us-east-1:123456789012:secret:${value}-AbCdEf`, [value]))
    .toBe('secret arn:aws:secretsmanager:us-east-1:123456789012:secret:[value]-AbCdEf');
});
