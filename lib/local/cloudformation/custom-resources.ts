/**
 * CloudFormation's part in a custom resource's life, at start and on every applied change:
 * compares the template's custom resources with the ones the previous run created (the state
 * file, or the running app under --watch) and sends each one's provider what CloudFormation
 * would — Create for a new one, Update (OldResourceProperties + ResourceProperties) for one
 * whose properties changed, nothing for an unchanged one — in dependency order; then, in the
 * cleanup, Delete for the removed ones (dependants first) and for the old physical id of a
 * replaced one. A failed Create or Update stops there with the provider's reason, as
 * CloudFormation rolls back; a failed cleanup Delete is reported and the resource forgotten.
 */
import { CustomResourceRecord, CustomResourceRecords, DeclaredCustomResource } from './context';
import { CustomResourceRequest, ProviderFramework } from './provider-framework';
import { dependencyOrder } from './assembly';
import { obj, Obj } from './values';

/** A custom resource's provider answered FAILED (or could not be run). */
export class CustomResourceFailure extends Error {
  constructor(readonly key: string, readonly requestType: string, readonly reason: string) {
    super(`custom resource ${key} failed to ${requestType.toLowerCase()}: ${reason}`);
    this.name = 'CustomResourceFailure';
  }
}

/** What happened to each custom resource. */
export interface CustomResourceEvent {
  readonly key: string;
  readonly type: string;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly ms: number;
}

/** Declared custom resources, dependencies first (stable otherwise). */
export function inDependencyOrder(declared: DeclaredCustomResource[]): DeclaredCustomResource[] {
  return dependencyOrder(declared, (d) => d.key, (d) => d.dependsOn);
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export class CustomResourceDeployer {
  /** Events sent, in order. */
  readonly events: CustomResourceEvent[] = [];

  constructor(private readonly framework: ProviderFramework, private readonly log: (line: string) => void) {}

  /**
   * Brings `records` (the previous run's, updated in place as events succeed: `Ref` and
   * `Fn::GetAtt` read them) to the declared custom resources. Throws CustomResourceFailure.
   */
  async deploy(declared: DeclaredCustomResource[], records: CustomResourceRecords): Promise<void> {
    const previous: CustomResourceRecords = { ...records };
    const replaced: Array<[string, CustomResourceRecord]> = [];
    for (const d of inDependencyOrder(declared)) {
      const props = d.resolveProperties();
      const serviceToken = String(props.ServiceToken ?? '');
      const old = previous[d.key];
      if (old && same(old.properties, props)) continue;
      const request: CustomResourceRequest = old
        ? { RequestType: 'Update', StackId: d.stackId, LogicalResourceId: d.logicalId, ResourceType: d.type, ResourceProperties: props, OldResourceProperties: old.properties, PhysicalResourceId: old.physicalResourceId }
        : { RequestType: 'Create', StackId: d.stackId, LogicalResourceId: d.logicalId, ResourceType: d.type, ResourceProperties: props };
      const response = await this.send(d.key, serviceToken, request);
      records[d.key] = { type: d.type, stackId: d.stackId, serviceToken, properties: props, physicalResourceId: response.PhysicalResourceId, data: obj(response.Data) };
      if (old && old.physicalResourceId !== response.PhysicalResourceId) replaced.push([d.key, old]);
    }
    await this.cleanUp(declared, previous, records, replaced);
  }

  /** CloudFormation's cleanup: deletes the removed custom resources (dependants first) and the replaced physical ids. */
  private async cleanUp(declared: DeclaredCustomResource[], previous: CustomResourceRecords, records: CustomResourceRecords, replaced: Array<[string, CustomResourceRecord]>): Promise<void> {
    const kept = new Set(declared.map((d) => d.key));
    const removed = Object.entries(previous).filter(([key]) => !kept.has(key)).reverse();
    for (const [key, old] of [...replaced, ...removed]) {
      if (!kept.has(key)) delete records[key];
      const [stackName, logicalId] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
      const stackId = old.stackId ?? stackIdOf(declared, stackName);
      try {
        await this.send(key, old.serviceToken, {
          RequestType: 'Delete', StackId: stackId, LogicalResourceId: logicalId, ResourceType: old.type, ResourceProperties: old.properties, PhysicalResourceId: old.physicalResourceId,
        });
      } catch (e) {
        // CloudFormation reports a failed cleanup delete and completes the update.
        this.log(`keygate local: ${(e as Error).message} (cleanup: the resource is left as it is)`);
      }
    }
  }

  private async send(key: string, serviceToken: string, request: CustomResourceRequest): Promise<{ PhysicalResourceId: string; Data?: Obj }> {
    const started = Date.now();
    let response;
    try {
      response = await this.framework.send(serviceToken, request);
    } catch (e) {
      throw new CustomResourceFailure(key, request.RequestType, (e as Error).message);
    }
    this.events.push({ key, type: request.ResourceType, requestType: request.RequestType, ms: Date.now() - started });
    if (response.Status !== 'SUCCESS') throw new CustomResourceFailure(key, request.RequestType, firstLine(response.Reason));
    this.log(`keygate local: custom resource ${key} (${request.ResourceType}): ${request.RequestType} done in ${Date.now() - started} ms`);
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
