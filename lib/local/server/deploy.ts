/**
 * A stack deployment's custom resources in CloudFormation's order, with the resources that
 * read them. The model is built before custom resources can run (their providers call back into
 * the gateway), so a resource whose property is a custom resource's `Ref` or `Fn::GetAtt`
 * (an API key's description, a stage variable, a function's environment…) is first built
 * without it, or with what the last run left. CloudFormation creates such a resource after the
 * custom resource, so it sees the new value on the first deploy; here, once a custom resource
 * that other resources read got a new physical id or Data, the model is rebuilt from the same
 * app with the running state carried over (the `--watch` path), before any custom resource that
 * depends on those readers runs, and once more at the end. Then CloudFormation's cleanup; or,
 * after a failed Create or Update, its rollback (cloudformation/custom-resources.ts).
 */
import { CustomResourceRecord } from '../cloudformation/context';
import { CustomResourceDeployer, CustomResourceEvent, CustomResourceFailure } from '../cloudformation/custom-resources';
import { GatewayServices } from './setup';

/** The services a deployment works on: the ones serving now, and a way to rebuild them. */
export interface DeployTarget {
  current(): GatewayServices;
  /** Rebuilds the model from the same app and the current state (the custom resources' records included), and serves it. */
  rebuild(): Promise<void>;
}

export interface Deployment {
  readonly events: CustomResourceEvent[];
  /** How many times the model was rebuilt for resources that read a custom resource. */
  readonly rebuilds: number;
}

/** What `Ref` and `Fn::GetAtt` of a custom resource read. */
const fingerprint = (r: CustomResourceRecord | undefined): string => JSON.stringify(r ? [r.physicalResourceId, r.data] : null);

/**
 * Runs the template's custom resources as CloudFormation would on this deploy (Create, Update,
 * Delete against what ran before), rebuilding the model where resources read them, then saves
 * the state. A failed Create or Update is rolled back, then CustomResourceFailure is thrown
 * with the provider's reason and what the rollback did.
 */
export async function deployStack(target: DeployTarget, log: (line: string) => void): Promise<Deployment> {
  const first = target.current().customResources;
  if (first.declared.length === 0 && Object.keys(first.records).length === 0) return { events: [], rebuilds: 0 };
  const deployer = new CustomResourceDeployer(() => target.current().providerFramework, log);
  let rebuilds = 0;
  try {
    for (;;) {
      const { declared, records } = target.current().customResources;
      const builtWith = new Map(Object.entries(records).map(([key, r]) => [key, fingerprint(r)]));
      const changed = (key: string): boolean => fingerprint(records[key]) !== (builtWith.get(key) ?? fingerprint(undefined));
      const waiting = await deployer.update(declared, records, (d) => d.waitsForRebuildAfter.some(changed));
      const stale = declared.some((d) => d.readByOthers && records[d.key] && changed(d.key));
      if (stale) {
        await target.rebuild();
        rebuilds++;
      }
      if (waiting === 0) break;
      if (!stale) throw new Error(`keygate local: ${waiting} custom resources wait for a rebuild that nothing asked for`);
    }
    const { declared, records } = target.current().customResources;
    await deployer.cleanUp(declared, records);
  } catch (e) {
    if (!(e instanceof CustomResourceFailure)) throw e;
    throw e.withRollback(await deployer.rollBack(target.current().customResources.records));
  } finally {
    target.current().store?.saveNow();
  }
  return { events: deployer.events, rebuilds };
}
