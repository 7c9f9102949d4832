import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import type { IKeyProtectedApi } from '../api-contract';
import { KeygateError } from '../errors';
import { TAG_EXPIRES_AFTER_SECONDS, TAG_EXPIRES_AT } from '../shared/expiry-rule';
import { keyLifetimeSeconds } from './durations';
import { markEmulatedLocally, ScheduledJob, validateInterval } from './scheduled-job';

/**
 * When a client's key expires (trial and partner keys). An expired key is disabled, not
 * deleted, by the stack's KeyExpiry job, and the owner is told on its SNS topic.
 */
export abstract class Expiration {
  /** The key expires this long after it was created (each key generation counts from its own creation). */
  public static after(duration: Duration): Expiration {
    return new (class extends Expiration {
      public _tags(scope: IConstruct, property: string): { [key: string]: string } {
        return { [TAG_EXPIRES_AFTER_SECONDS]: String(keyLifetimeSeconds(scope, property, duration, 'Expiration.after needs a duration')) };
      }
    })();
  }

  /**
   * The key expires at this instant. A date already past at synth fails synth, unless the
   * client is declared `enabled: false`: once a key has expired, set that, so that the
   * template agrees with the key the expiry job disabled (see the README, "Key lifecycle").
   */
  public static atDate(date: Date): Expiration {
    return new (class extends Expiration {
      public _tags(scope: IConstruct, property: string, enabled: boolean): { [key: string]: string } {
        const instant = date.getTime();
        if (Number.isNaN(instant)) throw KeygateError.of(scope, property, 'Expiration.atDate needs a valid date', String(date));
        if (enabled && instant <= Date.now()) {
          throw KeygateError.of(scope, property,
            'is in the past, so the key would be created expired; move the date, remove the client, or, for a key that has expired and was disabled, declare it enabled: false',
            date.toISOString());
        }
        return { [TAG_EXPIRES_AT]: date.toISOString() };
      }
    })();
  }

  /**
   * The key's tags that record the expiry (the expiry job and the local gateway read them).
   * Throws a KeygateError naming `scope` and `property` for a bad expiry.
   * @internal
   */
  public abstract _tags(scope: IConstruct, property: string, enabled: boolean): { [key: string]: string };
}

/** Options of the stack's key-expiry job. */
export interface KeyExpiryProps {
  /**
   * Time between runs of the job. A key expires between its expiry and the next run (and
   * at once in the local gateway).
   * @default Duration.hours(1)
   */
  readonly schedule?: Duration;

  /**
   * Topic the job tells about each key it disables (subject, and a JSON message with the
   * key's id, name, customer id and expiry; message attributes `keyId`, `customerId` for
   * subscription filter policies).
   * @default - the alert topic of `api`
   */
  readonly topic?: sns.ITopic;

  /**
   * The API whose alert topic (`api.alertTopic`: KMS-encrypted, TLS only) the job notifies
   * when no `topic` is given. The job is one per stack: when expiring clients of several APIs
   * share a stack, give it a `topic`.
   * @default - the API of the first expiring client's tiers
   */
  readonly api?: IKeyProtectedApi;
}

const KEY_EXPIRY_ID = 'KeygateKeyExpiry';

/**
 * The job that disables expired keys of a stack: one per stack, created by the first client
 * with `expires`. It runs on a schedule and right after each update of the stack, reads each
 * expiring key's expiry from its tags, disables (never deletes) a key past it and publishes
 * a message to the topic. It only touches the keys of its stack's expiring clients.
 */
