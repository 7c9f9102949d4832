/**
 * The previous app's custom-resource providers, kept next to the state file (`FILE.assembly/`)
 * so that a restart with `--state` can send Delete to a custom resource the app no longer
 * declares even when its provider went with it (the app's last ClientSet removed, and with it
 * the Provider framework's functions and the reconciler). On AWS, CloudFormation invokes the old
 * provider functions: they still exist until the stack update's cleanup phase deletes them, after
 * the custom resource's Delete (aws-cdk's docs/CLOUDFORMATION.md, "Custom Resources"; the
 * CloudFormation user guide, "Update behaviors of stack resources").
 *
 * The copy holds the assembly's manifests, templates and asset manifests and only the asset
 * folders of the functions the custom resources' providers run: the ServiceToken's function,
 * the functions its environment names (the Provider framework's user onEvent/isComplete) and the
 * tasks of the waiter state machine it names (the framework's isComplete/onTimeout). It is
 * written to a temp folder and renamed into place after each successful start or applied change,
 * and removed once no custom resource is left.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { LambdaFunction } from '../apigateway/model';
import { CloudAssembly, loadAssembly } from './assembly';
import { buildModel } from './build-model';
import { CustomResourceRecords, PersistedTemplateValues } from './context';
import { obj, Obj } from './values';

/** Functions and state machines by ARN (what the Provider framework's runtime looks its provider up in). */
export interface Providers {
  readonly functions: Map<string, LambdaFunction>;
  readonly stateMachines: Map<string, Obj>;
}

/** Where the providers of a state file's custom resources are kept. */
export function keptAssemblyDir(statePath: string): string {
  return `${statePath}.assembly`;
}

/** The functions the records' providers run: each ServiceToken's, and those their environments and waiters name, transitively. */
export function providerFunctions(records: CustomResourceRecords, providers: Providers): LambdaFunction[] {
  const out = new Map<string, LambdaFunction>();
  const machines = new Set<string>();
  const visit = (arn: string): void => {
    const fn = providers.functions.get(arn);
    if (fn && !out.has(arn)) {
      out.set(arn, fn);
      for (const value of Object.values(fn.environment)) visit(value);
    }
    const machine = providers.stateMachines.get(arn);
    if (machine && !machines.has(arn)) {
      machines.add(arn);
      for (const state of Object.values(obj(machine.States))) visit(String(obj(state).Resource ?? ''));
    }
  };
  for (const record of Object.values(records)) visit(record.serviceToken);
  return [...out.values()];
}

/** The folders of the assembly that hold its manifests and templates: each stack's (nested) assembly and those above it. */
function manifestDirs(assembly: CloudAssembly): string[] {
  const dirs = new Set<string>([assembly.dir]);
  for (const stack of assembly.stacks) {
    for (let dir = stack.assemblyDir; dir.startsWith(assembly.dir) && !dirs.has(dir); dir = path.dirname(dir)) dirs.add(dir);
  }
  return [...dirs];
}

/** What loadAssembly reads: the manifests, the templates and the asset manifests (not tree.json, metadata or file assets). */
const ASSEMBLY_FILE = /^(manifest\.json|.+\.template\.json|.+\.assets\.json)$/;

const inside = (root: string, p: string): boolean => !path.relative(root, p).startsWith('..') && !path.isAbsolute(path.relative(root, p));

/**
 * Keeps `functions`' code with the assembly's manifests and templates in `target` (replacing
 * what was kept), or removes `target` when there is nothing to keep. Functions whose code lies
 * outside the assembly are found where they are.
 */
export function keepProviders(target: string, assembly: CloudAssembly, functions: LambdaFunction[]): void {
  if (functions.length === 0) {
    fs.rmSync(target, { recursive: true, force: true });
    return;
  }
  const suffix = randomBytes(6).toString('hex');
  const tmp = `${target}.${suffix}.tmp`;
  try {
    for (const dir of manifestDirs(assembly)) {
      const into = path.join(tmp, path.relative(assembly.dir, dir));
      fs.mkdirSync(into, { recursive: true });
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.isFile() && ASSEMBLY_FILE.test(entry.name)) fs.copyFileSync(path.join(dir, entry.name), path.join(into, entry.name), fs.constants.COPYFILE_FICLONE);
      }
    }
    const codeDirs = new Set(functions.flatMap((fn) => (fn.codeDir && inside(assembly.dir, fn.codeDir) ? [fn.codeDir] : [])));
    for (const codeDir of codeDirs) fs.cpSync(codeDir, path.join(tmp, path.relative(assembly.dir, codeDir)), { recursive: true });
    const old = `${target}.${suffix}.old`;
    if (fs.existsSync(target)) fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * The kept providers, built from the kept copy with the state file's values (the same ARNs,
 * environments, handlers and runtimes as when they ran), if a record's ServiceToken is not one
 * of `current`'s functions; undefined otherwise or when nothing was kept.
 */
export function keptProviders(target: string, records: CustomResourceRecords, current: Map<string, LambdaFunction>, persisted: PersistedTemplateValues | undefined, now: number): Providers | undefined {
  if (!Object.values(records).some((r) => !current.has(r.serviceToken))) return undefined;
  if (!fs.existsSync(path.join(target, 'manifest.json'))) return undefined;
  const built = buildModel(loadAssembly(target), persisted, now, { ...records });
  return { functions: built.model.functions, stateMachines: built.stateMachines };
}
