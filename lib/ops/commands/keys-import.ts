/** `keygate keys import FILE`. */
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import * as fs from 'fs';
import { ImportResult, importKeys } from '../../sdk/import-keys';
import { UsageError } from '../errors';
import { OpsClients } from '../client';
import { collect, common, CommonOptions, atLeastOne, printJson, run, table } from './kit';

interface ImportCommandOptions extends CommonOptions {
  readonly plan: string[];
  readonly dryRun?: boolean;
  readonly batchSize: number;
}

/** Registers `keys import` on the `keys` command. */
export function register(keys: Command): void {
  common(keys.command('import'))
    .description('Import keys from an API Gateway key file (CSV: Name, Key, Description, Enabled, UsagePlanIds). The whole file is validated first; any problem → nothing imported, exit 2.')
    .argument('<file>', 'CSV file')
    .option('--plan <plan>', 'add every key to this usage plan (name or id); repeatable', collect, [])
    .option('--dry-run', 'validate and show what would be imported, write nothing')
    .addOption(new Option('--batch-size <n>', 'keys per ImportApiKeys call').argParser(atLeastOne).default(100))
    .action((file: string, opts: ImportCommandOptions) => run(opts, (connect) => importFile(connect, file, opts)));
}

async function importFile(connect: () => OpsClients, file: string, opts: ImportCommandOptions): Promise<void> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  let bar: SingleBar | undefined;
  const result = await importKeys(connect().apigw, text, {
    plans: opts.plan,
    dryRun: opts.dryRun,
    batchSize: opts.batchSize,
    onStart: (total) => {
      if (total > opts.batchSize && process.stderr.isTTY) {
        bar = new SingleBar({ stream: process.stderr, format: 'importing [{bar}] {value}/{total} keys' });
        bar.start(total, 0);
      }
    },
    onProgress: (done) => bar?.update(done),
  }).finally(() => bar?.stop());
  if (opts.json) return printJson(result);
  printImport(result);
}

function printImport(result: ImportResult): void {
  if (result.dryRun) {
    const t = table(['line', 'name', 'plans']);
    for (const r of result.planned) t.push([r.line, r.name, r.planNames.join(', ')]);
    console.log(t.toString());
    console.log(`dry run: ${result.planned.length} key(s) would be imported, ${result.skipped.length} already present; nothing written.`);
    return;
  }
  if (result.imported.length > 0) {
    const t = table(['line', 'name', 'id']);
    for (const r of result.imported) t.push([r.line, r.name, r.id ?? '']);
    console.log(t.toString());
  }
  for (const w of result.warnings) console.error(`warning: ${w}`);
  console.log(`imported ${result.imported.length} key(s)${result.skipped.length ? `, ${result.skipped.length} already present (skipped)` : ''}.`);
}
