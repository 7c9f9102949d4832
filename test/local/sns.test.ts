/** The local SNS slice through the real `@aws-sdk/client-sns` (AWS query protocol), and its request guard. */
import * as http from 'http';
import { ListTopicsCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { LocalSns, MAX_KEPT_MESSAGES } from '../../lib/local/sns/service';
import { synthTopicApp } from './fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ALERTS = 'arn:aws:sns:us-east-1:123456789012:alerts';
let gw: LocalGateway;
let client: SNSClient;
const log: string[] = [];

beforeAll(async () => {
  gw = await startLocalGateway({ assemblyDir: synthTopicApp(), log: (line) => log.push(line) });
  client = new SNSClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await gw.close();
});

/** A raw POST, so the test controls every header. */
function post(headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: '/', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local SNS', () => {
  test('the app\'s topics are there by their ARNs (a Ref of a topic is its ARN)', async () => {
    const topics = (await client.send(new ListTopicsCommand({}))).Topics?.map((t) => t.TopicArn);
    expect(topics).toEqual([ALERTS, 'arn:aws:sns:us-east-1:123456789012:orders.fifo', expect.stringMatching(/^arn:aws:sns:us-east-1:123456789012:TopicStack-Unnamed[0-9A-F]{8}-[0-9A-Z]{12}$/)]);
  });

  test('Publish keeps the message with its subject and attributes, answers its MessageId, and logs the subject, not the body', async () => {
    // WHEN
    const out = await client.send(new PublishCommand({
      TopicArn: ALERTS, Subject: 'key disabled', Message: '{"keyId":"abc"}',
      MessageAttributes: { keyId: { DataType: 'String', StringValue: 'abc' }, count: { DataType: 'Number', StringValue: '3' } },
    }));

    // THEN
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(gw.sns.messages.at(-1)).toEqual({
      messageId: out.MessageId, topicArn: ALERTS, subject: 'key disabled', message: '{"keyId":"abc"}', publishedAt: expect.any(Number),
      attributes: { keyId: { dataType: 'String', value: 'abc' }, count: { dataType: 'Number', value: '3' } },
    });
    expect(log.at(-1)).toBe(`keygate local: SNS alerts got message ${out.MessageId} "key disabled" (15 bytes)`);
  });

  test.each([
    ['an unknown topic', { TopicArn: 'arn:aws:sns:us-east-1:123456789012:nope', Message: 'x' }, 'NotFoundException', /^Topic does not exist$/],
    ['no topic', { Message: 'x' }, 'InvalidParameterException', /TopicArn or TargetArn/],
    ['a malformed topic ARN', { TopicArn: 'alerts', Message: 'x' }, 'InvalidParameterException', /Invalid parameter: TopicArn/],
    ['an empty message', { TopicArn: ALERTS, Message: '' }, 'InvalidParameterException', /Empty message/],
    ['a subject over 100 characters', { TopicArn: ALERTS, Message: 'x', Subject: 's'.repeat(101) }, 'InvalidParameterException', /Invalid parameter: Subject/],
    ['a subject with a line break', { TopicArn: ALERTS, Message: 'x', Subject: 'a\nb' }, 'InvalidParameterException', /Invalid parameter: Subject/],
    ['a message over 256 KiB', { TopicArn: ALERTS, Message: 'x'.repeat(262_145) }, 'InvalidParameterException', /Message too long/],
    ['a JSON message structure without default', { TopicArn: ALERTS, Message: '{"email":"x"}', MessageStructure: 'json' }, 'InvalidParameterException', /No default entry/],
    ['a FIFO topic without a group id', { TopicArn: 'arn:aws:sns:us-east-1:123456789012:orders.fifo', Message: 'x' }, 'InvalidParameterException', /MessageGroupId/],
    ['a Number attribute that is not a number', { TopicArn: ALERTS, Message: 'x', MessageAttributes: { n: { DataType: 'Number', StringValue: 'many' } } }, 'InvalidParameterValueException', /Could not cast message attribute 'n'/],
  ])('Publish with %s fails as SNS does, and keeps nothing', async (_what, input, name, message) => {
    const before = gw.sns.publishedCount;
    const err = await client.send(new PublishCommand(input)).catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ name });
    expect((err as Error).message).toMatch(message);
    expect(gw.sns.publishedCount).toBe(before);
  });

  test('an unknown action is refused', async () => {
    const signed = `AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(64)}`;
    const res = await post({ host: `127.0.0.1:${gw.port}`, authorization: signed, 'content-type': 'application/x-www-form-urlencoded' }, 'Action=DeleteTopic&Version=2010-03-31&TopicArn=' + ALERTS);
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/<Code>InvalidAction<\/Code>/);
  });

  test('keeps only the newest messages', () => {
    const local = new LocalSns([{ arn: ALERTS, name: 'alerts', fifo: false }], { clock: () => 0 });
    const body = (n: number) => Buffer.from(`Action=Publish&Version=2010-03-31&TopicArn=${encodeURIComponent(ALERTS)}&Message=m${n}`);
    for (let n = 1; n <= MAX_KEPT_MESSAGES + 5; n++) expect(local.handle({ body: body(n) }).status).toBe(200);
    expect(local.messages).toHaveLength(MAX_KEPT_MESSAGES);
    expect(local.messages[0].message).toBe('m6');
    expect(local.publishedCount).toBe(MAX_KEPT_MESSAGES + 5);
  });

  describe('the request guard', () => {
    const form = `Action=Publish&Version=2010-03-31&TopicArn=${encodeURIComponent(ALERTS)}&Message=planted`;
    const signed = `AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=${'a'.repeat(64)}`;

    test.each([
      ['unsigned', {}, /Missing Authentication Token/],
      ['a cross-site form POST', { authorization: signed, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, /cross-site/],
      ['a foreign Host (DNS rebinding)', { authorization: signed, host: 'evil.example' }, /loopback Host/],
    ])('refuses %s with 403 and publishes nothing', async (_what, headers, message) => {
      const before = gw.sns.publishedCount;
      const res = await post({ host: `127.0.0.1:${gw.port}`, 'content-type': 'application/x-www-form-urlencoded', ...headers }, form);
      expect(res.status).toBe(403);
      expect(res.body).toMatch(message);
      expect(gw.sns.publishedCount).toBe(before);
    });
  });
});
