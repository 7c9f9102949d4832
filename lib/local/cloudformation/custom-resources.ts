/**
 * CloudFormation's part in a custom resource's life, at start and on every applied change:
 * compares the template's custom resources with the ones the previous run created (the state
 * file, or the running app under --watch) and sends each one's provider what CloudFormation
 * would — Create for a new one, Update (OldResourceProperties + ResourceProperties) for one
 * whose properties changed, nothing for an unchanged one — in dependency order; then, in the
 * cleanup, Delete for the removed ones (dependants first) and for the old physical id of a
 * replaced one.
 *
 * A failed Create or Update rolls the update back as CloudFormation does (aws-cdk's
 * docs/CLOUDFORMATION.md, "Rollbacks" and "Custom Resources"): UPDATE_ROLLBACK_IN_PROGRESS
 * sends Update back to the old properties (ResourceProperties = old, OldResourceProperties =
 * new) to each custom resource updated in place, the failed one included; a replaced one goes
 * back to its old physical id, which was never touched; then the rollback's cleanup sends
 * Delete to what the failed update created — new resources, the replacements' new physical
 * ids and the resource whose Create failed (the Provider framework answers that one with a
 * placeholder id and skips it). A failed cleanup Delete is reported and the resource forgotten,
 * as CloudFormation completes the update anyway.
 */
import { CustomResourceRecord, CustomResourceRecords, DeclaredCustomResource } from './context';
import { CustomResourceRequest, CustomResourceResponse, ProviderFramework } from './provider-framework';
import { dependencyOrder } from './assembly';
import { obj, Obj } from './values';

/** A custom resource's provider answered FAILED (or could not be run); `rolledBack` says what the rollback did. */
export class CustomResourceFailure extends Error {
  rolledBack: string[] = [];

  constructor(readonly key: string, readonly requestType: string, readonly reason: string, readonly physicalResourceId?: string) {
    super(`custom resource ${key} failed to ${requestType.toLowerCase()}: ${reason}`);
    this.name = 'CustomResourceFailure';
  }

  /** Adds the rollback's lines to the message (what the terminal prints). */
  withRollback(lines: string[]): this {
    this.rolledBack = lines;
    if (lines.length > 0) this.message += `\nrolled back, as CloudFormation does:\n${lines.map((l) => `  ${l}`).join('\n')}`;
    return this;
  }
}

/** What happened to each custom resource. */
export interface CustomResourceEvent {
  readonly key: string;
  readonly type: string;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly ms: number;
  /** Sent by a rollback. */
  readonly rollback?: boolean;
}

