import type { ChartConfiguration, ChartDataset } from 'chart.js';
import * as fs from 'fs';
import * as path from 'path';
import { chartJsSource } from './chart-js-source';
import { periodStartDay } from '../shared/quota-period';
import type { UsageReport } from './usage';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** What the chart shows: chart.js's own configuration, so the browser draws it as chart.js would anywhere. */
export type UsageChartConfig = ChartConfiguration<'bar' | 'line', (number | null)[], string>;

/**
 * The daily use of each key (bars) against its plan's quota (dashed line). For weekly and
 * monthly quotas the use so far in the period is drawn as a line too.
 */
export function usageChartConfig(report: UsageReport, title?: string): UsageChartConfig {
  const labels = daysBetween(report.from, report.to);
  const datasets: ChartDataset<'bar' | 'line', (number | null)[]>[] = [];
  const quotas = new Map<string, { limit: number; period: string }>();
  report.totals.forEach((t, i) => {
    const color = COLORS[i % COLORS.length];
    const byDay = new Map(report.rows.filter((r) => r.keyId === t.keyId && r.planId === t.planId).map((r) => [r.date, r.used]));
    const label = `${t.keyName || t.keyId} (${t.planName})`;
    datasets.push({ type: 'bar', label: `${label} daily use`, data: labels.map((d) => byDay.get(d) ?? 0), backgroundColor: `${color}99`, pointStyle: 'rect' });
    if (t.quotaLimit !== undefined && t.quotaPeriod && t.quotaPeriod !== 'DAY') {
      let sum = 0;
      let start = '';
      const cumulative = labels.map((d) => {
        const s = periodStartDay(d, { period: t.quotaPeriod!, offset: t.quotaOffset });
        if (s !== start) { start = s; sum = 0; }
        sum += byDay.get(d) ?? 0;
        return sum;
      });
      datasets.push({ type: 'line', label: `${label} use this ${t.quotaPeriod.toLowerCase()}`, data: cumulative, borderColor: color, backgroundColor: color, pointRadius: 2 });
    }
    if (t.quotaLimit !== undefined) quotas.set(t.planName || t.planId, { limit: t.quotaLimit, period: t.quotaPeriod ?? 'DAY' });
  });
  let q = 0;
  for (const [plan, quota] of quotas) {
    datasets.push({
      type: 'line', label: `quota ${plan}: ${quota.limit}/${quota.period.toLowerCase()}`, data: labels.map(() => quota.limit),
      borderColor: '#d62728', backgroundColor: '#d62728', borderDash: [6, 4 + 2 * q++], pointRadius: 0, borderWidth: 2, pointStyle: 'line',
    });
  }
  return {
    type: 'bar',
    data: { labels, datasets },
    options: {
      responsive: false,
      animation: false,
      plugins: {
        title: { display: true, text: title ?? `API key usage ${report.from} – ${report.to}` },
        legend: { position: 'bottom', labels: { usePointStyle: true } },
      },
      scales: { y: { beginAtZero: true, title: { display: true, text: 'requests' } }, x: { title: { display: true, text: 'day (UTC)' } } },
    },
  };
}

/** JSON inside a <script> element: `<` escaped so no key name can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Writes the usage chart as one self-contained HTML file (chart.js inlined, the data as JSON):
 * it opens in any browser, offline, and needs no native canvas on the machine that writes it.
 */
export function renderUsageChart(report: UsageReport, file: string, options: { width?: number; height?: number; title?: string } = {}): void {
  const width = options.width ?? 1000;
  const height = options.height ?? 500;
  const config = usageChartConfig(report, options.title);
  const title = String(config.options?.plugins?.title?.text ?? 'API key usage');
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{margin:0;background:#fff;font-family:"DejaVu Sans",sans-serif}</style>',
    '</head><body>',
    `<canvas id="usage" width="${width}" height="${height}"></canvas>`,
    `<script type="application/json" id="usage-config">${scriptJson(config)}</script>`,
    `<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>`,
    '<script>new Chart(document.getElementById("usage"), JSON.parse(document.getElementById("usage-config").textContent));</script>',
    '</body></html>',
    '',
  ].join('\n');
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, html);
}
