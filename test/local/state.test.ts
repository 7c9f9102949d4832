import * as fs from 'fs';
import * as path from 'path';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, GetUsageCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { startLocalGateway } from '../../lib/local';
import { readState, writeFileAtomic } from '../../lib/local/state';
import { synthPetApp, tmpDir } from './fixtures';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

describe('--state: keys, associations and quota counters survive a restart', () => {
  test('restart with the same state file', async () => {
    const asm = synthPetApp();
    const statePath = path.join(tmpDir('state'), 'sub', 'state.json');
    const now = Date.UTC(2026, 10, 27, 12);
    const start = () => startLocalGateway({ assemblyDir: asm, port: 0, statePath, clock: () => now, log: () => undefined });

    const gw1 = await start();
    const client1 = new APIGatewayClient({ endpoint: gw1.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const created = await client1.send(new CreateApiKeyCommand({ name: 'persisted', enabled: true }));
    const freeId = (await client1.send(new GetUsagePlansCommand({}))).items!.find((p) => p.name === 'free')!.id!;
    await client1.send(new CreateUsagePlanKeyCommand({ usagePlanId: freeId, keyId: created.id, keyType: 'API_KEY' }));
    // The change is on disk before it was acknowledged.
    expect(readState(statePath)!.keys.map((k) => k.id)).toContain(created.id);
    const generatedValues = Object.fromEntries([...gw1.model.keys.values()].map((k) => [k.name, k.value]));
    const url = gw1.info.apis[0].stages[0].url + '/pets';
    for (let i = 0; i < 3; i++) expect((await fetch(url, { headers: { 'x-api-key': created.value! } })).status).toBe(200);
    const templateKey = [...gw1.model.keys.values()].find((k) => k.name === 'known-client')!;
    await client1.send(new DeleteApiKeyCommand({ apiKey: templateKey.id }));
    client1.destroy();
    await gw1.close();

    const gw2 = await start();
    try {
      expect(gw2.info.apis[0].id).toBe(gw1.info.apis[0].id); // stable ids: same URLs after a restart
      const k = gw2.model.keys.get(created.id!);
      expect(k?.value).toBe(created.value);
      expect(gw2.model.keys.has(templateKey.id)).toBe(false); // deleted stays deleted
      // Generated template values (random key value, generated secret) are kept.
      for (const name of ['free-client', 'premium-client']) expect([...gw2.model.keys.values()].find((x) => x.name === name)!.value).toBe(generatedValues[name]);
      const url2 = gw2.info.apis[0].stages[0].url + '/pets';
      // Quota 5/day: 3 used before the restart, 2 left.
      expect((await fetch(url2, { headers: { 'x-api-key': created.value! } })).status).toBe(200);
      expect((await fetch(url2, { headers: { 'x-api-key': created.value! } })).status).toBe(200);
      const over = await fetch(url2, { headers: { 'x-api-key': created.value! } });
      expect(over.status).toBe(429);
      expect(await over.json()).toEqual({ message: 'Limit Exceeded' });
      const client2 = new APIGatewayClient({ endpoint: gw2.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
      const usage = await client2.send(new GetUsageCommand({ usagePlanId: freeId, startDate: '2026-11-27', endDate: '2026-11-27', keyId: created.id }));
      expect(usage.items).toEqual({ [created.id!]: [[5, 0]] });
      client2.destroy();
    } finally {
      await gw2.close();
    }
    // No temp files left behind.
    expect(fs.readdirSync(path.dirname(statePath))).toEqual(['state.json']);
  });

  test('a corrupt state file is refused with a message naming it', async () => {
    const statePath = path.join(tmpDir('state-bad'), 'state.json');
    fs.writeFileSync(statePath, '{"version": 1, "keys": [');
    await expect(startLocalGateway({ assemblyDir: synthPetApp(), port: 0, statePath })).rejects.toThrow(statePath);
  });

  test('writeFileAtomic replaces the file in one step', () => {
    const dir = tmpDir('atomic');
    const file = path.join(dir, 'f.json');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, 'two');
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
    expect(fs.readdirSync(dir)).toEqual(['f.json']);
  });
});
