/** --state keeps what the control plane did to usage plans; a changed template still wins over a saved plan. */
import * as path from 'path';
import {
  APIGatewayClient, CreateUsagePlanCommand, DeleteUsagePlanCommand, GetUsagePlansCommand, UpdateUsagePlanCommand,
} from '@aws-sdk/client-api-gateway';
import { startLocalGateway } from '../../lib/local';
import { synthPetApp, tmpDir } from './fixtures';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

async function plans(statePath: string, asm: string, act?: (c: APIGatewayClient) => Promise<void>) {
  const gw = await startLocalGateway({ assemblyDir: asm, port: 0, statePath, log: () => undefined });
  const client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  try {
    if (act) await act(client);
    return (await client.send(new GetUsagePlansCommand({}))).items ?? [];
  } finally {
    client.destroy();
    await gw.close();
  }
}

describe('--state and usage plans', () => {
  test('GIVEN UpdateUsagePlan, CreateUsagePlan and DeleteUsagePlan WHEN the gateway restarts with the same state THEN the plans are as left', async () => {
    const asm = synthPetApp();
    const statePath = path.join(tmpDir('state-plans'), 'state.json');
    const before = await plans(statePath, asm, async (c) => {
      const all = (await c.send(new GetUsagePlansCommand({}))).items!;
      const free = all.find((p) => p.name === 'free')!;
      const premium = all.find((p) => p.name === 'premium')!;
      await c.send(new UpdateUsagePlanCommand({ usagePlanId: free.id, patchOperations: [{ op: 'replace', path: '/throttle/rateLimit', value: '7' }] }));
      // AWS deletes a plan only once its API stages are removed (issue #19).
      for (const s of premium.apiStages ?? []) {
        await c.send(new UpdateUsagePlanCommand({ usagePlanId: premium.id, patchOperations: [{ op: 'remove', path: '/apiStages', value: `${s.apiId}:${s.stage}` }] }));
      }
      await c.send(new DeleteUsagePlanCommand({ usagePlanId: premium.id }));
      await c.send(new CreateUsagePlanCommand({ name: 'made-by-sdk', quota: { limit: 9, period: 'WEEK', offset: 1 } }));
    });
    const after = await plans(statePath, asm);
    const simple = (ps: typeof before) => ps.map((p) => ({ id: p.id, name: p.name, throttle: p.throttle, quota: p.quota })).sort((a, b) => a.name!.localeCompare(b.name!));
    expect(simple(after)).toEqual(simple(before));
    expect(after.map((p) => p.name).sort()).toEqual(['free', 'made-by-sdk']);
    expect(after.find((p) => p.name === 'free')!.throttle).toEqual({ rateLimit: 7, burstLimit: 3 });
  });

  test('GIVEN a saved plan WHEN the template changes that plan THEN the template wins', async () => {
    const statePath = path.join(tmpDir('state-plans-template'), 'state.json');
    await plans(statePath, synthPetApp(), async (c) => {
      const free = (await c.send(new GetUsagePlansCommand({}))).items!.find((p) => p.name === 'free')!;
      await c.send(new UpdateUsagePlanCommand({ usagePlanId: free.id, patchOperations: [{ op: 'replace', path: '/quota/limit', value: '99' }] }));
    });
    const after = await plans(statePath, synthPetApp({ quota: 12 }));
    expect(after.find((p) => p.name === 'free')!.quota).toEqual({ limit: 12, offset: 0, period: 'DAY' });
  });
});
