/** `keygate keys enable|disable`. */
import { Command } from 'commander';
import { overrideWarning, setKeyEnabled } from '../keys';
import { common, CommonOptions, OVERRIDE_MANAGED, printJson, run } from './kit';

/** Registers `keys disable` and `keys enable` on the `keys` command. */
export function register(keys: Command): void {
  for (const enabled of [false, true]) {
    common(keys.command(enabled ? 'enable' : 'disable'))
      .description(enabled ? 'Enable a key.' : 'Disable a key (requests with it get 403).')
      .argument('<key>', 'key name or id')
      .option('--override-managed', `change ${OVERRIDE_MANAGED}`)
      .action((ref: string, opts: CommonOptions & { overrideManaged?: boolean }) => run(opts, async (connect) => {
        const k = await setKeyEnabled(connect().apigw, ref, enabled, { overrideManaged: opts.overrideManaged });
        const warning = overrideWarning(k);
        if (warning) console.error(warning);
        if (opts.json) return printJson(k);
        console.log(`${k.name} (${k.id}) ${k.changed ? 'is now' : 'was already'} ${enabled ? 'enabled' : 'disabled'}.`);
      }));
  }
}
