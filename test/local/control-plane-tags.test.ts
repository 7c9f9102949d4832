import { APIGatewayClient, CreateApiKeyCommand, GetTagsCommand, GetUsagePlansCommand, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-api-gateway';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { synthPetApp } from './fixtures';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

describe('control plane tags (TagResource, UntagResource, GetTags) through the real AWS SDK v3 client', () => {
  let gw: LocalGateway;
  let client: APIGatewayClient;

  beforeAll(async () => {
    gw = await startLocalGateway({ assemblyDir: synthPetApp(), port: 0, clock: () => Date.UTC(2026, 10, 27), log: () => undefined });
    client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await gw.close();
  });

  test('tags an API key, reads them back (in GetTags and GetApiKey), removes some', async () => {
    // GIVEN
    const key = await client.send(new CreateApiKeyCommand({ name: 'tagged', enabled: true }));
    const resourceArn = `arn:aws:apigateway:eu-west-1::/apikeys/${key.id}`;

    // WHEN
    await client.send(new TagResourceCommand({ resourceArn, tags: { team: 'blue', tier: 'gold' } }));
    await client.send(new UntagResourceCommand({ resourceArn, tagKeys: ['tier'] }));

    // THEN
    expect((await client.send(new GetTagsCommand({ resourceArn }))).tags).toEqual({ team: 'blue' });
    expect(gw.model.keys.get(key.id ?? '')?.tags).toEqual({ team: 'blue' });
  });

  test('tags a usage plan; other partitions\' ARNs work too', async () => {
    const plan = (await client.send(new GetUsagePlansCommand({}))).items?.[0];
    const resourceArn = `arn:aws-cn:apigateway:cn-north-1::/usageplans/${plan?.id}`;
    await client.send(new TagResourceCommand({ resourceArn, tags: { cost: 'c1' } }));
    expect((await client.send(new GetTagsCommand({ resourceArn }))).tags).toMatchObject({ cost: 'c1' });
  });

  test.each([
    [{ 'aws:reserved': 'x' }, /Tag keys can't start with aws:/],
    [{ team: 'x'.repeat(257) }, /The value of tag team is longer than 256 characters/],
  ])('refuses bad tags %#', async (tags, message) => {
    const key = await client.send(new CreateApiKeyCommand({ name: 'bad-tags' }));
    await expect(client.send(new TagResourceCommand({ resourceArn: `arn:aws:apigateway:eu-west-1::/apikeys/${key.id}`, tags }))).rejects.toThrow(message);
  });

  test('an unknown key or an ARN of another kind is refused', async () => {
    await expect(client.send(new GetTagsCommand({ resourceArn: 'arn:aws:apigateway:eu-west-1::/apikeys/nope' }))).rejects.toThrow(/Invalid API Key identifier specified|not found/i);
    await expect(client.send(new GetTagsCommand({ resourceArn: 'arn:aws:apigateway:eu-west-1::/restapis/abc' }))).rejects.toThrow(/Invalid resource ARN/);
  });
});
