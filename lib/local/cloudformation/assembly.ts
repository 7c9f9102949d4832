/**
 * Loads a CDK cloud assembly directory (a `cdk.out` folder): manifest.json, every
 * stack's template, and the asset manifests, with assets resolved to their folders.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface AssemblyAsset {
  /** Content hash under which the asset manifest lists the asset. */
  readonly hash: string;
  /** Absolute path of the asset in the assembly dir (may not exist). */
  readonly path: string;
  readonly packaging: string;
}

export interface AssemblyStack {
  /** Artifact id in the manifest. */
  readonly artifactId: string;
  /** CloudFormation stack name. */
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: Record<string, unknown>;
  readonly dependencies: string[];
  /** Directory of the (possibly nested) assembly this stack belongs to. */
  readonly assemblyDir: string;
  /** Parameter values given in the manifest, if any. */
  readonly parameters: Record<string, unknown>;
}

export interface CloudAssembly {
  readonly dir: string;
  readonly version: string;
  /** Stacks in deployment order (dependencies first). */
  readonly stacks: AssemblyStack[];
  /** Assets by hash. */
  readonly assets: Map<string, AssemblyAsset>;
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Loads the assembly in `dir`. Throws with a message naming the file if the assembly is unreadable. */
export function loadAssembly(dir: string): CloudAssembly {
  const root = path.resolve(dir);
  const manifestFile = path.join(root, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new Error(`${root} is not a cloud assembly: manifest.json not found (synthesize the app first, e.g. with cdk synth)`);
  }
  const stacks: AssemblyStack[] = [];
  const assets = new Map<string, AssemblyAsset>();
  let version = '';
  const visit = (asmDir: string, depth: number): void => {
    const manifest = readJson(path.join(asmDir, 'manifest.json'));
    if (!version) version = String(manifest.version ?? '');
    const artifacts = obj(manifest.artifacts);
    for (const [id, artRaw] of Object.entries(artifacts)) {
      const art = obj(artRaw);
      const props = obj(art.properties);
      if (art.type === 'aws:cloudformation:stack') {
        const templateFile = String(props.templateFile ?? `${id}.template.json`);
        const template = readJson(path.join(asmDir, templateFile));
        stacks.push({
          artifactId: id,
          stackName: typeof props.stackName === 'string' ? props.stackName : id,
          templateFile,
          template,
          dependencies: Array.isArray(art.dependencies) ? art.dependencies.map(String) : [],
          assemblyDir: asmDir,
          parameters: obj(props.parameters),
        });
        // Legacy (pre asset-manifest) asset metadata.
        for (const entries of Object.values(obj(art.metadata))) {
          if (!Array.isArray(entries)) continue;
          for (const e of entries) {
            const entry = obj(e);
            if (entry.type !== 'aws:cdk:asset') continue;
            const data = obj(entry.data);
            if (typeof data.path === 'string' && typeof data.sourceHash === 'string') {
              assets.set(data.sourceHash, { hash: data.sourceHash, path: path.join(asmDir, data.path), packaging: String(data.packaging ?? 'file') });
              if (typeof data.id === 'string') assets.set(data.id, { hash: data.id, path: path.join(asmDir, data.path), packaging: String(data.packaging ?? 'file') });
            }
          }
        }
      } else if (art.type === 'cdk:asset-manifest') {
        const file = path.join(asmDir, String(props.file ?? ''));
        if (!fs.existsSync(file)) continue; // referenced but absent: nothing to resolve from it
        const am = readJson(file);
        for (const [hash, fRaw] of Object.entries(obj(am.files))) {
          const source = obj(obj(fRaw).source);
          if (typeof source.path === 'string') {
            assets.set(hash, { hash, path: path.join(asmDir, source.path), packaging: String(source.packaging ?? 'file') });
          }
        }
      } else if (art.type === 'cdk:cloud-assembly' && depth < 5) {
        const sub = String(props.directoryName ?? '');
        if (sub && fs.existsSync(path.join(asmDir, sub, 'manifest.json'))) visit(path.join(asmDir, sub), depth + 1);
      }
    }
  };
  visit(root, 0);
  return { dir: root, version, stacks: orderStacks(stacks), assets };
}

/** Topological order over the manifest's dependencies (stable for independent stacks). */
function orderStacks(stacks: AssemblyStack[]): AssemblyStack[] {
  return dependencyOrder(stacks, (s) => s.artifactId, (s) => s.dependencies);
}

/** Items with their dependencies first, otherwise in their order; a cycle is cut rather than looped. */
export function dependencyOrder<T>(items: T[], keyOf: (item: T) => string, dependenciesOf: (item: T) => string[]): T[] {
  const byKey = new Map(items.map((item) => [keyOf(item), item]));
  const out: T[] = [];
  const visited = new Set<string>();
  const visit = (item: T): void => {
    if (visited.has(keyOf(item))) return;
    visited.add(keyOf(item));
    for (const d of dependenciesOf(item)) {
      const dep = byKey.get(d);
      if (dep) visit(dep);
    }
    out.push(item);
  };
  items.forEach(visit);
  return out;
}
