/** What changed between two cloud assemblies, resource by resource, like `cdk diff`'s summary. */
import { CloudAssembly } from './assembly';
import { obj } from './values';

export interface ResourceChange {
  readonly kind: '+' | '-' | '~';
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** The construct path (`aws:cdk:path` without the stack), or the logical id. */
  readonly path: string;
}

/** What a deploy compares: everything but the metadata. */
function definition(resource: unknown): string {
  const r = obj(resource);
  return JSON.stringify([r.Type, r.Properties ?? {}, r.DependsOn ?? null, r.Condition ?? null, r.DeletionPolicy ?? null]);
}

function pathOf(stack: string, logicalId: string, resource: unknown): string {
  const cdkPath = obj(obj(resource).Metadata)['aws:cdk:path'];
  if (typeof cdkPath !== 'string') return logicalId;
  return cdkPath.startsWith(`${stack}/`) ? cdkPath.slice(stack.length + 1) : cdkPath;
}

export function diffAssemblies(before: CloudAssembly, after: CloudAssembly): ResourceChange[] {
  const changes: ResourceChange[] = [];
  const stacks = new Set([...before.stacks, ...after.stacks].map((s) => s.stackName));
  for (const stack of stacks) {
    const old = obj(before.stacks.find((s) => s.stackName === stack)?.template.Resources);
    const neu = obj(after.stacks.find((s) => s.stackName === stack)?.template.Resources);
    for (const [logicalId, r] of Object.entries(neu)) {
      if (!(logicalId in old)) changes.push({ kind: '+', stack, logicalId, type: String(obj(r).Type), path: pathOf(stack, logicalId, r) });
      else if (definition(old[logicalId]) !== definition(r)) changes.push({ kind: '~', stack, logicalId, type: String(obj(r).Type), path: pathOf(stack, logicalId, r) });
    }
    for (const [logicalId, r] of Object.entries(old)) {
      if (!(logicalId in neu)) changes.push({ kind: '-', stack, logicalId, type: String(obj(r).Type), path: pathOf(stack, logicalId, r) });
    }
  }
  return changes;
}

/** `[+] AWS::ApiGateway::Method Api/Default/pets/GET`, one line per change (stack-prefixed with several stacks). */
export function formatChanges(changes: ResourceChange[]): string[] {
  const several = new Set(changes.map((c) => c.stack)).size > 1;
  return changes.map((c) => `[${c.kind}] ${c.type} ${several ? `${c.stack}/` : ''}${c.path}`);
}
