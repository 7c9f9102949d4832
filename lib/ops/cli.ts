import { Command } from 'commander';

/** Registers `keygate keys …`, `keygate usage` and `keygate smoke`. */
export function registerOpsCommands(_program: Command): void {
}
