import { createHash } from 'crypto';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Annotations, ArnFormat, Resource, SecretValue, Stack, Tags, Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import type { IKeyProtectedApi } from './api-contract';
import { associateKey } from './association';
import { acknowledgeNag } from './common/nag';
import { formatProblem, KeygateError } from './errors';
import { KeyRotation, KeyRotationRunner } from './lifecycle/key-rotation';
import { Expiration, KeyExpiry } from './lifecycle/expiration';
import { claimClientName, KeyValueClaim, registryOf } from './registry';
import { ITier, Tier } from './tier';
import { TAG_BASE_NAME, TAG_GENERATION } from './shared/constants';
import { validateApiKeyValue, validateGenerations, validateKeyValueReference, validateName } from './validation';

/** Where the value of a client's API key comes from. */
export abstract class KeyValue {
  /**
   * API Gateway generates the value. Read it with
   * `aws apigateway get-api-key --api-key ID --include-value` or `keygate keys show`.
   */
  public static generated(): KeyValue {
    return new (class extends KeyValue {
      public readonly _kind = 'generated';
    })();
  }

  /**
   * A Secrets Manager secret with a generated 40-character alphanumeric value, one per key
   * generation. The ApiKey references it with a `{{resolve:secretsmanager:…}}` dynamic
   * reference, so the value is in no template; consumers read the secret (`grantRead`).
   */
  public static secretsManager(): KeyValue {
    return new (class extends KeyValue {
      public readonly _kind = 'secretsManager';
    })();
  }

  /**
   * An explicit value, e.g. `SecretValue.secretsManager('partner/acme')`. Not
   * `SecretValue.ssmSecure(...)`: CloudFormation doesn't resolve ssm-secure references in an
   * ApiKey Value. A plain value (`SecretValue.unsafePlainText`) would land in the template;
   * keygate warns when it sees one.
   */
  public static fromSecretValue(value: SecretValue): KeyValue {
    return new (class extends KeyValue {
      public readonly _kind = 'explicit';
      public readonly _secretValue = value;
    })();
  }

  /** @internal */
  public abstract readonly _kind: 'generated' | 'secretsManager' | 'explicit';
  /** @internal */
  public readonly _secretValue?: SecretValue;
}

interface GenerationKeyProps {
  readonly name: string;
  readonly value?: string;
  readonly enabled: boolean;
  readonly description?: string;
  readonly customerId?: string;
  readonly tags: { [key: string]: string };
}

/**
 * The AWS::ApiGateway::ApiKey of one key generation. Tags go straight into the resource
 * rather than through `Tags.of` (an aspect per tag per key), which keeps synth time flat
 * for apps with hundreds of clients. Same construct path as an aws-cdk-lib ApiKey would have.
 */
class GenerationKey extends Resource implements apigw.IApiKey {
  public readonly keyId: string;
  public readonly keyArn: string;

  constructor(scope: Construct, id: string, props: GenerationKeyProps) {
    super(scope, id, { physicalName: props.name });
    const resource = new apigw.CfnApiKey(this, 'Resource', {
      name: props.name,
      value: props.value,
      enabled: props.enabled,
      description: props.description,
      customerId: props.customerId,
      tags: Object.keys(props.tags).sort().map((key) => ({ key, value: props.tags[key] })),
    });
    this.keyId = resource.ref;
    this.keyArn = Stack.of(this).formatArn({
      service: 'apigateway',
      account: '',
      resource: '/apikeys',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      resourceName: this.keyId,
    });
  }

  public get apiKeyRef(): apigw.ApiKeyReference {
    return { apiKeyId: this.keyId };
  }
}

/** Options of a client, as `api.addClient(id, options)` takes them. */
export interface ClientOptions {
  /** Tiers (usage plans) the client's key is in; at most one per API stage, at most 10. */
  readonly tiers: ITier[];

