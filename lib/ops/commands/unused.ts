import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { findUnusedKeys } from '../../sdk/unused';
import { collect, common, printJson, run, table } from './kit';

function days(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new InvalidArgumentError('expected a whole number of days ≥ 1.');
  return n;
}

/** `keygate keys unused --days N`: keys without requests in the last N days, across all their plans. */
export function register(keys: Command): void {
  common(keys.command('unused'))
    .description('List keys with no requests in the last N days (GetUsage across all their usage plans). Keys younger than the window are not listed.')
    .option('--days <n>', 'the window in days, today included', days, 90)
    .option('--plan <id>', 'only keys in this usage plan (id); repeatable', collect, [] as string[])
    .addHelpText('after', '\nExit codes: 0 listed (also when none is unused), 1 failure, 2 bad usage.')
    .action((opts: { json?: boolean; days: number; plan: string[] }) => run(opts, async (connect) => {
      let bar: SingleBar | undefined;
      const report = await findUnusedKeys(connect().apigw, {
        days: opts.days,
        usagePlanIds: opts.plan.length > 0 ? opts.plan : undefined,
        onProgress: (done, total) => {
          if (!bar && total > 3 && process.stderr.isTTY) {
            bar = new SingleBar({ stream: process.stderr, format: 'reading usage [{bar}] {value}/{total} plans' });
            bar.start(total, 0);
          }
          bar?.update(done);
        },
      }).finally(() => bar?.stop());
      if (opts.json) {
        return printJson({ ...report, unused: report.unused.map(({ tags: _tags, ...key }) => key) });
      }
      const t = table(['name', 'id', 'enabled', 'created', 'plans', 'managed by']);
      for (const k of report.unused) {
        t.push([k.name, k.id, String(k.enabled), (k.createdDate ?? '').slice(0, 10), k.plans.map((p) => p.name).join('\n') || '(none)', k.managed?.replace(/^it belongs to /, '') ?? '']);
      }
      console.log(t.toString());
      console.error(`${report.unused.length} of ${report.checked} key(s) had no requests from ${report.from} to ${report.to}`
        + (report.tooNew ? `; ${report.tooNew} more without requests are younger than ${report.days} days` : '') + '.');
    }));
}
