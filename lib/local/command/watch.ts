/**
 * `keygate local --watch`: watches the app's sources (the folder tree it runs in, without
 * node_modules, cdk.out* and .git), re-synthesizes after a change (debounced; one synth at a
 * time) and applies the new assembly to the running gateway as a stack update. A synth error
 * or a failed custom resource leaves the running app as it was and prints why.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LocalGateway } from '../gateway';
import { formatChanges } from '../cloudformation/template-diff';
import { synthesizeApp } from '../synth';

export interface WatchOptions {
  /** The folder of cdk.json (or where the app's command runs). */
  readonly cwd: string;
  /** The command that runs the app, instead of cdk.json's (as the CDK CLI's --app). */
  readonly app?: string;
  /** The assembly being served (removed when a newer one replaces it). */
  readonly assemblyDir: string;
  /** Milliseconds of quiet after a change before re-synthesizing. Default 300. */
  readonly debounceMs?: number;
  /** Where the summaries go. */
  readonly print: (line: string) => void;
  /** Called with the assembly now served. */
  readonly onApplied?: (assemblyDir: string) => void;
}

const IGNORED_SEGMENT = (segment: string): boolean => segment === 'node_modules' || segment === '.git' || segment.startsWith('cdk.out');

/** Whether a changed file (relative to the app's folder) is one of the app's sources. */
export function isSourceChange(file: string): boolean {
  return !file.split(/[\\/]/).some(IGNORED_SEGMENT);
}

/** Starts watching; returns a function that stops it. */
export function watchApp(gw: LocalGateway, options: WatchOptions): () => void {
  let current = options.assemblyDir;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  const applyOnce = async (): Promise<void> => {
    options.print('keygate local: the app changed; synthesizing…');
    let next: string;
    try {
      next = await synthesizeApp({ cwd: options.cwd, app: options.app });
    } catch (e) {
      options.print(`keygate local: the app failed to synthesize; still serving the previous version.\n${(e as Error).message}`);
      return;
    }
    try {
      const applied = await gw.apply(next);
      const lines = formatChanges(applied.changes);
      options.print(lines.length > 0 ? `keygate local: applied ${lines.length} change${lines.length === 1 ? '' : 's'}:\n${lines.map((l) => `  ${l}`).join('\n')}` : 'keygate local: no resource changed');
      for (const e of applied.customResourceEvents) options.print(`  custom resource ${e.key}: ${e.requestType} (${e.ms} ms)`);
      fs.rmSync(current, { recursive: true, force: true });
      current = next;
      options.onApplied?.(next);
    } catch (e) {
      options.print(`keygate local: the change was not applied; still serving the previous version.\n${(e as Error).message}`);
      fs.rmSync(next, { recursive: true, force: true });
    }
  };
  const run = async (): Promise<void> => {
    if (running) { again = true; return; }
    running = true;
    try {
      do { again = false; await applyOnce(); } while (again);
    } finally {
      running = false;
    }
  };
  const watcher = fs.watch(options.cwd, { recursive: true }, (_event, file) => {
    if (file && !isSourceChange(String(file))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timer = undefined; void run(); }, options.debounceMs ?? 300);
  });
  options.print(`keygate local: watching ${path.resolve(options.cwd)} for changes (node_modules, cdk.out*, .git ignored)`);
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
