/**
 * The local SNS delivers to a topic's subscriptions: a loopback HTTP endpoint gets a signed
 * SubscriptionConfirmation first and notifications once its SubscribeURL was fetched; email and
 * SMS are printed on one line; a Lambda subscription is invoked with SNS's event; a non-loopback
 * endpoint gets nothing. Through the real @aws-sdk/client-sns and HTTP.
 */
import { verify, X509Certificate } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { ListSubscriptionsByTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { stringToSign } from '../../lib/local/sns/signing';
import { tmpDir } from './fixtures';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };

interface Received { headers: http.IncomingHttpHeaders; body: Record<string, unknown> }

function synthAlertsApp(httpEndpoint: string): string {
  const outdir = tmpDir('sns-delivery');
  const app = new App({ outdir });
  const stack = new Stack(app, 'AlertsStack');
  const topic = new sns.Topic(stack, 'Alerts', { topicName: 'alerts' });
  topic.addSubscription(new subs.UrlSubscription(httpEndpoint, { protocol: sns.SubscriptionProtocol.HTTP }));
  topic.addSubscription(new subs.UrlSubscription('http://192.0.2.10/hook', { protocol: sns.SubscriptionProtocol.HTTP }));
  topic.addSubscription(new subs.EmailSubscription('ops@example.com'));
  topic.addSubscription(new subs.SmsSubscription('+15555550100'));
  const fn = new lambda.Function(stack, 'OnAlert', {
    runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async (event) => { console.log("got " + JSON.stringify(event.Records[0].Sns)); return {}; };'),
  });
  topic.addSubscription(new subs.LambdaSubscription(fn));
  app.synth();
  return outdir;
}

