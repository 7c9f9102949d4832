import { importKeys, parseKeyFile, toKeyFileCsv } from '../../lib/sdk/import-keys';
import { FakeApiGateway, newClients } from './fake-apigw';

const V = (n: number) => `Value${String(n).padStart(3, '0')}abcdefghijklmnopq`; // 25 alphanumerics

let fake: FakeApiGateway;
beforeEach(() => {
  fake = new FakeApiGateway();
  fake.addPlan({ id: 'pfree', name: 'free', apiStages: [{ apiId: 'api1', stage: 'prod' }] });
  fake.addPlan({ id: 'pbasic', name: 'basic', apiStages: [{ apiId: 'api1', stage: 'prod' }] });
  fake.addPlan({ id: 'pbeta', name: 'beta', apiStages: [{ apiId: 'api2', stage: 'prod' }] });
  fake.addKey({ id: 'existing01', name: 'existing', value: 'ExistingValue1234567890' }, ['pfree']);
});
afterEach(() => fake.restore());

async function importErrors(csv: string, plans: string[] = []): Promise<{ message: string; details: readonly string[]; exitCode: number }> {
  const before = fake.keys.size;
  const err = await importKeys(newClients().apigw, csv, { plans }).then(() => undefined, (e: unknown) => e) as { message: string; details: readonly string[]; exitCode: number };
  expect(err).toBeDefined();
  expect(err.exitCode).toBe(2);
  expect(fake.keys.size).toBe(before); // nothing imported
  expect(fake.calls).not.toContain('ImportApiKeys');
  return err;
}

describe('parseKeyFile', () => {
  test('headers are case-insensitive, in any order, unknown columns ignored, quoted plan lists split', () => {
    const f = parseKeyFile(`key,NAME,extra,usageplanIds,Enabled\n${V(1)},a,x,"pfree,pbeta",false\n\n${V(2)},b,y,'pbeta',TRUE\n`);
    expect(f.errors).toEqual([]);
    expect(f.rows).toEqual([
      { line: 2, name: 'a', key: V(1), description: '', enabled: 'false', plans: ['pfree', 'pbeta'] },
      { line: 4, name: 'b', key: V(2), description: '', enabled: 'TRUE', plans: ['pbeta'] },
    ]);
  });

  test('round-trips through toKeyFileCsv', () => {
    const csv = toKeyFileCsv([{ line: 2, name: 'a, "quoted"', key: V(1), description: 'd', enabled: false, planIds: ['p1', 'p2'], alreadyPresent: false }]);
    expect(parseKeyFile(csv).rows[0]).toMatchObject({ name: 'a, "quoted"', enabled: 'FALSE', plans: ['p1', 'p2'] });
  });
});

describe('keys import validation (nothing written on any error, exit 2, line named)', () => {
  test('missing required column', async () => {
    const e = await importErrors(`Name,Description\na,b\n`);
    expect(e.details).toEqual([expect.stringMatching(/^line 1: missing required column Key/)]);
  });

  test('value too short', async () => {
    const e = await importErrors(`Name,Key\nok,${V(1)}\nshort,abc123\n`);
    expect(e.details).toEqual(['line 3: Key of "short" is 6 characters long (must be 20 to 128)']);
  });

  test('value too long', async () => {
    const e = await importErrors(`Name,Key\nlong,${'a'.repeat(129)}\n`);
    expect(e.details[0]).toMatch(/^line 2: .*129 characters long/);
  });

  test('value not alphanumeric', async () => {
    const e = await importErrors(`Name,Key\nok,${V(1)}\nbad,${V(2)}-x\n`);
    expect(e.details).toEqual(['line 3: Key of "bad" has characters other than letters and digits (must be alphanumeric)']);
  });

  test('duplicate name in the file', async () => {
    const e = await importErrors(`Name,Key\na,${V(1)}\nb,${V(2)}\na,${V(3)}\n`);
    expect(e.details).toEqual(['line 4: duplicate Name "a" (also on line 2)']);
  });

  test('duplicate value in the file', async () => {
    const e = await importErrors(`Name,Key\na,${V(1)}\nb,${V(1)}\n`);
    expect(e.details).toEqual(['line 3: duplicate Key value for "b" (same value as line 2)']);
  });

  test('value of an existing key (would overwrite it)', async () => {
    const e = await importErrors(`Name,Key\nnewname,ExistingValue1234567890\n`);
    expect(e.details[0]).toMatch(/^line 2: Key value of "newname" already belongs to the existing key "existing" \(existing01\)/);
  });

  test('name of an existing key', async () => {
    const e = await importErrors(`Name,Key\nexisting,${V(1)}\n`);
    expect(e.details[0]).toMatch(/^line 2: a key named "existing" already exists/);
  });

  test('unknown plan', async () => {
    const e = await importErrors(`Name,Key,UsagePlanIds\na,${V(1)},pfree\nb,${V(2)},nosuchplan\n`);
    expect(e.details).toEqual(['line 3: unknown usage plan "nosuchplan"']);
  });

  test('two plans covering the same stage', async () => {
    const e = await importErrors(`Name,Key,UsagePlanIds\na,${V(1)},"pfree,pbeta"\nb,${V(2)},"pfree,pbasic"\n`);
    expect(e.details).toEqual(['line 3: plans "free" and "basic" both cover the API stage api1/prod; a key may be in only one plan per stage']);
  });

  test('--plan conflicting with a row\'s plan is reported on that row', async () => {
    const e = await importErrors(`Name,Key,UsagePlanIds\na,${V(1)},pbeta\nb,${V(2)},basic\n`, ['free']);
    expect(e.details).toEqual([expect.stringMatching(/^line 3: plans "basic" and "free" both cover/)]);
  });

  test('bad Enabled value', async () => {
    const e = await importErrors(`Name,Key,Enabled\na,${V(1)},maybe\n`);
    expect(e.details).toEqual(['line 2: Enabled must be TRUE or FALSE, not "maybe"']);
  });

  test('malformed CSV names the line', async () => {
    const e = await importErrors(`Name,Key\na,${V(1)}\n"b,${V(2)}\n`);
    expect(e.details[0]).toMatch(/^line \d+: not valid CSV/);
  });

  test('a short row: empty Key', async () => {
    const e = await importErrors(`Name,Key,Description\na,${V(1)},x\nb\n`);
    expect(e.details).toEqual(['line 3: Key is empty']);
  });

  test('header only', async () => {
    const e = await importErrors(`Name,Key\n`);
    expect(e.details).toEqual(['line 1: the file has a header but no keys']);
  });

  test('reports every problem at once, sorted by line', async () => {
    const e = await importErrors(`Name,Key\na,short\nb,${V(1)}\nb,${V(1)}\n`);
    expect(e.details.map((d) => d.split(':')[0])).toEqual(['line 2', 'line 4', 'line 4']);
    expect(e.message).toMatch(/3 problems; nothing was imported/);
  });

  test('unknown --plan is a usage error', async () => {
    await expect(importKeys(newClients().apigw, `Name,Key\na,${V(1)}\n`, { plans: ['gold'] })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/Usage plan "gold" not found/) });
  });
});

