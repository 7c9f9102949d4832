import { Command } from 'commander';
import { register as registerKeysDelete } from './commands/keys-delete';
import { register as registerKeysEnable } from './commands/keys-enable';
import { register as registerKeysImport } from './commands/keys-import';
import { register as registerKeysRead } from './commands/keys-read';
import { register as registerKeysRotate } from './commands/keys-rotate';
import { register as registerSmoke } from './commands/smoke';
import { register as registerUnused } from './commands/unused';
import { register as registerUsage } from './commands/usage';

/**
 * Registers `keygate keys …`, `keygate usage` and `keygate smoke`: one module per command
 * group in ./commands (in the order `--help` lists them).
 */
export function registerOpsCommands(program: Command): void {
  // The SDK warns on every run that future versions need Node 22; keygate supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const keys = program.command('keys').description('Manage the API keys of a deployed API (list, show, import, rotate, retire, enable, disable, delete).');
  registerKeysRead(keys);
  registerKeysImport(keys);
  registerKeysRotate(keys);
  registerKeysEnable(keys);
  registerUnused(keys);
  registerKeysDelete(keys);
  registerUsage(program);
  registerSmoke(program);
}