/** Declared custom resources, dependencies first (stable otherwise). */
export function inDependencyOrder(declared: DeclaredCustomResource[]): DeclaredCustomResource[] {
  return dependencyOrder(declared, (d) => d.key, (d) => d.dependsOn);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What the update phase did to one custom resource (what a rollback undoes). */
interface Done {
  readonly key: string;
  readonly old?: CustomResourceRecord;
  readonly now: CustomResourceRecord;
}

/** The request that failed, with what it was sent for. */
interface Failed {
  readonly key: string;
  readonly old?: CustomResourceRecord;
  readonly request: CustomResourceRequest;
  readonly serviceToken: string;
  readonly physicalResourceId?: string;
}

const splitKey = (key: string): [string, string] => [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];

/**
 * One stack update's custom resources: `update` (as many passes as the model builder needs,
 * see server/deploy.ts), then `cleanUp`, or `rollBack` after a failure.
 */
export class CustomResourceDeployer {
  /** Events sent, in order. */
  readonly events: CustomResourceEvent[] = [];
  private previous?: CustomResourceRecords;
  private readonly done: Done[] = [];
  private readonly handled = new Set<string>();
  private readonly replaced: Array<[string, CustomResourceRecord]> = [];
  private failed?: Failed;

  /** `framework`: the Provider framework of the services serving now (they are rebuilt between passes). */
  constructor(private readonly framework: () => ProviderFramework, private readonly log: (line: string) => void) {}

  /**
   * CloudFormation's update phase, as far as it can go: Create or Update to each declared
   * custom resource not handled yet, dependencies first, updating `records` (`Ref` and
   * `Fn::GetAtt` read them) as events succeed. One for which `mustWait` holds (a resource it
   * depends on must be rebuilt first), and those depending on it, are left for the next pass.
   * Returns how many were left; throws CustomResourceFailure.
   */
  async update(declared: DeclaredCustomResource[], records: CustomResourceRecords, mustWait: (d: DeclaredCustomResource) => boolean): Promise<number> {
    this.previous ??= { ...records };
    const waiting = new Set<string>();
    for (const d of inDependencyOrder(declared)) {
      if (this.handled.has(d.key)) continue;
      if (d.dependsOn.some((k) => waiting.has(k)) || mustWait(d)) { waiting.add(d.key); continue; }
      this.handled.add(d.key);
      const props = d.resolveProperties();
      const serviceToken = String(props.ServiceToken ?? '');
      const old = this.previous[d.key];
      if (old && same(old.properties, props)) continue;
      const request: CustomResourceRequest = old
        ? { RequestType: 'Update', StackId: d.stackId, LogicalResourceId: d.logicalId, ResourceType: d.type, ResourceProperties: props, OldResourceProperties: old.properties, PhysicalResourceId: old.physicalResourceId }
        : { RequestType: 'Create', StackId: d.stackId, LogicalResourceId: d.logicalId, ResourceType: d.type, ResourceProperties: props };
      let response: CustomResourceResponse;
      try {
        response = await this.send(d.key, serviceToken, request);
      } catch (e) {
        const f = e as CustomResourceFailure;
        this.failed = { key: d.key, old, request, serviceToken, physicalResourceId: f.physicalResourceId };
        throw e;
      }
      const now: CustomResourceRecord = { type: d.type, stackId: d.stackId, serviceToken, properties: props, physicalResourceId: response.PhysicalResourceId, data: obj(response.Data) };
      records[d.key] = now;
      this.done.push({ key: d.key, old, now });
      if (old && old.physicalResourceId !== response.PhysicalResourceId) this.replaced.push([d.key, old]);
    }
    return waiting.size;
  }

  /** CloudFormation's cleanup: deletes the removed custom resources (dependants first) and the replaced physical ids. */
  async cleanUp(declared: DeclaredCustomResource[], records: CustomResourceRecords): Promise<void> {
    const previous = this.previous ?? {};
    const kept = new Set(declared.map((d) => d.key));
    const removed = Object.entries(previous).filter(([key]) => !kept.has(key)).reverse();
    for (const [key, old] of [...this.replaced, ...removed]) {
      if (!kept.has(key)) delete records[key];
      const stackId = old.stackId ?? stackIdOf(declared, splitKey(key)[0]);
      await this.deleteQuietly(key, old, stackId, 'cleanup');
    }
  }

  /**
   * After a failed Create or Update: Update back to the old properties for what was updated in
   * place (the failed resource last), the old record for what was replaced, then Delete for
   * what the update created (newest first). `records` end as before the update, with the Data
   * of the rollback's answers. Returns one line per rolled-back resource.
   */
  async rollBack(records: CustomResourceRecords): Promise<string[]> {
    const lines: string[] = [];
    const deletes: Array<{ key: string; record: CustomResourceRecord; why: string }> = [];
    const failed = this.failed;
    const updated: Array<{ key: string; old: CustomResourceRecord; now: { properties: Obj; physicalResourceId: string } }> = [];
    for (const d of this.done) {
      if (!d.old) {
        delete records[d.key];
        deletes.push({ key: d.key, record: d.now, why: 'created by the failed update: deleted' });
      } else if (d.old.physicalResourceId !== d.now.physicalResourceId) {
        records[d.key] = d.old;
        deletes.push({ key: d.key, record: d.now, why: `replaced: back to ${d.old.physicalResourceId}, the new ${d.now.physicalResourceId} deleted` });
      } else updated.push({ key: d.key, old: d.old, now: d.now });
    }
    if (failed?.old) updated.push({ key: failed.key, old: failed.old, now: { properties: failed.request.ResourceProperties, physicalResourceId: failed.old.physicalResourceId } });
    else if (failed) {
      delete records[failed.key];
      if (failed.physicalResourceId) {
        deletes.push({ key: failed.key, why: 'its Create failed: deleted', record: { type: failed.request.ResourceType, stackId: failed.request.StackId, serviceToken: failed.serviceToken, properties: failed.request.ResourceProperties, physicalResourceId: failed.physicalResourceId, data: {} } });
      } else lines.push(`${failed.key} (${failed.request.ResourceType}): its Create failed without a physical id: no Delete sent`);
    }
    for (const u of updated) lines.push(await this.updateBack(u.key, u.old, u.now, records));
    for (const del of deletes.reverse()) {
      const ok = await this.deleteQuietly(del.key, del.record, del.record.stackId ?? '', 'rollback');
      lines.push(`${del.key} (${del.record.type}): ${del.why}${ok ? '' : ' (its Delete failed: the resource is left as it is)'}`);
    }
    return lines;
  }

  /** The rollback Update of one resource: ResourceProperties = old, OldResourceProperties = new. */
  private async updateBack(key: string, old: CustomResourceRecord, now: { properties: Obj; physicalResourceId: string }, records: CustomResourceRecords): Promise<string> {
    const [, logicalId] = splitKey(key);
    try {
      const response = await this.send(key, old.serviceToken, {
        RequestType: 'Update', StackId: old.stackId ?? '', LogicalResourceId: logicalId, ResourceType: old.type,
        ResourceProperties: old.properties, OldResourceProperties: now.properties, PhysicalResourceId: now.physicalResourceId,
      }, true);
      records[key] = { ...old, physicalResourceId: response.PhysicalResourceId, data: obj(response.Data) };
      return `${key} (${old.type}): Update back to its previous properties`;
    } catch (e) {
      // CloudFormation stops in UPDATE_ROLLBACK_FAILED; locally the previous record stays and the next change sends Update again.
      records[key] = old;
      return `${key} (${old.type}): its rollback Update failed (${(e as CustomResourceFailure).reason ?? (e as Error).message}): the provider may hold the new properties`;
    }
  }

  /** A Delete whose failure is reported, not thrown (cleanups complete anyway). */
  private async deleteQuietly(key: string, record: CustomResourceRecord, stackId: string, phase: string): Promise<boolean> {
    try {
      await this.send(key, record.serviceToken, {
        RequestType: 'Delete', StackId: stackId, LogicalResourceId: splitKey(key)[1], ResourceType: record.type, ResourceProperties: record.properties, PhysicalResourceId: record.physicalResourceId,
      }, phase === 'rollback');
      return true;
    } catch (e) {
      this.log(`keygate local: ${(e as Error).message} (${phase}: the resource is left as it is)`);
      return false;
    }
  }

  private async send(key: string, serviceToken: string, request: CustomResourceRequest, rollback = false): Promise<CustomResourceResponse> {
    const started = Date.now();
    let response;
    try {
      response = await this.framework().send(serviceToken, request);
    } catch (e) {
      throw new CustomResourceFailure(key, request.RequestType, (e as Error).message);
    }
    const ms = Date.now() - started;
    this.events.push({ key, type: request.ResourceType, requestType: request.RequestType, ms, ...(rollback ? { rollback } : {}) });
    if (response.Status !== 'SUCCESS') throw new CustomResourceFailure(key, request.RequestType, firstLine(response.Reason), response.PhysicalResourceId || undefined);
    this.log(`keygate local: custom resource ${key} (${request.ResourceType}): ${rollback ? 'rollback ' : ''}${request.RequestType} done in ${ms} ms`);
    return response;
  }
}

/** The first line of a reason (the framework appends the stack trace). */
function firstLine(reason: string): string {
  return (reason ?? '').split('\n').filter((l) => l.trim())[0] ?? 'no reason given';
}

function stackIdOf(declared: DeclaredCustomResource[], stackName: string): string {
  return declared.find((d) => d.stackName === stackName)?.stackId ?? `arn:aws:cloudformation:us-east-1:123456789012:stack/${stackName}/local`;
}

export type { Obj };
