/** `keygate keys delete|clean-up-retired`: the commands that delete keys. */
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { resolveKey } from '../../sdk/resolve';
import { OpsClients } from '../client';
import { deleteKey, refuseManagedChange } from '../keys';
import { cleanUpRetiredKeys } from '../retired';
import { common, CommonOptions, confirmDeletion, OVERRIDE_MANAGED, printJson, run } from './kit';

type DeleteOptions = CommonOptions & { yes?: boolean; overrideManaged?: boolean };
type CleanUpOptions = CommonOptions & { set: string; dryRun?: boolean; yes?: boolean };

/** Registers `keys delete` and `keys clean-up-retired` on the `keys` command. */
export function register(keys: Command): void {
  common(keys.command('delete'))
    .description('Delete a key (asks first unless --yes).')
    .argument('<key>', 'key name or id')
    .option('-y, --yes', 'do not ask')
    .option('--override-managed', `delete ${OVERRIDE_MANAGED}`)
    .action((ref: string, opts: DeleteOptions) => run(opts, (connect) => deleteOne(connect, ref, opts)));

  common(keys.command('clean-up-retired'))
    .description('Delete the keys a client set retired (clients removed by an update, kept disabled so a rollback could restore them). Its next deploy would delete them too.')
    .requiredOption('--set <setId>', 'the client set id')
    .option('--dry-run', 'list them, delete nothing')
    .option('-y, --yes', 'do not ask')
    .action((opts: CleanUpOptions) => run(opts, (connect) => cleanUp(connect, opts)));
}

async function deleteOne(connect: () => OpsClients, ref: string, opts: DeleteOptions): Promise<number | void> {
  const client = connect().apigw;
  const key = await resolveKey(client, ref);
  refuseManagedChange(key, 'deleting', { overrideManaged: opts.overrideManaged });
  if (!(await confirmDeletion(opts.yes, `${key.name} (${key.id})`, `Delete API key ${key.name} (${key.id})? Its clients will get 403. [y/N] `))) return 1;
  const k = await deleteKey(client, key.id ?? ref, { overrideManaged: opts.overrideManaged });
  if (opts.json) return printJson({ deleted: k });
  console.log(`deleted ${k.name} (${k.id})`);
}

async function cleanUp(connect: () => OpsClients, opts: CleanUpOptions): Promise<number | void> {
  const client = connect().apigw;
  const listed = await cleanUpRetiredKeys(client, opts.set, { dryRun: true });
  const count = listed.retired.length;
  if (opts.dryRun || count === 0) {
    if (opts.json) return printJson({ retired: listed.retired, deleted: 0 });
    console.log(`${count} retired keys of ${opts.set}${count ? `: ${listed.retired.map((k) => k.name).join(', ')}` : ''}`);
    return;
  }
  const question = `Delete ${count} retired keys of ${opts.set}? A rollback could no longer restore them. [y/N] `;
  if (!(await confirmDeletion(opts.yes, `${count} retired keys`, question))) return 1;
  const bar = opts.json ? undefined : new SingleBar({ stream: process.stderr, format: 'deleting [{bar}] {value}/{total} keys' });
  bar?.start(count, 0);
  const done = await cleanUpRetiredKeys(client, opts.set, { onProgress: (n) => bar?.update(n) });
  bar?.stop();
  if (opts.json) return printJson(done);
  console.log(`deleted ${done.deleted} retired keys of ${opts.set}`);
}