describe('SNS delivery', () => {
  const received: Received[] = [];
  let server: http.Server;
  let endpoint: string;
  let gw: LocalGateway;
  const lines: string[] = [];
  let client: SNSClient;
  const topicArn = 'arn:aws:sns:us-east-1:123456789012:alerts';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    gw = await startLocalGateway({ assemblyDir: synthAlertsApp(endpoint), port: 0, log: (l) => lines.push(l) });
    client = new SNSClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials });
    await gw.sns.subscriptions?.idle();
  }, 120_000);
  afterAll(async () => {
    await gw.close();
    await new Promise((resolve) => server.close(resolve));
  });

  async function verified(envelope: Record<string, unknown>): Promise<boolean> {
    const cert = new X509Certificate(await (await fetch(String(envelope.SigningCertURL))).text());
    return verify('sha1', Buffer.from(stringToSign(envelope as Record<string, string>)), cert.publicKey, Buffer.from(String(envelope.Signature), 'base64'));
  }

  test('the template\'s HTTP subscription gets a signed SubscriptionConfirmation at start, and nothing else until confirmed', async () => {
    expect(received).toHaveLength(1);
    const [c] = received;
    expect(c.headers['x-amz-sns-message-type']).toBe('SubscriptionConfirmation');
    expect(c.headers['x-amz-sns-topic-arn']).toBe(topicArn);
    expect(c.body).toMatchObject({ Type: 'SubscriptionConfirmation', TopicArn: topicArn, SignatureVersion: '1', Token: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await verified(c.body)).toBe(true);
    expect(lines).toContain('keygate local: SNS http subscription http://192.0.2.10/hook NOT confirmed: keygate local delivers to loopback addresses only');

    await client.send(new PublishCommand({ TopicArn: topicArn, Message: 'before confirmation' }));
    await gw.sns.subscriptions?.idle();
    expect(received).toHaveLength(1);

    // A wrong token confirms nothing; the SubscribeURL does.
    expect((await fetch(String(c.body.SubscribeURL).replace(/Token=[0-9a-f]+/, 'Token=00'))).status).toBe(404);
    const confirm = await fetch(String(c.body.SubscribeURL));
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('<SubscriptionArn>arn:aws:sns:us-east-1:123456789012:alerts:');
    const listed = await client.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    expect(listed.Subscriptions?.map((s) => [s.Protocol, s.Endpoint, s.SubscriptionArn === 'PendingConfirmation'])).toEqual(expect.arrayContaining([
      ['http', endpoint, false], ['http', 'http://192.0.2.10/hook', true], ['email', 'ops@example.com', false], ['sms', '+15555550100', false],
    ]));
  });

  test('a publish reaches every confirmed subscription: the HTTP envelope, the printed mail and SMS, the Lambda; never the remote address', async () => {
    received.length = 0;
    const out = await client.send(new PublishCommand({
      TopicArn: topicArn, Subject: 'Disk full', Message: 'volume /data at 95 %',
      MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
    }));
    await gw.sns.subscriptions?.idle();

    expect(received).toHaveLength(1);
    const n = received[0];
    expect(n.headers).toMatchObject({
      'x-amz-sns-message-type': 'Notification', 'x-amz-sns-message-id': out.MessageId, 'x-amz-sns-topic-arn': topicArn,
      'x-amz-sns-subscription-arn': expect.stringMatching(/^arn:aws:sns:us-east-1:123456789012:alerts:[0-9a-f-]{36}$/),
      'content-type': 'text/plain; charset=UTF-8',
    });
    expect(n.body).toMatchObject({
      Type: 'Notification', MessageId: out.MessageId, TopicArn: topicArn, Subject: 'Disk full', Message: 'volume /data at 95 %', SignatureVersion: '1',
      Timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), MessageAttributes: { severity: { Type: 'String', Value: 'high' } },
    });
    expect(await verified(n.body)).toBe(true);
    expect(await verified({ ...n.body, Subject: 'Disk empty' })).toBe(false);

    expect(lines).toContain('keygate local: SNS email to ops@example.com: "Disk full" volume /data at 95 %');
    expect(lines).toContain('keygate local: SNS sms to +15555550100: "Disk full" volume /data at 95 %');
    expect(lines).toContain(`keygate local: SNS message ${out.MessageId} NOT delivered to http http://192.0.2.10/hook: not a loopback address`);
    const lambdaLine = lines.find((l) => l.includes('got {') && l.includes(out.MessageId!));
    expect(JSON.parse(lambdaLine!.slice(lambdaLine!.indexOf('got ') + 4))).toMatchObject({ Type: 'Notification', Subject: 'Disk full', MessageAttributes: { severity: { Type: 'String', Value: 'high' } } });
    const kinds = gw.sns.subscriptions!.deliveries.filter((d) => d.messageId === out.MessageId).map((d) => [d.protocol, d.delivered]);
    expect(kinds).toEqual(expect.arrayContaining([['http', true], ['email', true], ['sms', true], ['lambda', true], ['http', false]]));
  }, 60_000);

  test('a JSON message structure: each protocol gets its own text, the rest the default', async () => {
    received.length = 0;
    await client.send(new PublishCommand({ TopicArn: topicArn, MessageStructure: 'json', Message: JSON.stringify({ default: '{"level":"high"}', email: 'Hello, a human', sms: 'short' }) }));
    await gw.sns.subscriptions?.idle();
    expect(received.map((r) => r.body.Message)).toEqual(['{"level":"high"}']);
    expect(lines).toContain('keygate local: SNS email to ops@example.com: Hello, a human');
    expect(lines).toContain('keygate local: SNS sms to +15555550100: short');
  }, 60_000);

  test('a long mail is clipped on the terminal, whole on the dashboard', async () => {
    const body = `${'line of an alarm mail '.repeat(40)}END`;
    const out = await client.send(new PublishCommand({ TopicArn: topicArn, Subject: 'Long', Message: body }));
    await gw.sns.subscriptions?.idle();
    const printed = lines.find((l) => l.startsWith('keygate local: SNS email to ops@example.com: "Long" '))!;
    expect(printed).toMatch(/… \(\d+ more characters: the whole message is on the dashboard\)$/);
    expect(printed).not.toContain('END');
    const mail = gw.sns.subscriptions!.deliveries.find((d) => d.messageId === out.MessageId && d.protocol === 'email');
    expect(mail?.message).toBe(body);
  }, 60_000);

  test('Subscribe through the SDK: a new loopback endpoint is confirmed by its SubscribeURL; UnsubscribeURL ends it', async () => {
    received.length = 0;
    const second = `${endpoint}/second`;
    expect((await client.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: second }))).SubscriptionArn).toBe('pending confirmation');
    await gw.sns.subscriptions?.idle();
    expect(received.map((r) => r.body.Type)).toEqual(['SubscriptionConfirmation']);
    await fetch(String(received[0].body.SubscribeURL));
    received.length = 0;
    await client.send(new PublishCommand({ TopicArn: topicArn, Message: 'two endpoints' }));
    await gw.sns.subscriptions?.idle();
    expect(received.map((r) => r.headers['x-amz-sns-subscription-arn'])).toHaveLength(2);
    expect((await fetch(String(received[0].body.UnsubscribeURL))).status).toBe(200);
    received.length = 0;
    await client.send(new PublishCommand({ TopicArn: topicArn, Message: 'one endpoint' }));
    await gw.sns.subscriptions?.idle();
    expect(received).toHaveLength(1);
  }, 60_000);
});
