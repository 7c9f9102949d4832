/** `keygate usage [KEY] [--plan PLAN]`. */
import { Command, Option } from 'commander';
import { OpsClients } from '../client';
import { UsageError } from '../errors';
import { UsageReport, usageReport, usageToCsv } from '../usage';
import { common, CommonOptions, printJson, run, table } from './kit';
import { registerUsageExportCommand } from './usage-export';

type UsageCommandOptions = CommonOptions & { plan?: string; from?: string; to?: string; format: string; chart?: string; chartHtml?: string };

/** Registers `usage` on the program. */
export function register(program: Command): void {
  const usageCommand = common(program.command('usage'))
    .description('Daily use of a key (in each of its plans) or of every key of a plan, against the quota.')
    .argument('[key]', 'key name or id')
    .option('--plan <plan>', 'usage plan name or id')
    .option('--from <date>', 'first day (YYYY-MM-DD, UTC; default 6 days before --to)')
    .option('--to <date>', 'last day (YYYY-MM-DD, UTC; default today)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .option('--chart-html <file.html>', 'also draw daily use against the quota line into a self-contained HTML page (opens offline in any browser)')
    .addOption(new Option('--chart <file.html>', 'alias of --chart-html (the file must end in .html)').hideHelp())
    .action((ref: string | undefined, opts: UsageCommandOptions) => run(opts, (connect) => usage(connect, ref, opts)));
  registerUsageExportCommand(usageCommand);
}

/**
 * The HTML chart file of --chart-html (or its alias --chart): it must end in .html or .htm,
 * since the file is an HTML page, not an image.
 */
export function chartFile(opts: Pick<UsageCommandOptions, 'chart' | 'chartHtml'>): string | undefined {
  if (opts.chart && opts.chartHtml && opts.chart !== opts.chartHtml) throw new UsageError('Pass --chart-html FILE.html once (--chart is its alias).');
  const file = opts.chartHtml ?? opts.chart;
  if (file !== undefined && !/\.html?$/i.test(file)) {
    const flag = opts.chartHtml ? '--chart-html' : '--chart';
    throw new UsageError(`${flag} ${file}: the chart is an HTML page (chart.js, opens offline in a browser), not an image; name the file FILE.html.`);
  }
  return file;
}

async function usage(connect: () => OpsClients, ref: string | undefined, opts: UsageCommandOptions): Promise<void> {
  if (!ref && !opts.plan) throw new UsageError('Name a key (keygate usage NAME|ID) or a plan (--plan NAME).');
  const chart = chartFile(opts);
  const report = await usageReport(connect().apigw, { key: ref, plan: opts.plan, from: opts.from, to: opts.to });
  if (chart) {
    // loaded on demand: the inlined chart.js is only needed here
    const { renderUsageChart } = await import('../chart');
    renderUsageChart(report, chart);
  }
  const format = opts.json ? 'json' : opts.format;
  if (format === 'json') printJson({ ...report, ...(chart ? { chart } : {}) });
  else if (format === 'csv') process.stdout.write(usageToCsv(report));
  else printUsageTables(report);
  if (chart && format !== 'json') console.error(`HTML chart written to ${chart}`);
}

function printUsageTables(report: UsageReport): void {
  const t = table(['date', 'key', 'plan', 'used', 'remaining', 'quota']);
  for (const r of report.rows) t.push([r.date, r.keyName || r.keyId, r.planName, r.used, r.remaining ?? '', r.quotaLimit !== undefined ? `${r.quotaLimit}/${r.quotaPeriod}` : 'none']);
  console.log(t.toString());
  const s = table(['key', 'plan', `used ${report.from}..${report.to}`, 'remaining']);
  for (const r of report.totals) s.push([r.keyName || r.keyId, r.planName, r.used, r.remaining ?? '']);
  console.log(s.toString());
}
