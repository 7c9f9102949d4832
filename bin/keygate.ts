#!/usr/bin/env node
import { Command } from 'commander';
import { registerLocalCommand } from '../lib/local/command/cli';
import { registerOpsCommands } from '../lib/ops/cli';

const program = new Command()
  .name('keygate')
  .description('Run a keygate app locally and manage the API keys of a deployed API.')
  .showHelpAfterError()
  .exitOverride((err) => {
    // commander reports usage errors with exitCode 1; our contract says 2 for bad usage.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerLocalCommand(program);
registerOpsCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`keygate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
