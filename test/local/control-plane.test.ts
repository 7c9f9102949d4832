import {
  APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, DeleteUsagePlanKeyCommand,
  GetApiKeyCommand, GetApiKeysCommand, GetRestApisCommand, GetStagesCommand, GetUsageCommand, GetUsagePlanCommand,
  GetUsagePlanKeysCommand, GetUsagePlansCommand, ImportApiKeysCommand, UpdateApiKeyCommand, paginateGetApiKeys,
} from '@aws-sdk/client-api-gateway';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { KNOWN_KEY, synthPetApp } from './fixtures';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

describe('control plane through the real AWS SDK v3 client', () => {
  let gw: LocalGateway;
  let client: APIGatewayClient;
  let now: number;

  beforeAll(async () => {
    now = Date.UTC(2026, 10, 27, 12, 0, 0);
    gw = await startLocalGateway({ assemblyDir: synthPetApp(), port: 0, clock: () => now, log: () => undefined });
    client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await gw.close();
  });

  const plan = async (name: string): Promise<string> => {
    const plans = await client.send(new GetUsagePlansCommand({}));
    const p = plans.items?.find((x) => x.name === name);
    if (!p?.id) throw new Error(`no plan ${name}`);
    return p.id;
  };

  test('GetRestApis and GetStages describe the app with CloudFormation tags', async () => {
    const apis = await client.send(new GetRestApisCommand({}));
    expect(apis.items).toHaveLength(1);
    const api = apis.items![0];
    expect(api.id).toMatch(/^[a-z0-9]{10}$/);
    expect(api.name).toBe('pets');
    expect(api.tags?.['aws:cloudformation:stack-name']).toBe('PetStack');
    expect(api.tags?.['aws:cloudformation:logical-id']).toMatch(/^Api/);
    expect(api.tags?.['aws:cloudformation:stack-id']).toMatch(/^arn:aws:cloudformation:us-east-1:\d{12}:stack\/PetStack\//);
    const stages = await client.send(new GetStagesCommand({ restApiId: api.id }));
    expect(stages.item?.map((s) => s.stageName)).toEqual(['v1']);
  });

  test('GetUsagePlans / GetUsagePlan return throttle, quota and per-method throttles', async () => {
    const free = await client.send(new GetUsagePlanCommand({ usagePlanId: await plan('free') }));
    expect(free.throttle).toEqual({ rateLimit: 2, burstLimit: 3 });
    expect(free.quota).toEqual({ limit: 5, offset: 0, period: 'DAY' });
    expect(free.apiStages?.[0].throttle).toEqual({ '/pets/POST': { rateLimit: 1, burstLimit: 1 } });
    const paged = await client.send(new GetUsagePlansCommand({ limit: 1 }));
    expect(paged.items).toHaveLength(1);
    expect(paged.position).toBeDefined();
    const rest = await client.send(new GetUsagePlansCommand({ limit: 1, position: paged.position }));
    expect(rest.items?.[0].id).not.toBe(paged.items?.[0].id);
    expect(rest.position).toBeUndefined();
  });

  test('create a key, associate it, call the API with it, disable it → 403, GetUsage shows the calls', async () => {
    const created = await client.send(new CreateApiKeyCommand({ name: 'sdk-client', enabled: true, description: 'made by the SDK' }));
    expect(created.id).toMatch(/^[a-z0-9]{10}$/);
    expect(created.value).toMatch(/^[A-Za-z0-9]{40}$/);
    const freeId = await plan('free');
    const url = gw.info.apis[0].stages[0].url + '/pets';
    // Not yet in a plan for the stage: 403.
    expect((await fetch(url, { headers: { 'x-api-key': created.value! } })).status).toBe(403);
    const pk = await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: freeId, keyId: created.id, keyType: 'API_KEY' }));
    expect(pk).toMatchObject({ id: created.id, type: 'API_KEY', name: 'sdk-client' });
    for (let i = 0; i < 2; i++) expect((await fetch(url, { headers: { 'x-api-key': created.value! } })).status).toBe(200);
    await client.send(new UpdateApiKeyCommand({ apiKey: created.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
    expect((await fetch(url, { headers: { 'x-api-key': created.value! } })).status).toBe(403);
    const usage = await client.send(new GetUsageCommand({ usagePlanId: freeId, startDate: '2026-11-26', endDate: '2026-11-27', keyId: created.id }));
    expect(usage.items).toEqual({ [created.id!]: [[0, 5], [2, 3]] });
    const plansOfKey = await client.send(new GetUsagePlansCommand({ keyId: created.id }));
    expect(plansOfKey.items?.map((p) => p.name)).toEqual(['free']);
    await client.send(new DeleteUsagePlanKeyCommand({ usagePlanId: freeId, keyId: created.id }));
    expect((await client.send(new GetUsagePlanKeysCommand({ usagePlanId: freeId }))).items?.map((k) => k.id)).not.toContain(created.id);
  });

  test('errors come back as the SDK\'s typed exceptions', async () => {
    await expect(client.send(new GetApiKeyCommand({ apiKey: 'doesnotexist' }))).rejects.toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
    await expect(client.send(new CreateApiKeyCommand({ name: 'dup', value: KNOWN_KEY }))).rejects.toMatchObject({ name: 'ConflictException', message: 'API Key already exists' });
    await expect(client.send(new CreateApiKeyCommand({ name: 'short', value: 'tooShort' }))).rejects.toMatchObject({ name: 'BadRequestException' });
    const premium = await plan('premium');
    const known = [...gw.model.keys.values()].find((k) => k.value === KNOWN_KEY)!;
    await expect(client.send(new CreateUsagePlanKeyCommand({ usagePlanId: premium, keyId: known.id, keyType: 'API_KEY' }))).rejects.toMatchObject({ name: 'ConflictException' });
    // One plan per API stage per key.
    await expect(client.send(new CreateUsagePlanKeyCommand({ usagePlanId: await plan('free'), keyId: known.id, keyType: 'API_KEY' })))
      .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('multiple Usage Plans with the same API Stage') });
    await expect(client.send(new GetUsageCommand({ usagePlanId: premium, startDate: 'yesterday', endDate: '2026-11-27' }))).rejects.toMatchObject({ name: 'BadRequestException' });
    await expect(client.send(new UpdateApiKeyCommand({ apiKey: known.id, patchOperations: [{ op: 'replace', path: '/value', value: 'x' }] }))).rejects.toMatchObject({ name: 'BadRequestException' });
  });

  test('GetApiKeys: values only with includeValues, nameQuery, paging with the SDK paginator', async () => {
    for (let i = 0; i < 7; i++) await client.send(new CreateApiKeyCommand({ name: `batch-${i}`, enabled: true }));
    const withoutValues = await client.send(new GetApiKeysCommand({ nameQuery: 'batch-' }));
    expect(withoutValues.items).toHaveLength(7);
    expect(withoutValues.items?.every((k) => k.value === undefined)).toBe(true);
    const withValues = await client.send(new GetApiKeysCommand({ nameQuery: 'batch-', includeValues: true }));
    expect(withValues.items?.every((k) => /^[A-Za-z0-9]{40}$/.test(k.value ?? ''))).toBe(true);
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateGetApiKeys({ client, pageSize: 3 }, { nameQuery: 'batch-' })) {
      pages++;
      names.push(...(page.items ?? []).map((k) => k.name ?? ''));
    }
    expect(pages).toBe(3);
    expect(names.sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `batch-${i}`));
    const one = await client.send(new GetApiKeyCommand({ apiKey: withValues.items![0].id, includeValue: true }));
    expect(one.value).toBe(withValues.items![0].value);
    await client.send(new DeleteApiKeyCommand({ apiKey: one.id }));
    await expect(client.send(new GetApiKeyCommand({ apiKey: one.id }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  test('ImportApiKeys (CSV): creates, overwrites by value, associates plans; failonwarnings rejects bad rows', async () => {
    const premium = await plan('premium');
    const csv = `name,KEY,Description,enabled,UsagePlanIds,extra\nimp-a,importAAAAAAAAAAAAAAAAAAAAAAA1,first,TRUE,"${premium}",x\nimp-b,importBBBBBBBBBBBBBBBBBBBBBBB2,,false,,y\n`;
    const res = await client.send(new ImportApiKeysCommand({ format: 'csv', body: Buffer.from(csv), failOnWarnings: true }));
    expect(res.ids).toHaveLength(2);
    const a = await client.send(new GetApiKeyCommand({ apiKey: res.ids![0], includeValue: true }));
    expect(a).toMatchObject({ name: 'imp-a', description: 'first', enabled: true, value: 'importAAAAAAAAAAAAAAAAAAAAAAA1' });
    const b = await client.send(new GetApiKeyCommand({ apiKey: res.ids![1] }));
    expect(b.enabled).toBe(false);
    const url = gw.info.apis[0].stages[0].url + '/pets';
    expect((await fetch(url, { headers: { 'x-api-key': 'importAAAAAAAAAAAAAAAAAAAAAAA1' } })).status).toBe(200);
    // Same value again overwrites the same key.
    const again = await client.send(new ImportApiKeysCommand({ format: 'csv', body: Buffer.from('Key,Name\nimportAAAAAAAAAAAAAAAAAAAAAAA1,renamed\n') }));
    expect(again.ids).toEqual([res.ids![0]]);
    expect((await client.send(new GetApiKeyCommand({ apiKey: res.ids![0] }))).name).toBe('renamed');
    await expect(client.send(new ImportApiKeysCommand({ format: 'csv', body: Buffer.from('Key,Name\nshort,x\n'), failOnWarnings: true })))
      .rejects.toMatchObject({ name: 'BadRequestException' });
    const lenient = await client.send(new ImportApiKeysCommand({ format: 'csv', body: Buffer.from('Key,Name\nshort,x\nimportCCCCCCCCCCCCCCCCCCCCCCC3,c\n') }));
    expect(lenient.ids).toHaveLength(1);
    expect(lenient.warnings?.[0]).toMatch(/Line 2/);
    await expect(client.send(new ImportApiKeysCommand({ format: 'csv', body: Buffer.from('Name\nx\n') }))).rejects.toMatchObject({ name: 'BadRequestException' });
  });
});

describe('control-plane limits (opt-in)', () => {
  test('CreateApiKey beyond 5/s → 429 TooManyRequestsException; parallel CreateUsagePlanKey → 409 concurrent modification', async () => {
    let now = Date.UTC(2026, 10, 27, 12);
    const gw = await startLocalGateway({ assemblyDir: synthPetApp(), port: 0, clock: () => now, log: () => undefined, controlPlaneLimits: true });
    const client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await client.send(new CreateApiKeyCommand({ name: `k${i}`, enabled: true }))).id!);
      await expect(client.send(new CreateApiKeyCommand({ name: 'one-too-many' }))).rejects.toMatchObject({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
      now += 200; // one token back
      ids.push((await client.send(new CreateApiKeyCommand({ name: 'k5', enabled: true }))).id!);
      const planId = (await client.send(new GetUsagePlansCommand({}))).items!.find((p) => p.name === 'premium')!.id!;
      await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: ids[0], keyType: 'API_KEY' }));
      await expect(client.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: ids[1], keyType: 'API_KEY' })))
        .rejects.toMatchObject({ name: 'ConflictException', message: expect.stringContaining('concurrent modification') });
      now += 100;
      await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: ids[1], keyType: 'API_KEY' }));
    } finally {
      client.destroy();
      await gw.close();
    }
  });
});
