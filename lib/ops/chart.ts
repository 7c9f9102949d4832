import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { Chart, ChartConfiguration, ChartDataset, ChartItem, registerables } from 'chart.js';
import * as fs from 'fs';
import * as path from 'path';
import type { UsageReport } from './usage';

const FONT_FAMILY = 'DejaVu Sans';
const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf'];
let initialized = false;

function init(): void {
  if (initialized) return;
  Chart.register(...registerables);
  const font = FONT_FILES.find((f) => fs.existsSync(f));
  if (font) GlobalFonts.registerFromPath(font, FONT_FAMILY);
  Chart.defaults.font.family = font ? FONT_FAMILY : 'sans-serif';
  initialized = true;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Start of the quota period (UTC) that contains `day`, for cumulative lines of WEEK/MONTH quotas. */
function periodStart(day: string, period: string | undefined): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (period === 'MONTH') return day.slice(0, 8) + '01';
  if (period === 'WEEK') return new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
  return day;
}

/**
 * Renders the daily use of each key (bars) against its plan's quota (dashed line) as a PNG.
 * For weekly and monthly quotas the use so far in the period is drawn as a line too.
 */
export async function renderUsageChart(report: UsageReport, file: string, options: { width?: number; height?: number; title?: string } = {}): Promise<void> {
  init();
  const width = options.width ?? 1000;
  const height = options.height ?? 500;
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
        const s = periodStart(d, t.quotaPeriod);
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
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  const config: ChartConfiguration<'bar' | 'line', (number | null)[], string> = {
    type: 'bar',
    data: { labels, datasets },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: options.title ?? `API key usage ${report.from} – ${report.to}` },
        legend: { position: 'bottom', labels: { usePointStyle: true } },
      },
      scales: { y: { beginAtZero: true, title: { display: true, text: 'requests' } }, x: { title: { display: true, text: 'day (UTC)' } } },
    },
  };
  // chart.js accepts any 2D context; @napi-rs/canvas implements the same interface.
  const chart = new Chart(ctx as unknown as ChartItem, config);
  chart.draw();
  const png = await canvas.encode('png');
  chart.destroy();
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, png);
}
