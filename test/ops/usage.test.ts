import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderUsageChart } from '../../lib/ops/chart';
import { usageReport, usageToCsv } from '../../lib/ops/usage';
import { FakeApiGateway, newClients } from './fake-apigw';

let fake: FakeApiGateway;
beforeEach(() => {
  fake = new FakeApiGateway();
  fake.addPlan({ id: 'pfree', name: 'free', apiStages: [{ apiId: 'api1', stage: 'prod' }], quota: { limit: 100, period: 'DAY' } });
  fake.addPlan({ id: 'pbeta', name: 'beta', apiStages: [{ apiId: 'api2', stage: 'prod' }] });
  fake.addKey({ id: 'ka', name: 'alpha', value: 'alphavaluexxxxxxxxxxxx' }, ['pfree', 'pbeta']);
  fake.addKey({ id: 'kb', name: 'bravo', value: 'bravovaluexxxxxxxxxxxx' }, ['pfree']);
  fake.addKey({ id: 'kc', name: 'charlie', value: 'charlievaluexxxxxxxxxx' }, ['pfree']);
  fake.usage.set('pfree', new Map([
    ['ka', [[10, 90], [20, 80], [0, 100]]],
    ['kb', [[1, 99], [2, 98], [3, 97]]],
    ['kc', [[100, 0], [5, 95], [0, 100]]],
  ]));
  fake.usage.set('pbeta', new Map([['ka', [[7, 0], [8, 0], [9, 0]]]]));
});
afterEach(() => fake.restore());

const range = { from: '2026-02-01', to: '2026-02-03' };

test('a key: each of its plans, per day, with remaining against the quota', async () => {
  const r = await usageReport(newClients().apigw, { key: 'alpha', ...range });
  expect(r.rows.filter((x) => x.planName === 'free').map((x) => [x.date, x.used, x.remaining])).toEqual([
    ['2026-02-01', 10, 90], ['2026-02-02', 20, 80], ['2026-02-03', 0, 100],
  ]);
  expect(r.totals).toEqual([
    expect.objectContaining({ keyName: 'alpha', planName: 'free', used: 30, remaining: 100, quotaLimit: 100, quotaPeriod: 'DAY' }),
    expect.objectContaining({ keyName: 'alpha', planName: 'beta', used: 24, remaining: undefined, quotaLimit: undefined }),
  ]);
  expect(fake.apigwMock.commandCalls(jest.requireActual('@aws-sdk/client-api-gateway').GetUsageCommand)[0].args[0].input)
    .toMatchObject({ usagePlanId: 'pfree', keyId: 'ka', startDate: '2026-02-01', endDate: '2026-02-03', limit: 500 });
});

test('a plan: every key, over several GetUsage pages', async () => {
  const r = await usageReport(newClients().apigw, { plan: 'free', ...range });
  expect(r.totals.map((t) => [t.keyName, t.used, t.remaining])).toEqual([['alpha', 30, 100], ['bravo', 6, 97], ['charlie', 105, 100]]);
  expect(fake.calls.filter((c) => c === 'GetUsage')).toHaveLength(2); // 3 keys, 2 per page
});

test('default range is the last 7 days; bad dates are usage errors', async () => {
  const c = newClients().apigw;
  const r = await usageReport(c, { key: 'bravo', today: () => new Date('2026-02-10T15:00:00Z') });
  expect([r.from, r.to]).toEqual(['2026-02-04', '2026-02-10']);
  await expect(usageReport(c, { key: 'bravo', from: '2026-13-01' })).rejects.toMatchObject({ exitCode: 2 });
  await expect(usageReport(c, { key: 'bravo', from: '2026-02-05', to: '2026-02-01' })).rejects.toMatchObject({ exitCode: 2 });
});

test('CSV', async () => {
  const csv = usageToCsv(await usageReport(newClients().apigw, { key: 'bravo', ...range }));
  expect(csv.split('\n').slice(0, 2)).toEqual(['date,keyName,keyId,planName,planId,used,remaining,quotaLimit,quotaPeriod', '2026-02-01,bravo,kb,free,pfree,1,99,100,DAY']);
});

test('chart: writes a PNG', async () => {
  const report = await usageReport(newClients().apigw, { plan: 'free', ...range });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-chart-')), 'usage.png');
  await renderUsageChart(report, file);
  const png = fs.readFileSync(file);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  expect(png.length).toBeGreaterThan(5000);
});
