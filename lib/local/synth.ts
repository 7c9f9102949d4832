/**
 * Synthesizes the cdk.json app of a directory (or the command given, as the CDK CLI's `--app`
 * takes one) into a cloud assembly, as `cdk synth` does (offline).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface SynthOptions {
  /** Directory holding cdk.json (default: the current directory). */
  readonly cwd?: string;
  /** Output directory (default: a new temp dir). */
  readonly outdir?: string;
  /** The command that runs the app, instead of cdk.json's `app` (cdk.json's context still applies when there is one). */
  readonly app?: string;
}

/** cdk.json's `app` and `context`, or the command given. */
function appConfig(cwd: string, app: string | undefined): { app: string; context?: unknown } {
  const cdkJson = path.join(cwd, 'cdk.json');
  if (!fs.existsSync(cdkJson)) {
    if (app) return { app };
    throw new Error(`no cdk.json in ${cwd}: pass --app with a synthesized cloud assembly or the command that runs your app, or run in a CDK app directory`);
  }
  let config: { app?: unknown; context?: unknown };
  try {
    config = JSON.parse(fs.readFileSync(cdkJson, 'utf8')) as { app?: unknown; context?: unknown };
  } catch (e) {
    throw new Error(`${cdkJson} is not valid JSON: ${(e as Error).message}`);
  }
  const command = app ?? config.app;
  if (typeof command !== 'string' || !command.trim()) throw new Error(`${cdkJson} has no "app" command`);
  return { app: command, context: config.context };
}

/** Runs the `app` command of cdk.json with CDK_OUTDIR and CDK_CONTEXT_JSON set; returns the assembly dir. */
export async function synthesizeApp(options: SynthOptions = {}): Promise<string> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const config = appConfig(cwd, options.app);
  const outdir = options.outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-synth-'));
  fs.mkdirSync(outdir, { recursive: true });
  // As the CDK CLI does by default: construct paths in the template (the --watch summary names resources by them).
  const context: Record<string, unknown> = { 'aws:cdk:enable-path-metadata': true, ...(typeof config.context === 'object' && config.context !== null ? config.context : {}) };
  const ctxFile = path.join(cwd, 'cdk.context.json');
  if (fs.existsSync(ctxFile)) {
    try { Object.assign(context, JSON.parse(fs.readFileSync(ctxFile, 'utf8'))); } catch { /* ignore a broken context cache */ }
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(config.app, {
      cwd, shell: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_CLI_VERSION: '2.1000.0', CDK_DISABLE_VERSION_CHECK: 'true' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.on('data', () => { /* the app's stdout is not ours to print in --json mode */ });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && fs.existsSync(path.join(outdir, 'manifest.json'))) resolve();
      else reject(new Error(`synthesizing the app with "${config.app}" failed (exit ${code}):\n${stderr.trim().slice(-4000)}`));
    });
  });
  return outdir;
}
