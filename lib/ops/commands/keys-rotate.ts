/** `keygate keys rotate` and `keygate keys retire`. */
import { Command } from 'commander';
import { parseDuration, retireKey, RetireResult, rotateKey, RotateResult } from '../rotate';
import { common, CommonOptions, HIDDEN, printJson, run, table } from './kit';

/** Registers `keys rotate` and `keys retire` on the `keys` command. */
export function register(keys: Command): void {
  common(keys.command('rotate'))
    .description('Create the successor of a key (same plans, tags, enabled state) and keep the old one working for the overlap. Safe to re-run.')
    .argument('<key>', 'key name or id')
    .option('--overlap <duration>', 'how long the old key keeps working (e.g. 7d, 36h)', '7d')
    .option('--show-value', 'print the new value')
    .option('--finish', 'retire the predecessor instead (same as `keys retire`)')
    .option('--force', 'with --finish: retire before the overlap ends')
    .action((ref: string, opts: CommonOptions & { overlap: string; showValue?: boolean; finish?: boolean; force?: boolean }) => run(opts, async (connect) => {
      if (opts.finish) {
        const c = connect();
        return printRetire(await retireKey(c.apigw, ref, { force: opts.force, secrets: c.secrets }), opts.json === true);
      }
      const overlapMs = parseDuration(opts.overlap);
      const c = connect();
      printRotation(await rotateKey(c.apigw, ref, { overlapMs, showValue: opts.showValue, secrets: c.secrets }), opts.json === true);
    }));

  common(keys.command('retire'))
    .description('After the overlap: disable, then delete the predecessor of a rotation (name the old key or its successor).')
    .argument('<key>', 'key name or id')
    .option('--force', 'retire before the overlap ends')
    .action((ref: string, opts: CommonOptions & { force?: boolean }) => run(opts, async (connect) => {
      const c = connect();
      printRetire(await retireKey(c.apigw, ref, { force: opts.force, secrets: c.secrets }), opts.json === true);
    }));
}

function printRotation(r: RotateResult, json: boolean): void {
  if (json) return printJson(r);
  const t = table(['step', 'status', 'detail']);
  for (const s of r.steps) t.push([s.step, s.status, s.detail ?? '']);
  console.log(t.toString());
  console.log(`successor: ${r.successor.name} ${r.successor.id}`);
  if (r.successor.value !== undefined) console.log(`value: ${r.successor.value}`);
  else console.log(r.secretArn ? `value: written to ${r.secretArn}` : `value: ${HIDDEN}, or \`keygate keys show ${r.successor.id} --show-value\``);
  console.log(`predecessor ${r.predecessor.name} (${r.predecessor.id}) keeps working until it is retired: \`keygate keys retire ${r.predecessor.name || r.predecessor.id}\` after ${r.retireAfter}`);
}

function printRetire(r: RetireResult, json: boolean): void {
  if (json) return printJson(r);
  const t = table(['step', 'status', 'detail']);
  for (const s of r.steps) t.push([s.step, s.status, s.detail ?? '']);
  console.log(t.toString());
  console.log(`retired ${r.predecessor.name} (${r.predecessor.id})${r.successor ? `; ${r.successor.name} (${r.successor.id}) remains` : ''}`);
}
