/*
 * `keygate usage export --from DATE --to DATE [--format jsonl|csv] [--out DIR|-]`: the billing
 * rows of the daily export job (lib/sdk/usage-export.ts), from a deployed or local API. With
 * `--out DIR`, one file per day in the export bucket's layout (`usage/dt=…/part-0.json.gz`,
 * byte for byte what the job writes, or `part-0.csv`); with `--out -` (the default) all rows
 * on stdout.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { UsageError } from '../errors';
import { printJson, run } from './kit';
import { dayFile, readUsageRows, rowsByDay } from '../../sdk/usage-export';
import { daysBetween, isIsoDay, toCsv, toJsonLines, UsageExportRow, usageObjectKey } from '../../shared/usage-export';

export interface UsageExportCommandOptions {
  readonly json?: boolean;
  readonly from?: string;
  readonly to?: string;
  readonly format: 'jsonl' | 'csv';
  readonly out: string;
  readonly api?: string;
  readonly plan: string[];
}

/** What `--json` prints. */
export interface UsageExportSummary {
  readonly from: string;
  readonly to: string;
  readonly days: number;
  readonly rows: number;
  readonly keys: number;
  readonly requests: number;
  readonly plans: number;
  readonly windows: number;
  readonly getUsageCalls: number;
  /** Files written (with `--out DIR`), relative to DIR. */
  readonly files: { readonly path: string; readonly date: string; readonly rows: number; readonly requests: number; readonly bytes: number }[];
}

/** Checks the options before any call. */
export function validateExportOptions(opts: UsageExportCommandOptions): { from: string; to: string } {
  if (!opts.from || !opts.to) throw new UsageError('Give the range: --from YYYY-MM-DD --to YYYY-MM-DD (UTC days, both included).');
  for (const [flag, v] of [['--from', opts.from], ['--to', opts.to]] as const) {
    if (!isIsoDay(v)) throw new UsageError(`${flag} must be a day like 2026-01-31, not "${v}".`);
  }
  if (opts.from > opts.to) throw new UsageError(`--from ${opts.from} is after --to ${opts.to}.`);
  if (opts.json && opts.out === '-') throw new UsageError('--json prints a summary on stdout: write the rows to a folder with --out DIR.');
  return { from: opts.from, to: opts.to };
}

/** Writes one file per day under `dir` (the export bucket's layout); returns what was written. */
export function writeDayFiles(dir: string, rows: readonly UsageExportRow[], days: readonly string[], format: 'jsonl' | 'csv'): UsageExportSummary['files'] {
  const files: UsageExportSummary['files'][number][] = [];
  for (const [date, dayRows] of rowsByDay(rows, days)) {
    const rel = format === 'jsonl' ? usageObjectKey(date) : usageObjectKey(date).replace(/\.json\.gz$/, '.csv');
    const body = format === 'jsonl' ? dayFile(dayRows) : Buffer.from(toCsv(dayRows), 'utf8');
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
    files.push({ path: rel, date, rows: dayRows.length, requests: dayRows.reduce((s, r) => s + r.used, 0), bytes: body.length });
  }
  return files;
}

function progressBar(): { update: (done: number, total: number) => void; stop: () => void } {
  let bar: SingleBar | undefined;
  return {
    update: (done, total) => {
      if (!bar && total > 1 && process.stderr.isTTY) {
        bar = new SingleBar({ stream: process.stderr, format: 'reading usage [{bar}] {value}/{total} plan windows (≤ 90 days each)' });
        bar.start(total, 0);
      }
      bar?.update(done);
    },
    stop: () => bar?.stop(),
  };
}

/** Registers `keygate usage export` under `usage`. */
export function registerUsageExportCommand(usageCommand: Command): Command {
  // `usage` has --from/--to of its own: they must not swallow the subcommand's.
  usageCommand.parent?.enablePositionalOptions();
  usageCommand.enablePositionalOptions();
  const cmd = usageCommand.command('export')
    .description('Export billing rows (one per key, tier and UTC day: used, remaining, customerId) from GetUsage; ranges over 90 days are read in 90-day windows.')
    .option('--from <date>', 'first day (YYYY-MM-DD, UTC)')
    .option('--to <date>', 'last day (YYYY-MM-DD, UTC), included')
    .addOption(new Option('--format <format>', 'row format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--out <dir>', 'a folder for one file per day (usage/dt=YYYY-MM-DD/part-0.json.gz, as the UsageExport job writes), or - for stdout', '-')
    .option('--api <id>', 'only the usage plans of this REST API (id)')
    .option('--plan <id>', 'only this usage plan (id); repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--region <region>', 'AWS region (default: AWS_REGION, or us-east-1 for a local --endpoint)')
    .option('--profile <profile>', 'AWS profile from ~/.aws/config')
    .option('--endpoint <url>', 'API Gateway endpoint, e.g. the local gateway\'s controlPlane URL')
    .option('--json', 'print a JSON summary on stdout (needs --out DIR)')
    .addHelpText('after', '\nExit codes: 0 exported (also when there was no traffic), 1 failure (AWS error), 2 bad usage.');
  cmd.action((opts: UsageExportCommandOptions) => run(opts, async (connect) => {
    const { from, to } = validateExportOptions(opts);
    const bar = progressBar();
    const read = await readUsageRows(connect().apigw, {
      from, to, apiId: opts.api, usagePlanIds: opts.plan.length > 0 ? opts.plan : undefined, onProgress: bar.update,
    }).finally(() => bar.stop());
    const days = daysBetween(from, to);
    let files: UsageExportSummary['files'] = [];
    if (opts.out === '-') process.stdout.write(opts.format === 'csv' ? toCsv(read.rows) : toJsonLines(read.rows));
    else files = writeDayFiles(opts.out, read.rows, days, opts.format);
    const summary: UsageExportSummary = {
      from, to, days: days.length, rows: read.rows.length, keys: new Set(read.rows.map((r) => r.keyId)).size,
      requests: read.rows.reduce((s, r) => s + r.used, 0), plans: read.plans, windows: read.windows, getUsageCalls: read.calls.getUsage, files,
    };
    if (opts.json) printJson(summary);
    else console.error(`exported ${summary.rows} rows (${summary.keys} keys, ${summary.requests} requests) from ${from} to ${to}`
      + `${opts.out === '-' ? '' : ` into ${files.length} file(s) under ${opts.out}`}; ${summary.getUsageCalls} GetUsage call(s) in ${summary.windows} window(s)`);
  }));
  return cmd;
}
