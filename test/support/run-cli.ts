import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * `node` and its arguments for `keygate ARGS…`: the bundle of the current sources that jest's
 * global setup builds (cli-bundle.js), as users run dist/bin/keygate.js.
 */
export function keygateCommand(args: string[]): [string, string[]] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { cliBundlePath } = require('./cli-bundle') as { cliBundlePath(): string };
  const bundle = cliBundlePath();
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: jest's globalSetup (test/support/global-setup.js) builds it`);
  return [process.execPath, [bundle, ...args]];
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `keygate ARGS…` built from the TypeScript sources as a separate process, as a user would. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const [node, argv] = keygateCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(node, argv, {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.end(options.input ?? '');
  });
}

export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly firstLine: string;
  readonly exited: Promise<number | null>;
  stderr(): string;
  /** All of stdout so far. */
  stdout(): string;
}

/** Starts `keygate ARGS` and resolves with its first stdout line (the server keeps running). */
export function startCli(args: string[], cwd = REPO_ROOT): Promise<Running> {
  const [node, argv] = keygateCommand(args);
  return new Promise((resolve, reject) => {
    const child = spawn(node, argv, {
      // The repository's compiler options for an app the CLI runs with ts-node (--app "<command>"), wherever it runs
      // (ts-node looks for tsconfig.json from the cwd).
      cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TS_NODE_PROJECT: process.env.TS_NODE_PROJECT ?? path.join(REPO_ROOT, 'tsconfig.json') },
    });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no output from keygate ${args.join(' ')}: ${err}`)); }, 90_000);
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, firstLine: out.slice(0, nl), exited, stderr: () => err, stdout: () => out });
      }
    });
    child.on('close', (code) => { clearTimeout(timer); reject(new Error(`keygate exited ${code} before printing: ${err}`)); });
  });
}
