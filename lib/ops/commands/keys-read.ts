/** `keygate keys list` and `keygate keys show`. */
import { Command } from 'commander';
import { managedKeyReason } from '../../shared/managed';
import { KeyInfo, listKeys, showKey } from '../keys';
import { common, CommonOptions, HIDDEN, keyRowTags, printJson, run, table } from './kit';

/** Registers `keys list` and `keys show` on the `keys` command. */
export function register(keys: Command): void {
  common(keys.command('list'))
    .description('List all API keys with their plans, stages and tags.')
    .option('--plan <plan>', 'only keys in this usage plan (name or id)')
    .option('--name <pattern>', 'only names matching this glob (* and ?); without wildcards a prefix')
    .action((opts: CommonOptions & { plan?: string; name?: string }) => run(opts, async (connect) => {
      const list = await listKeys(connect().apigw, { plan: opts.plan, name: opts.name });
      if (opts.json) return printJson(list);
      const t = table(['name', 'id', 'enabled', 'created', 'plans', 'stages', 'tags', 'managed by']);
      for (const k of list) {
        const tags = Object.fromEntries(Object.entries(k.tags).filter(([name]) => !name.startsWith('aws:cloudformation:')));
        const stack = k.tags['aws:cloudformation:stack-name'];
        const managedBy = stack ? `stack ${stack}` : (managedKeyReason(k)?.replace(/^it belongs to (the keygate )?/, '') ?? '');
        t.push([k.name, k.id, String(k.enabled), (k.createdDate ?? '').slice(0, 10), k.plans.map((p) => p.name).join('\n'), k.stages.join('\n'), keyRowTags(tags), managedBy]);
      }
      console.log(t.toString());
      console.error(`${list.length} key${list.length === 1 ? '' : 's'}`);
    }));

  common(keys.command('show'))
    .description('Show one key. Its value only with --show-value.')
    .argument('<key>', 'key name or id')
    .option('--show-value', 'include the key value')
    .action((ref: string, opts: CommonOptions & { showValue?: boolean }) => run(opts, async (connect) => {
      const k = await showKey(connect().apigw, ref, { showValue: opts.showValue });
      if (opts.json) return printJson(k);
      printKey(k, opts.showValue === true);
    }));
}

function printKey(k: KeyInfo, showValue: boolean): void {
  const t = table(['field', 'value']);
  t.push(
    ['name', k.name], ['id', k.id], ['enabled', String(k.enabled)], ['value', showValue ? (k.value ?? '') : HIDDEN],
    ['description', k.description ?? ''], ['customer id', k.customerId ?? ''], ['created', k.createdDate ?? ''], ['updated', k.lastUpdatedDate ?? ''],
    ['plans', k.plans.map((p) => `${p.name} (${p.id})`).join('\n')], ['stages', k.stages.join('\n')], ['tags', keyRowTags(k.tags)],
  );
  const managed = managedKeyReason(k);
  if (managed) t.push(['managed', managed]);
  console.log(t.toString());
}
