import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderUsageChart, usageChartConfig } from '../../lib/ops/chart';
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

describe('chart', () => {
  const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((f) => fs.existsSync(f));

  async function writeChart(file = 'usage.html'): Promise<{ file: string; html: string }> {
    const report = await usageReport(newClients().apigw, { plan: 'free', ...range });
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-chart-')), file);
    renderUsageChart(report, out);
    return { file: out, html: fs.readFileSync(out, 'utf8') };
  }

  test('config: one bar series per key with its daily use, and the quota as a line', async () => {
    // GIVEN
    const report = await usageReport(newClients().apigw, { plan: 'free', ...range });
    // WHEN
    const config = usageChartConfig(report);
    // THEN
    expect(config.data.labels).toEqual(['2026-02-01', '2026-02-02', '2026-02-03']);
    expect(config.data.datasets.map((d) => [d.type, d.label, d.data])).toEqual([
      ['bar', 'alpha (free) daily use', [10, 20, 0]],
      ['bar', 'bravo (free) daily use', [1, 2, 3]],
      ['bar', 'charlie (free) daily use', [100, 5, 0]],
      ['line', 'quota free: 100/day', [100, 100, 100]],
    ]);
  });

  test('HTML: self-contained, chart.js inlined and the data as JSON', async () => {
    const { html } = await writeChart();
    expect(html).toMatch(/^<!DOCTYPE html>/);
    // Nothing loaded from elsewhere: the file opens offline.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/i);
    expect(html).toContain('<canvas id="usage" width="1000" height="500">');
    expect(html.length).toBeGreaterThan(150_000); // chart.js itself
    const json = /<script type="application\/json" id="usage-config">(.*?)<\/script>/s.exec(html);
    expect(JSON.parse(json![1]).data.datasets).toHaveLength(4);
    // No key value in the chart (names and ids only).
    expect(html).not.toMatch(/alphavalue|bravovalue|charlievalue/);
  });

  test('HTML: a key name cannot close the script element', async () => {
    fake.addKey({ id: 'kx', name: '</script><img src=x onerror=alert(1)>', value: 'xvaluexxxxxxxxxxxxxxxx' }, ['pfree']);
    fake.usage.get('pfree')!.set('kx', [[1, 99], [1, 98], [1, 97]]);
    const { html } = await writeChart();
    expect(html).not.toContain('</script><img');
    expect(html).toContain('\\u003c/script>\\u003cimg');
  });

  (CHROMIUM ? test : test.skip)('HTML: headless Chromium draws the bars and the quota line', async () => {
    // GIVEN: the chart, plus a probe that reads what chart.js drew on the canvas
    const { file, html } = await writeChart();
    const probe = `<script>
      const chart = Chart.getChart('usage');
      const ctx = document.getElementById('usage').getContext('2d');
      const px = ctx.getImageData(0, 0, 1000, 500).data;
      let inked = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 240 || px[i + 1] < 240 || px[i + 2] < 240)) inked++;
      const bars = chart.getDatasetMeta(2).data.map((b) => Math.round(b.base - b.y));
      document.body.insertAdjacentHTML('beforeend', '<pre id="probe">' + JSON.stringify({ inked, bars, legend: chart.legend.legendItems.length }) + '</pre>');
    </script>`;
    fs.writeFileSync(file, html.replace('</body>', `${probe}</body>`));
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-chromium-'));
    // WHEN
    const dom = execFileSync(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
    fs.rmSync(profile, { recursive: true, force: true });
    // THEN
    const result = JSON.parse(/<pre id="probe">(\{.*?\})<\/pre>/.exec(dom)![1]) as { inked: number; bars: number[]; legend: number };
    expect(result.legend).toBe(4);
    expect(result.inked).toBeGreaterThan(10_000);
    // charlie's bars: 100 is twenty times 5, and 0 draws nothing
    expect(result.bars[0]).toBeGreaterThan(15 * result.bars[1]);
    expect(result.bars[2]).toBe(0);
  }, 90_000);
});