  /**
   * Name of the client. The key of generation 1 is named after it, generation N
   * `<name>-gen<N>`. Part of the key's identity: renaming replaces the key.
   * @default - the construct id
   */
  readonly clientName?: string;

  /**
   * Where the key's value comes from.
   * @default KeyValue.generated()
   */
  readonly keyValue?: KeyValue;

  /**
   * Whether the key is enabled. A disabled key gets 403.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Description of the key.
   * @default - none
   */
  readonly description?: string;

  /**
   * AWS Marketplace customer id of the key.
   * @default - none
   */
  readonly customerId?: string;

  /**
   * Tags of the key (and of its secret).
   * @default - keygate's own tags only (keygate:client, keygate:generation)
   */
  readonly tags?: { [key: string]: string };

  /**
   * Key generations that exist. Rotation in code: deploy `[1, 2]` so that generation 2 is
   * created beside 1 and both work during the overlap, then deploy `[2]` to delete
   * generation 1. Each generation has its own stable logical id (and secret).
   * @default [1]
   */
  readonly generations?: number[];

  /**
   * A key that exists already (e.g. `apigw.ApiKey.fromApiKeyId(...)`): keygate only
   * associates it with the tiers. `keyValue`, `generations`, `enabled` and the other key
   * properties then don't apply.
   * @default - keygate creates the key
   */
  readonly existingKey?: apigw.IApiKey;

  /**
   * Rotate the key on a schedule, e.g. `KeyRotation.every(Duration.days(90), { overlap: Duration.days(7) })`.
   * Needs `keyValue: KeyValue.secretsManager()`. The client's keys then belong to the rotation
   * schedule, not to the stack: the stack creates the secret and its schedule, and the first
   * rotation (at deploy) creates the first key. Consumers read the key from `secret`
   * (`grantRead`); `apiKey` and `generations` don't apply.
   * @default - no scheduled rotation
   */
  readonly rotation?: KeyRotation;

  /**
   * When the key expires (trial and partner keys): `Expiration.after(Duration.days(14))` or
   * `Expiration.atDate(new Date('2027-01-31T00:00:00Z'))`. The stack's KeyExpiry job then
   * disables (never deletes) the key and tells the owner; the local gateway answers 403.
   * @default - the key never expires
   */
  readonly expires?: Expiration;
}

/** Properties of a Client. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the aws-cdk Options/Props split: construct-only fields go here
export interface ClientProps extends ClientOptions {}

/** One generation of a client's key. */
export interface KeyGeneration {
  /** Generation number. */
  readonly generation: number;
  /** The key. */
  readonly apiKey: apigw.IApiKey;
  /** The secret that holds its value, when the value lives in Secrets Manager. */
  readonly secret?: secretsmanager.ISecret;
}

/**
 * A client of the API: an API key in one or more tiers. Logical ids of the key, its secret
 * and its tier associations derive from the client's name, the generation and the tier, so
 * adding, removing or reordering clients never replaces another client's key.
 */
