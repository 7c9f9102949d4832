/**
 * Custom resources (`Custom::…`, `AWS::CloudFormation::CustomResource`) and the Provider
 * framework's waiter state machine as the model builder records them: each custom resource
 * with what it depends on (its place in CloudFormation's order), which resources read its
 * `Ref`/`Fn::GetAtt` (they are rebuilt once it ran, as CloudFormation creates them after it)
 * and a way to resolve its properties when its turn comes; `Ref` and `Fn::GetAtt` of one read
 * what its last event left.
 */
import { CustomResourceRecords, ResourceHandler, StackContext } from './context';
import { isAwsCustomResourceProvider, unemulatedCalls } from './aws-custom-resource';
import { unsupportedProvider } from './provider-framework';
import { obj, Obj } from './values';

export function isCustomResourceType(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}

/** The logical ids a value refers to: Ref, Fn::GetAtt, and the `${…}` of Fn::Sub. */
function references(value: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) references(v, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value as Obj)) {
      if (k === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::')) out.add(v);
      else if (k === 'Fn::GetAtt') {
        const id = Array.isArray(v) ? v[0] : typeof v === 'string' ? v.split('.')[0] : undefined;
        if (typeof id === 'string') out.add(id);
      } else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        for (const m of String(text).matchAll(/\$\{([^!}][^}.]*)(\.[^}]*)?\}/g)) if (!m[1].startsWith('AWS::')) out.add(m[1]);
      }
      references(v, out);
    }
  }
  return out;
}

/** Direct dependencies of every resource of a template: DependsOn and references. */
export function directDependencies(resources: Obj): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>();
  for (const [id, raw] of Object.entries(resources)) {
    const r = obj(raw);
    const set = references(r.Properties, new Set<string>());
    const dependsOn = r.DependsOn;
    for (const d of Array.isArray(dependsOn) ? dependsOn : dependsOn === undefined ? [] : [dependsOn]) set.add(String(d));
    set.delete(id);
    deps.set(id, new Set([...set].filter((d) => d in resources)));
  }
  return deps;
}

/** The resources `logicalId` depends on, directly or through others. */
function closure(deps: Map<string, Set<string>>, logicalId: string): Set<string> {
  const seen = new Set<string>();
  const visit = (id: string): void => {
    for (const d of deps.get(id) ?? []) {
      if (seen.has(d)) continue;
      seen.add(d);
      visit(d);
    }
  };
  visit(logicalId);
  seen.delete(logicalId);
  return seen;
}

/** Which resources of the stack read each custom resource's Ref or GetAtt: logical id → the custom resources it reads. */
function customReads(ctx: StackContext): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const isCustom = (id: string): boolean => isCustomResourceType(String(obj(ctx.resources[id]).Type));
  for (const [id, raw] of Object.entries(ctx.resources)) {
    if (ctx.skipped.has(id) || isCustom(id)) continue;
    const read = [...references(obj(raw).Properties, new Set<string>())].filter((d) => d in ctx.resources && isCustom(d));
    if (read.length > 0) out.set(id, read);
  }
  return out;
}

/** The custom resources an exported output reads (other stacks import it). */
function exportedReads(ctx: StackContext): Set<string> {
  const out = new Set<string>();
  for (const o of Object.values(obj(ctx.stack.template.Outputs))) {
    if (obj(o).Export !== undefined) references(obj(o).Value, out);
  }
  return out;
}

/**
 * Records the stack's custom resources (their properties are resolved when they run), with
 * what CloudFormation's order means for the model builder: which resources read them, and
 * which custom resources must wait for those to be rebuilt. `emulated` says whether a type is
 * one the model builds (what an IAM policy reads changes nothing locally).
 */
export function declareCustomResources(ctx: StackContext, emulated: (type: string) => boolean): void {
  const deps = directDependencies(ctx.resources);
  const reads = customReads(ctx);
  const readByOthers = exportedReads(ctx);
  for (const [id, read] of reads) if (emulated(String(obj(ctx.resources[id]).Type))) for (const r of read) readByOthers.add(r);
  for (const [logicalId, raw] of Object.entries(ctx.resources)) {
    const type = String(obj(raw).Type);
    if (!isCustomResourceType(type) || ctx.skipped.has(logicalId)) continue;
    // The Provider framework's custom resources and AwsCustomResource calls to emulated services run; others (SNS-backed, other Lambdas) are listed as not emulated.
    const serviceToken = String(ctx.resolver.resolve(obj(obj(raw).Properties).ServiceToken) ?? '');
    const fn = ctx.model.functions.get(serviceToken);
    const unsupported = unsupportedProvider(fn, serviceToken) ?? (isAwsCustomResourceProvider(fn) ? unemulatedCalls(obj(raw).Properties) : undefined);
    if (unsupported) {
      ctx.report(logicalId, type, unsupported);
      continue;
    }
    const upstream = closure(deps, logicalId);
    const dependsOn = [...upstream].filter((d) => isCustomResourceType(String(obj(ctx.resources[d]).Type))).map((d) => ctx.seed(d));
    const waitsFor = new Set([...upstream].flatMap((d) => reads.get(d) ?? []).filter((c) => readByOthers.has(c) && c !== logicalId));
    ctx.declaredCustomResources.push({
      key: ctx.seed(logicalId), stackName: ctx.stackName, stackId: ctx.stackId, logicalId, type, dependsOn,
      waitsForRebuildAfter: [...waitsFor].map((c) => ctx.seed(c)), readByOthers: readByOthers.has(logicalId),
      resolveProperties: () => obj(ctx.resolver.resolve(obj(raw).Properties ?? {})),
    });
  }
}

/** `Ref` of a custom resource: its physical id, once it ran. */
export function customResourceRef(records: CustomResourceRecords, key: string): string | undefined {
  return records[key]?.physicalResourceId;
}

/** `Fn::GetAtt` of a custom resource: a field of its provider's Data, once it ran. */
export function customResourceAttribute(records: CustomResourceRecords, key: string, attr: string): unknown {
  const value = records[key]?.data[attr];
  return value === undefined || typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

/** AWS::StepFunctions::StateMachine: its definition, for the Provider framework's waiter. */
export const stateMachineHandler: ResourceHandler = {
  type: 'AWS::StepFunctions::StateMachine',
  build(ctx, resources) {
    for (const { logicalId, props } of resources) {
      const arn = ctx.ref(logicalId);
      const text = props.DefinitionString;
      try {
        if (arn && typeof text === 'string') ctx.stateMachines.set(arn, obj(JSON.parse(text)));
        else ctx.report(logicalId, 'AWS::StepFunctions::StateMachine', 'its definition cannot be resolved locally');
      } catch {
        ctx.report(logicalId, 'AWS::StepFunctions::StateMachine', 'its definition is not valid JSON');
      }
      ctx.model.ignored.push({ stack: ctx.stackName, logicalId, type: 'AWS::StepFunctions::StateMachine', reason: 'runs as the waiter of its custom resources\' provider' });
    }
  },
};
