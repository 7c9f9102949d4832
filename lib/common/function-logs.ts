import * as logs from 'aws-cdk-lib/aws-logs';
import { Aspects, CfnResource, IAspect, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/**
 * How long the logs of keygate's Lambda functions are kept, and what happens to them when the
 * stack is deleted: the rotation Lambda, the expiry, hygiene and quota jobs, the client-set
 * reconciler and the CDK Provider framework's functions and waiter state machine. One setting
 * per stack, read at synth, so it can be changed any time before:
 * `KeygateFunctionLogs.of(stack).retention = logs.RetentionDays.THREE_MONTHS`.
 */
export class KeygateFunctionLogs {
  /** The settings of `scope`'s stack. */
  public static of(scope: IConstruct): KeygateFunctionLogs {
    const stack = Stack.of(scope);
    let settings = SETTINGS.get(stack);
    if (!settings) {
      settings = new KeygateFunctionLogs();
      SETTINGS.set(stack, settings);
    }
    return settings;
  }

  /**
   * How long log events are kept. A year covers an annual audit of key rotations and
   * retirements; shorter is cheaper.
   * @default logs.RetentionDays.ONE_YEAR
   */
  public retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR;

  /**
   * What happens to the log groups when the stack is deleted (or a function removed).
   * DESTROY: they go with the stack, as the functions do; RETAIN keeps them until their
   * retention ends them.
   * @default RemovalPolicy.DESTROY
   */
  public removalPolicy: RemovalPolicy = RemovalPolicy.DESTROY;

  private constructor() {}
}

const SETTINGS = new WeakMap<Stack, KeygateFunctionLogs>();

/** Applies the stack's removal policy at synth, when the user's last word is known. */
class ApplyRemovalPolicy implements IAspect {
  constructor(private readonly logGroup: CfnResource) {}
  public visit(node: IConstruct): void {
    if (node === this.logGroup) this.logGroup.applyRemovalPolicy(KeygateFunctionLogs.of(node).removalPolicy);
  }
}

/**
 * A log group for one of keygate's functions (or the Provider framework's), with the
 * retention and removal policy of `KeygateFunctionLogs.of(scope)`.
 */
export function keygateLogGroup(scope: Construct, id: string): logs.LogGroup {
  const logGroup = new logs.LogGroup(scope, id);
  const resource = logGroup.node.defaultChild as logs.CfnLogGroup;
  resource.retentionInDays = Lazy.number({ produce: () => {
    const retention = KeygateFunctionLogs.of(scope).retention;
    return retention === logs.RetentionDays.INFINITE ? undefined : retention;
  } });
  Aspects.of(resource).add(new ApplyRemovalPolicy(resource));
  return logGroup;
}