export class KeyExpiry extends Construct {
  /**
   * The stack's key-expiry job, created with default props on first use. To set props,
   * create it yourself (`new KeyExpiry(stack, 'KeygateKeyExpiry', props)`) before the clients.
   */
  public static of(scope: IConstruct): KeyExpiry {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(KEY_EXPIRY_ID) as KeyExpiry | undefined) ?? new KeyExpiry(stack, KEY_EXPIRY_ID);
  }

  private _topic?: sns.ITopic;
  /** The API whose alert topic is the default topic, once known. */
  private topicApi?: IKeyProtectedApi;
  /** The function the schedule runs (its Errors metric shows failed runs). */
  public readonly handler: lambda.IFunction;
  private readonly job: ScheduledJob;
  private readonly keyIds: string[] = [];
  /** Read and disable, on exactly the watched keys. */
  private readonly keyAccess = new iam.PolicyStatement({ actions: ['apigateway:GET', 'apigateway:PATCH'] });

  constructor(scope: Construct, id: string, props: KeyExpiryProps = {}) {
    super(scope, id);
    const every = props.schedule ?? Duration.hours(1);
    validateInterval(this, 'schedule', every, Duration.minutes(1), Duration.days(1));
    this.job = new ScheduledJob(this, 'Job', {
      handlerName: 'expire-keys',
      description: 'keygate: disables expired API keys',
      every,
      input: events.RuleTargetInput.fromObject({ keyIds: Lazy.list({ produce: () => this.keyIds }) }),
    });
    if (props.topic) this.useTopic(props.topic);
    else if (props.api) this.useTopic(props.api.alertTopic, props.api);
    this.handler = this.job.handler;
    // A deploy that updates a key can set Enabled back to the template's value: check again right after it.
    const stack = Stack.of(this);
    const afterStackUpdate = new events.Rule(this, 'AfterStackUpdate', {
      description: `Runs keygate's expiry job after each update of ${stack.stackName}`,
      eventPattern: {
        source: ['aws.cloudformation'],
        detailType: ['CloudFormation Stack Status Change'],
        detail: { 'stack-id': [stack.stackId], 'status-details': { status: ['UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE'] } },
      },
    });
    this.job.addTrigger(afterStackUpdate);
    // Locally, the gateway applies the expiry rule itself on every request: no schedule, no topic needed.
    const note = 'keygate\'s expiry job: the local gateway refuses expired keys itself';
    for (const part of [this.job.rule, afterStackUpdate]) markEmulatedLocally(part, note);
  }

  /** Where the owner hears about expired keys: the `topic` prop, else the alert topic of the API of the first expiring client. */
  public get topic(): sns.ITopic {
    if (!this._topic) throw KeygateError.of(this, 'topic', 'is not known yet: it is the alert topic of the API of the first expiring client; add one, or give KeyExpiry a topic or an api');
    return this._topic;
  }

  /**
   * Puts a key under the job's watch; the job may read and disable it, nothing else. `apis`
   * are the APIs of the key's tiers: without a `topic`, the job notifies the first one's alert topic.
   */
  public addKey(key: apigw.IApiKey, apis: IKeyProtectedApi[] = []): void {
    this.checkTopicFor(key, apis);
    if (this.keyIds.length === 0) this.job.handler.addToRolePolicy(this.keyAccess);
    this.keyIds.push(key.keyId);
    this.keyAccess.addResources(key.keyArn);
  }

  private useTopic(topic: sns.ITopic, api?: IKeyProtectedApi): void {
    this._topic = topic;
    this.topicApi = api;
    this.job.notify(topic);
  }

  /** Without a `topic`, every expiring key must belong to the API whose alert topic the job notifies. */
  private checkTopicFor(key: apigw.IApiKey, apis: IKeyProtectedApi[]): void {
    if (!this._topic) {
      if (apis.length === 0) throw KeygateError.of(key, 'expires', 'the key\'s tiers are all imported, so keygate knows no API whose alert topic the expiry job should notify; create the stack\'s KeyExpiry with a topic first (new KeyExpiry(stack, \'KeygateKeyExpiry\', { topic }))');
      this.useTopic(apis[0].alertTopic, apis[0]);
      return;
    }
    if (this.topicApi && !apis.includes(this.topicApi)) {
      throw KeygateError.of(key, 'expires', `the stack's KeyExpiry job notifies the alert topic of ${this.topicApi.node.path}, and this key belongs to another API; when expiring clients of several APIs share a stack, create the stack's KeyExpiry with a topic first (new KeyExpiry(stack, 'KeygateKeyExpiry', { topic }))`);
    }
  }
}
