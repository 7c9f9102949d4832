import { Command } from 'commander';

/** Registers `keygate local`. */
export function registerLocalCommand(_program: Command): void {
}
