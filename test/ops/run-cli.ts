/** Runs the ops CLI in-process and captures what it prints and its exit code. */
import { Command } from 'commander';
import { registerOpsCommands } from '../../lib/ops/cli';

export interface CliRun {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: string[]): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const spies = [
    jest.spyOn(console, 'log').mockImplementation((...m: unknown[]) => { stdout.push(`${m.join(' ')}\n`); }),
    jest.spyOn(console, 'error').mockImplementation((...m: unknown[]) => { stderr.push(`${m.join(' ')}\n`); }),
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { stdout.push(String(chunk)); return true; }),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr.push(String(chunk)); return true; }),
  ];
  const before = process.exitCode;
  process.exitCode = undefined;
  let exitCode: number | undefined;
  try {
    const program = new Command().exitOverride().configureOutput({ writeErr: (s) => stderr.push(s), writeOut: (s) => stdout.push(s) });
    registerOpsCommands(program);
    try {
      await program.parseAsync(args, { from: 'user' });
      exitCode = process.exitCode === undefined ? undefined : Number(process.exitCode);
    } catch (err) {
      exitCode = (err as { exitCode?: number }).exitCode ?? 1;
    }
  } finally {
    for (const s of spies) s.mockRestore();
    process.exitCode = before;
  }
  return { exitCode, stdout: stdout.join(''), stderr: stderr.join('') };
}