describe('keys import', () => {
  test('imports in batches with failOnWarnings, resolving plan names to ids, with progress', async () => {
    const rows = Array.from({ length: 7 }, (_, i) => `k${i},${V(i)},desc ${i},TRUE,${i % 2 ? 'beta' : ''}`);
    const progress: number[] = [];
    const r = await importKeys(newClients().apigw, `Name,Key,Description,Enabled,UsagePlanIds\n${rows.join('\n')}\n`, {
      plans: ['free'], batchSize: 3, onProgress: (done) => progress.push(done),
    });
    expect(r.imported.map((x) => x.line)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(progress).toEqual([3, 6, 7]);
    const calls = fake.apigwMock.commandCalls(jest.requireActual('@aws-sdk/client-api-gateway').ImportApiKeysCommand);
    expect(calls).toHaveLength(3);
    for (const c of calls) expect(c.args[0].input).toMatchObject({ format: 'csv', failOnWarnings: true });
    const k1 = [...fake.keys.values()].find((k) => k.name === 'k1');
    expect(fake.plansOf(k1?.id ?? '')).toEqual(['pbeta', 'pfree']);
  });

  test('--dry-run validates against the account and writes nothing', async () => {
    const r = await importKeys(newClients().apigw, `Name,Key\na,${V(1)}\n`, { dryRun: true, plans: ['pbeta'] });
    expect(r.planned).toEqual([{ line: 2, name: 'a', planIds: ['pbeta'], planNames: ['beta'] }]);
    expect(fake.calls).not.toContain('ImportApiKeys');
  });

  test('a failing batch stops the import and says how many went in; the re-run imports the rest', async () => {
    const csv = `Name,Key\n${Array.from({ length: 5 }, (_, i) => `k${i},${V(i)}`).join('\n')}\n`;
    fake.calls.length = 0;
    // first batch ok, second fails
    let n = 0;
    fake.apigwMock.on(jest.requireActual('@aws-sdk/client-api-gateway').ImportApiKeysCommand).callsFake((input: { body: Uint8Array }) => {
      n++;
      if (n === 2) throw Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
      const { parseKeyFile: parse } = jest.requireActual('../../lib/sdk/import-keys');
      const ids = (parse(new TextDecoder().decode(input.body)).rows as { name: string; key: string }[]).map((row) => fake.addKey({ name: row.name, value: row.key }).id);
      return { ids };
    });
    const err = await importKeys(newClients().apigw, csv, { batchSize: 2 }).catch((e: unknown) => e) as { exitCode: number; message: string };
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/lines 4–5.*2 of 5 keys were imported before; re-run/);
    const r = await importKeys(newClients().apigw, csv, { batchSize: 2 });
    expect(r.skipped.map((s) => s.name)).toEqual(['k0', 'k1']);
    expect(r.imported.map((s) => s.name)).toEqual(['k2', 'k3', 'k4']);
    expect([...fake.keys.values()].filter((k) => /^k\d$/.test(k.name ?? ''))).toHaveLength(5);
  });
});

describe('key values stay out of errors', () => {
  test('csv-parse\'s error text (it quotes the record) is scrubbed', () => {
    const f = parseKeyFile(`Name,Key\na,"${V(1)}\nb,${V(2)}\n`);
    expect(f.errors).toHaveLength(1);
    expect(f.errors[0].message).toMatch(/^not valid CSV: /);
    expect(JSON.stringify(f.errors)).not.toContain(V(1));
  });

  test('ImportApiKeys\' raw error message is scrubbed of the batch\'s values', async () => {
    fake.failNext('ImportApiKeys', 1, () => Object.assign(new Error(`Invalid key ${V(2)} at line 3`), { name: 'BadRequestException', $metadata: { httpStatusCode: 400 } }));
    const err = await importKeys(newClients().apigw, `Name,Key\na,${V(1)}\nb,${V(2)}\n`, {}).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^ImportApiKeys failed for lines 2–3 \(BadRequestException: Invalid key \[value\] at line 3\)/);
    expect((err as Error).message).not.toContain(V(2));
  });
});