export class Client extends Construct {
  /** Name of the client. */
  public readonly clientName: string;
  /** Live key generations, oldest first. Empty for a rotating client (its keys belong to the rotation schedule). */
  public readonly generations: KeyGeneration[];
  /** The rotation schedule of a rotating client. */
  public readonly rotationSchedule?: secretsmanager.RotationSchedule;
  /**
   * Notified when a rotation step or a retirement of a rotating client fails: the rotation's
   * `topic`, else the alert topic of the API of the client's tiers.
   */
  public readonly rotationAlarmTopic?: sns.ITopic;
  private readonly rotationSecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ClientProps) {
    super(scope, id);
    this.clientName = props.clientName ?? id;
    validateName(this, 'clientName', this.clientName);
    if (props.tiers.length === 0) throw KeygateError.of(this, 'tiers', 'a client needs at least one tier');
    for (const tier of props.tiers) {
      if (!(tier instanceof Tier)) continue;
      const holder = claimClientName(tier.api, this.clientName, this);
      if (holder) throw KeygateError.of(this, 'clientName', `is used by ${holder.node.path} already on the same API`, this.clientName);
    }

    if (props.rotation) {
      this.validateRotation(props);
      this.generations = [];
      this.rotationSecret = this.createSecret(this, 'rotated on a schedule', props);
      const runner = KeyRotationRunner.of(this);
      this.rotationSchedule = runner.schedule(this.rotationSecret, props.rotation, props.tiers);
      const topics = props.rotation._topics(this, 'rotation', apisOf(props.tiers));
      for (const topic of topics) runner.notify(topic);
      this.rotationAlarmTopic = topics[0];
      return;
    }

    if (props.existingKey) {
      if (props.expires) throw KeygateError.of(this, 'expires', 'applies to keys keygate creates, not to an existingKey');
      this.generations = [{ generation: 0, apiKey: props.existingKey }];
      this.associate(this, props.existingKey, props.tiers);
      return;
    }

    const generations = props.generations ?? [1];
    validateGenerations(this, generations);
    const keyValue = props.keyValue ?? KeyValue.generated();
    if (keyValue._kind === 'explicit' && generations.length > 1) {
      throw KeygateError.of(this, 'generations', 'an explicit keyValue is one value; rotate it with KeyValue.secretsManager() or generated keys, or by changing the SecretValue', generations);
    }
    this.generations = [...generations].sort((a, b) => a - b).map((generation) => this.createGeneration(generation, keyValue, props));
  }

  /** The newest key generation's key: the one to hand out. */
  public get apiKey(): apigw.IApiKey {
    if (this.rotationSecret) {
      throw KeygateError.of(this, 'apiKey', 'a rotating client\'s keys are created by its rotation schedule, not by the stack; hand out the key through client.secret (grantRead)');
    }
    return this.generations[this.generations.length - 1].apiKey;
  }

  /** The secret with the current key value: the rotating secret, else the newest generation's secret (when the value lives in Secrets Manager). */
  public get secret(): secretsmanager.ISecret | undefined {
    return this.rotationSecret ?? this.generations[this.generations.length - 1].secret;
  }

  /**
   * Lets a consumer read the key values of every live generation: the secrets when values
   * live in Secrets Manager, else `apigateway:GET` on the keys (GetApiKey with includeValue).
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    if (this.rotationSecret) return this.rotationSecret.grantRead(grantee);
    const grants = this.generations.map(({ apiKey, secret }) => secret
      ? secret.grantRead(grantee)
      : iam.Grant.addToPrincipal({ grantee, actions: ['apigateway:GET'], resourceArns: [apiKey.keyArn] }));
    return grants.reduce((all, grant) => all.combine(grant));
  }

  private createGeneration(generation: number, keyValue: KeyValue, props: ClientProps): KeyGeneration {
    const scope = new Construct(this, `Generation${generation}`);
    const keyName = generation === 1 ? this.clientName : `${this.clientName}-gen${generation}`;
    const expiryTags = props.expires?._tags(this, 'expires', props.enabled ?? true);
    const tags = { ...props.tags, ...expiryTags, [TAG_BASE_NAME]: this.clientName, [TAG_GENERATION]: String(generation) };

    let secret: secretsmanager.Secret | undefined;
    let value: string | undefined;
    if (keyValue._kind === 'secretsManager') {
      secret = this.createSecret(scope, `generation ${generation}`, props);
      value = secret.secretValue.unsafeUnwrap();
    } else if (keyValue._kind === 'explicit' && keyValue._secretValue) {
      value = keyValue._secretValue.unsafeUnwrap();
      validateApiKeyValue(this, 'keyValue', value);
      validateKeyValueReference(this, 'keyValue', Stack.of(this).resolve(value));
      if (!Token.isUnresolved(value)) {
        Annotations.of(this).addWarningV2('keygate:plainKeyValue',
          'keyValue is a plain value, so it is written into the template; keep it in Secrets Manager (SecretValue.secretsManager) or use KeyValue.secretsManager()');
      }
    }

    const apiKey = new GenerationKey(scope, 'Key', {
      name: keyName,
      value,
      enabled: props.enabled ?? true,
      description: props.description,
      customerId: props.customerId,
      tags,
    });
    if (secret) {
      for (const [k, v] of Object.entries(tags)) Tags.of(secret).add(k, v);
      acknowledgeNag(secret, 'AwsSolutions-SMG4', 'The secret holds the value of one key generation, which API Gateway can\'t change; keys rotate through a new generation (generations), or on a schedule with rotation: KeyRotation.every(...).');
    }
    if (value !== undefined) {
      const claim = { fingerprint: JSON.stringify(Stack.of(this).resolve(value)), scope };
      registryOf(this).values.push(claim);
      scope.node.addValidation({ validate: () => duplicateValueErrors(claim) });
    }
    if (expiryTags) KeyExpiry.of(this).addKey(apiKey, apisOf(props.tiers));
    this.associate(scope, apiKey, props.tiers);
    return { generation, apiKey, secret };
  }

  /** A secret with a generated 40-character alphanumeric value, tagged like the client's keys. */
  private createSecret(scope: Construct, what: string, props: ClientProps): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(scope, 'Secret', {
      description: `API key of client ${this.clientName} (${what}) of ${Stack.of(this).stackName}`,
      generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false, requireEachIncludedType: true },
    });
    if (props.rotation) {
      for (const [k, v] of Object.entries({ ...props.tags, 'keygate:client': this.clientName })) Tags.of(secret).add(k, v);
    }
    return secret;
  }

  /** Rotation needs the value in Secrets Manager and keys the stack doesn't own. */
  private validateRotation(props: ClientProps): void {
    const rotation = props.rotation!;
    rotation._validate(this, 'rotation');
    const kind = props.keyValue?._kind ?? 'generated';
    if (kind !== 'secretsManager') {
      throw KeygateError.of(this, 'rotation', 'needs the key value in Secrets Manager (keyValue: KeyValue.secretsManager())', `keyValue ${kind}`);
    }
    if (props.existingKey) throw KeygateError.of(this, 'rotation', 'does not apply to an existingKey (the rotation schedule creates its own keys)', props.existingKey.keyId);
    if (props.generations) throw KeygateError.of(this, 'generations', 'a rotating client has no stack key generations: its rotation schedule creates and retires the keys', props.generations);
    // The expiry job reads the expiry from stack keys' tags; a rotating client has none.
    if (props.expires) throw KeygateError.of(this, 'expires', 'does not apply to a rotating client (its keys belong to the rotation schedule); remove the client or its rotation when it should end');
  }

  private associate(scope: Construct, key: apigw.IApiKey, tiers: ITier[]): void {
    // The tier's id plus a short hash of its path: stable, unique among a client's tiers (two
    // APIs may both have a 'Basic'), and short, since the id recurs in every DependsOn.
    for (const tier of tiers) associateKey(scope, `Tier${tier.node.id}${pathHash(tier)}`, key, tier);
  }
}

/** The APIs of the tiers keygate made among `tiers` (an imported tier names no API). */
function apisOf(tiers: ITier[]): IKeyProtectedApi[] {
  return tiers.filter((tier): tier is Tier => tier instanceof Tier).map((tier) => tier.api);
}

function pathHash(construct: IConstruct): string {
  return createHash('sha256').update(construct.node.path).digest('hex').slice(0, 6).toUpperCase();
}

/** Two keys with the same value are the same key to API Gateway: each value must be unique. */
function duplicateValueErrors(claim: KeyValueClaim): string[] {
  const registry = registryOf(claim.scope);
  const owner = registry.values.find((other) => other.fingerprint === claim.fingerprint);
  if (!owner || owner === claim) return [];
  return [formatProblem(claim.scope, 'keyValue', `has the same value as ${owner.scope.node.path}; API key values are unique per account and region`)];
}
