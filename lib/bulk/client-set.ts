import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { ArnFormat, Aspects, CustomResource, Duration, IAspect, Stack, Token, Validations } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import type { IKeyProtectedApi } from '../api-contract';
import { keyAssociationProblems } from '../association';
import { formatProblem, KeygateError } from '../errors';
import { keygateLogGroup } from '../common/function-logs';
import { acknowledgeNag, LAMBDA_BASIC_EXECUTION_REASON, LAMBDA_BASIC_EXECUTION_ROLE, nagArn, nagArnOf, nagRef } from '../common/nag';
import { bundledHandlerCode } from '../common/handler-code';
import { KeyRotation, KeyRotationRunner } from '../lifecycle/key-rotation';
import {
  CLIENT_SET_SECRET_RECOVERY_DAYS, clientSetSecretName, clientSetSecretPrefix, MAX_SECRET_TAG_VALUE_LENGTH, SECRET_NAME_PATTERN,
} from '../shared/rotation-tags';
import { claimClientName, registryOf } from '../registry';
import { ITier, Tier } from '../tier';
import { validateGenerations, validateName } from '../validation';
import { ClientSetManifest, DEFAULT_IMPORT_BATCH_SIZE, generationKeyName, longestMarker, ManifestClient, MANIFEST_VERSION, UNSAFE_CSV_CHARACTERS } from '../shared/manifest';
import { ClientSetSource, RawClientEntry, SourceProblem } from './source';
import { MAX_API_KEY_DESCRIPTION_LENGTH, MAX_API_KEY_NAME_LENGTH, MAX_API_KEYS } from '../shared/constants';

/** One client of a bulk client set, declared in code. */
export interface ClientSetEntry {
  /**
   * Name of the client: its generation-1 key is named after it, generation N
   * `<name>-gen<N>`. Unique per API across single clients and client sets.
   */
  readonly name: string;

  /**
   * Tiers (usage plans) of the client's keys, as objects: at most one per API stage, at most 10.
   * @default - none; give tiers, tierNames or both
   */
  readonly tiers?: ITier[];

  /**
   * Tiers of the client's keys by name (the `tierName` of tiers of this API).
   * @default - none; give tiers, tierNames or both
   */
  readonly tierNames?: string[];

  /**
   * Whether the keys are enabled. A disabled key gets 403. A rotating set's clients are
   * always enabled: remove a client to retire it.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Description of the keys (after the set's ownership marker); in a rotating set, of the client's secret.
   * @default - none
   */
  readonly description?: string;

  /**
   * Tags of the keys. ImportApiKeys can't set tags, so keys with tags take one more call each.
   * @default - none
   */
  readonly tags?: { [key: string]: string };

  /**
   * Key generations that exist; rotation works as with single clients: deploy `[1, 2]` to
   * create generation 2 beside 1, later `[2]` to delete generation 1. Not in a rotating set
   * (its schedule makes the keys).
   * @default [1]
   */
  readonly generations?: number[];
}

/** Options of a client set, as `api.addClientSet(id, options)` takes them. */
export interface ClientSetOptions {
  /**
   * Clients declared in code.
   * @default - none
   */
  readonly clients?: ClientSetEntry[];

  /**
   * Clients declared in a file (`ClientSetSource.fromCsvFile` / `fromJsonFile`), read and
   * validated at synth time.
   * @default - none
   */
  readonly source?: ClientSetSource;

  /**
   * The set's identity in API Gateway: every key the set creates carries
   * `[keygate:client-set=<setId> owner=<8-hex hash of stack id + logical id>]` at the start of its
   * description, and the set's resource only ever changes or deletes keys that carry its id
   * and itself as owner. Unique per app. Changing it replaces every key of the set; give it
   * explicitly to move or rename the construct without replacing keys (with `adoptExistingKeys`).
   * Short ids leave more of API Gateway's description limit to the clients' descriptions.
   * @default - 12 hex characters of a hash of `<stack name>/<construct path inside the stack>`
   */
  readonly setId?: string;

  /**
   * Keys per ImportApiKeys call.
   * @default 500
   */
  readonly importBatchSize?: number;

  /**
   * Take over the keys of this `setId` that another custom resource owns: set it when the set
   * moved (construct renamed or moved, or moved to another stack, with the same explicit
   * `setId`), so its clients keep their keys. The old resource's Delete then deletes nothing;
   * if the deployment rolls back, the keys go back to the old resource. Without it, a set
   * that finds keys of its id owned by another resource fails before any change.
   * @default false
   */
  readonly adoptExistingKeys?: boolean;

  /**
   * Rotate every client's key on a schedule, e.g. `KeyRotation.every(Duration.days(90), { overlap: Duration.days(7) })`,
   * as single clients with `rotation` do. Each client's key value then lives in a Secrets
   * Manager secret that the set creates at deploy time, named `keygate/<setId>/<client name>`
   * (`secretNameOf`), and the keys belong to the rotation schedule, not to the set: the first
   * rotation (at deploy) creates each client's first key. Consumers read the secrets
   * (`grantRead`). One secret per client: Secrets Manager bills each secret per month.
   * Entries' `generations` and `enabled: false` don't apply (remove a client to retire it).
   * @default - no scheduled rotation: the set imports keys with generated values
   */
  readonly rotation?: KeyRotation;
}

/** Properties of a ClientSet. */
export interface ClientSetProps extends ClientSetOptions {
  /** The API whose tiers the clients are in. */
  readonly api: IKeyProtectedApi;
}

/** Problems listed in one error at most. */
const MAX_LISTED_PROBLEMS = 25;
/** Tags of a rotating client's own on its secret: Secrets Manager allows 50, keygate writes up to 6. */
const MAX_USER_SECRET_TAGS = 44;

/**
 * Thousands of clients (up to API Gateway's 10,000 keys per region) in one stack with a
 * constant number of CloudFormation resources: the declared set travels as an S3 asset, and
 * a custom resource (CDK Provider framework, Node.js Lambda) reconciles API Gateway with it —
 * ImportApiKeys in batches for new keys, updates by diff, removed clients retired (disabled,
 * deleted by the next deploy, so a rollback restores them), only keys it owns. Key values
 * are generated at deploy time from a CSPRNG and never appear in a template, asset, response
 * or log; read them with `keygate keys show`. With `rotation`, each client's key instead lives
 * in a Secrets Manager secret the set creates (`keygate/<setId>/<client>`) and is rotated on a
 * schedule; consumers read it with `grantRead`.
 *
 * The set is validated at synth time with the rules of single clients (names, tiers that
 * exist, one tier per stage, at most 10 tiers per key, generations), errors by file line.
 */
export class ClientSet extends Construct {
  /** The marker id of the set's keys. */
  public readonly setId: string;
  /** Number of clients. */
  public readonly clientCount: number;
  /** Number of keys (clients × live generations). */
  public readonly keyCount: number;
  /** The asset that holds the declared set (names, tiers, flags; never values). */
  public readonly manifest: s3assets.Asset;
  /** The custom resource that reconciles API Gateway with the set. */
  public readonly resource: CustomResource;
  /** The rotation schedule of every client, when the set rotates. */
  public readonly rotation?: KeyRotation;
  private readonly clientNames = new Set<string>();

  constructor(scope: Construct, id: string, props: ClientSetProps) {
    super(scope, id);
    this.setId = props.setId ?? defaultSetId(this);
    validateSetId(this, this.setId);
    claimSetId(this);
    this.rotation = props.rotation;
    if (this.rotation) {
      this.rotation._validate(this, 'rotation');
      // No '/' in the id: `keygate/<setId>/` must be no other rotating set's prefix.
      if (!SECRET_NAME_PATTERN.test(clientSetSecretPrefix(this.setId)) || this.setId.includes('/')) {
        throw KeygateError.of(this, 'setId', 'a rotating set names its secrets keygate/<setId>/<client>: its setId may hold letters, digits and _ + = . @ - (Secrets Manager\'s name characters, without /, so no set\'s prefix is another\'s)', this.setId);
      }
    }
    const batchSize = props.importBatchSize ?? DEFAULT_IMPORT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
      throw KeygateError.of(this, 'importBatchSize', 'must be a whole number from 1 to 1000', batchSize);
    }

    const read = readEntries(props);
    const problems: SourceProblem[] = [...read.problems];
    const tierKeys = new Map<ITier, string>();
    const clients = this.checkEntries(props.api, read.entries, tierKeys, problems, this.setId);
    this.clientCount = clients.length;
    this.keyCount = clients.reduce((sum, c) => sum + (c.generations?.length ?? 1), 0);
    if (this.keyCount > MAX_API_KEYS) {
      problems.push({ where: 'set', property: 'clients', problem: `has ${this.keyCount} keys; API Gateway allows ${MAX_API_KEYS} API keys per account and region`, value: this.keyCount });
    }
    if (problems.length > 0) throw this.errorOf(problems);

    const manifest: ClientSetManifest = { version: MANIFEST_VERSION, clients };
    this.manifest = new s3assets.Asset(this, 'Manifest', { path: writeManifest(manifest) });
    for (const client of clients) this.clientNames.add(client.name);

    const provider = ClientSetProvider.of(this);
    const rotationProperties = this.rotation ? this.setUpRotation(this.rotation, provider, [...tierKeys.keys()], props.api) : undefined;
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::KeygateClientSet',
      serviceTimeout: Duration.hours(1),
      properties: {
        SetId: this.setId,
        ManifestBucket: this.manifest.s3BucketName,
        ManifestKey: this.manifest.s3ObjectKey,
        Tiers: Object.fromEntries([...tierKeys].map(([tier, key]) => [key, tier.usagePlanId])),
        BatchSize: String(batchSize),
        AdoptExistingKeys: String(props.adoptExistingKeys ?? false),
        TotalTimeoutSeconds: String(ClientSetProvider.TOTAL_TIMEOUT.toSeconds()),
        ...(rotationProperties ? { Rotation: rotationProperties.properties } : {}),
      },
    });
    // The first rotations run during the deploy: the rotation Lambda, its permissions and
    // Secrets Manager's permission to invoke it must be in place.
    if (rotationProperties) this.resource.node.addDependency(rotationProperties.policy, KeyRotationRunner.of(this));
    this.resource.node.addDependency(provider.grantDeploymentAccess(this, this.manifest, [...tierKeys.keys()]));
    // Usage plan key writes run one at a time per region: start after every UsagePlanKey of
    // the stack (single clients) and after the stack's previous client set.
    Aspects.of(Stack.of(this)).add(new DependOnUsagePlanKeys(this.resource));
    const sets = setsOf(Stack.of(this));
    const previous = sets[sets.length - 1];
    if (previous) this.resource.node.addDependency(previous.resource);
    sets.push(this);

    this.node.addValidation({ validate: () => this.validateAssociations(read.entries, tierKeys) });
  }

  /**
   * The name of the secret that holds the current key of `clientName` (a rotating set):
   * `keygate/<setId>/<clientName>`. Its ARN ends in a random suffix that Secrets Manager adds.
   */
  public secretNameOf(clientName: string): string {
    if (!this.rotation) throw KeygateError.of(this, 'rotation', 'secretNameOf needs a rotating set: without rotation the set keeps no values in Secrets Manager (read them with keygate keys show)');
    if (!this.clientNames.has(clientName)) throw KeygateError.of(this, 'clientName', 'is not a client of this set', clientName);
    return clientSetSecretName(this.setId, clientName);
  }

  /** The ARN pattern of every secret of the set (`…:secret:keygate/<setId>/*`). */
  public get secretArnPattern(): string {
    if (!this.rotation) throw KeygateError.of(this, 'rotation', 'secretArnPattern needs a rotating set: without rotation the set keeps no values in Secrets Manager');
    return Stack.of(this).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${clientSetSecretPrefix(this.setId)}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  /** Lets a consumer read the current key of every client of a rotating set (GetSecretValue on the set's secrets). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    if (!this.rotation) throw KeygateError.of(this, 'rotation', 'grantRead needs a rotating set: without rotation the set keeps no values in Secrets Manager (read them with keygate keys show)');
    return iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resourceArns: [this.secretArnPattern] });
  }

  /**
   * The reconciler may create and manage the set's secrets (and only those) and start their
   * rotation with the stack's rotation Lambda; that Lambda may rotate them.
   */
  private setUpRotation(rotation: KeyRotation, provider: ClientSetProvider, tiers: ITier[], api: IKeyProtectedApi): { properties: { [key: string]: string }; policy: iam.Policy } {
    const runner = KeyRotationRunner.of(this);
    for (const topic of rotation._topics(this, 'rotation', [api])) runner.notify(topic);
    runner.rotateClientSetSecrets(clientSetSecretPrefix(this.setId), this.secretArnPattern, tiers);
    const policy = new iam.Policy(this, 'RotationAccess', {
      roles: [provider.role],
      statements: [
        new iam.PolicyStatement({
          actions: [
            'secretsmanager:CreateSecret', 'secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecret', 'secretsmanager:TagResource', 'secretsmanager:UntagResource',
            'secretsmanager:RotateSecret', 'secretsmanager:CancelRotateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:RestoreSecret',
          ],
          resources: [this.secretArnPattern],
        }),
        // ListSecrets has no resource-level permissions; the reconciler reads names and tags only.
        new iam.PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }),
        // RotateSecret needs the caller to be allowed to invoke the rotation function.
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [runner.function.functionArn] }),
      ],
    });
    // The secrets are made at deploy time, one per client: their names (and ARN suffixes) are
    // known only as the set's prefix. ListSecrets and GetRandomPassword have no resource-level permissions.
    const secretsId = `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(this, 'secretsmanager', `secret:${clientSetSecretPrefix(this.setId)}*`, true)}]`;
    const secretsReason = `The set creates one secret per client at deploy time, named ${clientSetSecretPrefix(this.setId)}<client>; only the set's name prefix is known at synth.`;
    const listReason = 'secretsmanager:ListSecrets and secretsmanager:GetRandomPassword have no resource-level permissions; the set lists its secrets by name prefix.';
    for (const scope of [this as IConstruct, runner]) {
      Validations.of(scope).acknowledge({ id: secretsId, reason: secretsReason });
      Validations.of(scope).acknowledge({ id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', reason: listReason });
    }
    return {
      policy,
      properties: {
        LambdaArn: runner.function.functionArn,
        ScheduleExpression: events.Schedule.rate(rotation.period).expressionString,
        OverlapSeconds: String(rotation.overlap.toSeconds()),
        RecoveryWindowDays: String(CLIENT_SET_SECRET_RECOVERY_DAYS),
      },
    };
  }

  /** Validates entries, claims their names, resolves tiers; returns the manifest's clients. */
  private checkEntries(api: IKeyProtectedApi, entries: RawClientEntry[], tierKeys: Map<ITier, string>, problems: SourceProblem[], setId: string): ManifestClient[] {
    const apiTiers = new Map<string, Tier>();
    for (const tier of registryOf(api).tiers) {
      if (tier instanceof Tier && tier.api === api && !Token.isUnresolved(tier.tierName)) apiTiers.set(tier.tierName, tier);
    }
    const firstByName = new Map<string, string>();
    const keyNames = new Map<string, string>();
    const clients: ManifestClient[] = [];
    for (const entry of entries) {
      const before = problems.length;
      const report = (property: string, problem: string, value?: unknown) => problems.push({ where: entry.where, property, problem, value });
      const name = entry.name;
      const thrown = (rule: () => void, property: string) => {
        try {
          rule();
        } catch (err) {
          if (!(err instanceof KeygateError)) throw err;
          report(property, err.message.replace(/^\[[^\]]*\] [^:]*: /, ''));
        }
      };
      thrown(() => validateName(this, 'name', name), 'name');
      if (name !== name.trim() || [...name].some((ch) => ch.charCodeAt(0) < 32)) report('name', 'must not start or end with spaces or hold control characters', name);
      const first = firstByName.get(name);
      if (first !== undefined) {
        report('name', `is declared twice in the set (also at ${first})`, name);
      } else {
        firstByName.set(name, entry.where);
        const holder = claimClientName(api, name, this);
        if (holder) report('name', `is used by ${holder.node.path} already on the same API`, name);
      }

      const tiers: ITier[] = [...entry.tiers];
      for (const tierName of entry.tierNames) {
        const tier = apiTiers.get(tierName);
        if (tier) tiers.push(tier);
        else report('tiers', `no tier of that name on ${api.node.path}; its tiers are ${[...apiTiers.keys()].join(', ') || 'none'} (declare tiers before the client set)`, tierName);
      }
      if (tiers.length === 0 && entry.tierNames.length === 0) report('tiers', 'a client needs at least one tier');

      const generations = entry.generations ?? [1];
      if (entry.generations) thrown(() => validateGenerations(this, generations), 'generations');
      if (UNSAFE_CSV_CHARACTERS.test(name)) report('name', 'must not hold quote or control characters: ImportApiKeys\' CSV does not round-trip them', name);
      if (entry.description !== undefined && UNSAFE_CSV_CHARACTERS.test(entry.description)) report('description', 'must not hold quote or control characters: ImportApiKeys\' CSV does not round-trip them', entry.description);
      if (entry.description !== undefined && longestMarker(setId) + 1 + entry.description.length > MAX_API_KEY_DESCRIPTION_LENGTH) {
        report('description', `is ${entry.description.length} characters; with the set's marker (${longestMarker(setId)} characters for setId "${setId}") API Gateway allows ${MAX_API_KEY_DESCRIPTION_LENGTH - longestMarker(setId) - 1}: shorten it or the setId`, entry.description.length);
      }
      for (const generation of generations) {
        const keyName = generationKeyName(name, generation);
        if (keyName.length > MAX_API_KEY_NAME_LENGTH && name.length <= MAX_API_KEY_NAME_LENGTH) {
          report('name', `with its generation suffix the key name '${keyName.slice(0, 20)}…-gen${generation}' is ${keyName.length} characters; API Gateway allows ${MAX_API_KEY_NAME_LENGTH}`, name.length);
        }
        const other = keyNames.get(keyName);
        if (other !== undefined && other !== entry.where) report('generations', `key name '${keyName}' is also a key name of the client at ${other}`, generation);
        keyNames.set(keyName, entry.where);
      }
      checkTags(entry.tags, report);
      if (this.rotation) checkRotatingEntry(entry, setId, report);
      if (problems.length > before) continue;

      clients.push(manifestClientOf(entry, tiers, tierKeys, generations));
    }
    return clients;
  }

  /**
   * One plan per API stage and at most 10 plans per key — the single clients' rule, checked
   * once per distinct tier combination (stages may be added after the set, so at synth).
   */
  private validateAssociations(entries: RawClientEntry[], tierKeys: Map<ITier, string>): string[] {
    const tierByKey = new Map([...tierKeys].map(([tier, key]) => [key, tier]));
    const combos = new Map<string, string[]>();
    const apiTiers = new Map<string, ITier>([...tierKeys.keys()].map((tier) => [tier.tierName, tier]));
    for (const entry of entries) {
      const tiers = [...entry.tiers, ...entry.tierNames.map((n) => apiTiers.get(n)).filter((t): t is ITier => t !== undefined)];
      const combo = [...new Set(tiers.map((t) => tierKeys.get(t) ?? ''))].sort().join(',');
      const list = combos.get(combo);
      if (list) list.push(entry.where);
      else combos.set(combo, [entry.where]);
    }
    const errors: string[] = [];
    for (const [combo, wheres] of combos) {
      const tiers = combo.split(',').map((key) => tierByKey.get(key)).filter((t): t is ITier => t !== undefined);
      for (const { problem, value } of keyAssociationProblems(tiers)) {
        const shown = wheres.slice(0, 3).join(', ') + (wheres.length > 3 ? ` and ${wheres.length - 3} more` : '');
        errors.push(formatProblem(this, `${shown}: tiers`, problem, value));
      }
    }
    return errors;
  }

  private errorOf(unsorted: SourceProblem[]): KeygateError {
    // In file order: by line (files) or index (code), whichever check found the problem.
    const position = (p: SourceProblem) => Number(/line (\d+)/.exec(p.where)?.[1] ?? /\[(\d+)\]/.exec(p.where)?.[1] ?? Number.MAX_SAFE_INTEGER);
    const problems = [...unsorted].sort((a, b) => position(a) - position(b));
    const lines = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => formatProblem(this, `${p.where}: ${p.property}`, p.problem, p.value));
    const more = problems.length > MAX_LISTED_PROBLEMS ? `\n…and ${problems.length - MAX_LISTED_PROBLEMS} more problems` : '';
    return new KeygateError(`${problems.length === 1 ? lines[0] : `${problems.length} problems in the client set:\n${lines.join('\n')}`}${more}`);
  }
}

function readEntries(props: ClientSetProps): { entries: RawClientEntry[]; problems: SourceProblem[] } {
  const entries: RawClientEntry[] = (props.clients ?? []).map((client, index) => ({
    where: `clients[${index}]`,
    name: client.name,
    tiers: client.tiers ?? [],
    tierNames: client.tierNames ?? [],
    enabled: client.enabled ?? true,
    description: client.description,
    tags: client.tags,
    generations: client.generations,
  }));
  const problems: SourceProblem[] = [];
  if (props.source) {
    const read = props.source._read();
    entries.push(...read.entries);
    problems.push(...read.problems);
  }
  return { entries, problems };
}

function defaultSetId(set: ClientSet): string {
  const stack = Stack.of(set);
  if (Token.isUnresolved(stack.stackName)) {
    throw KeygateError.of(set, 'setId', 'the stack name is only known at deploy time; give the set an explicit setId');
  }
  const inside = set.node.path.slice(stack.node.path.length).replace(/^\//, '');
  // A hash, not the path itself: the id travels in every key's description, whose length API Gateway limits.
  return createHash('sha256').update(`${stack.stackName}/${inside}`).digest('hex').slice(0, 12);
}

function validateSetId(scope: IConstruct, setId: string): void {
  if (Token.isUnresolved(setId) || !/^[A-Za-z0-9._:/-]{1,128}$/.test(setId)) {
    throw KeygateError.of(scope, 'setId', 'must be 1-128 characters of letters, digits and . _ : / -, known at synth time', setId);
  }
}

const setIdsByApp = new WeakMap<IConstruct, Map<string, string>>();
/** Two sets with one id would fight over the same keys: one id per app. */
function claimSetId(set: ClientSet): void {
  let ids = setIdsByApp.get(set.node.root);
  if (!ids) {
    ids = new Map();
    setIdsByApp.set(set.node.root, ids);
  }
  const holder = ids.get(set.setId);
  if (holder !== undefined) throw KeygateError.of(set, 'setId', `is the setId of ${holder} already; two client sets with one id would change and delete each other's keys`, set.setId);
  ids.set(set.setId, set.node.path);
}

let manifestDir: string | undefined;
/** Writes the manifest into a temporary directory (removed when the process ends). */
function writeManifest(manifest: ClientSetManifest): string {
  if (!manifestDir) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-client-set-'));
    manifestDir = dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const dir = fs.mkdtempSync(path.join(manifestDir, 'm-'));
  const file = path.join(dir, 'client-set.json');
  fs.writeFileSync(file, JSON.stringify(manifest));
  return file;
}

const setsByStack = new WeakMap<Stack, ClientSet[]>();
function setsOf(stack: Stack): ClientSet[] {
  let sets = setsByStack.get(stack);
  if (!sets) {
    sets = [];
    setsByStack.set(stack, sets);
  }
  return sets;
}

class DependOnUsagePlanKeys implements IAspect {
  constructor(private readonly resource: CustomResource) {}

  public visit(node: IConstruct): void {
    if (node instanceof apigw.CfnUsagePlanKey && Stack.of(node) === Stack.of(this.resource)) {
      this.resource.node.addDependency(node);
    }
  }
}

/**
 * The reconciler: one per stack, shared by its client sets. A role, two functions (onEvent,
 * isComplete; one bundle) and the Provider framework's functions and state machine.
 */
class ClientSetProvider extends Construct {
  public static of(scope: Construct): ClientSetProvider {
    const stack = Stack.of(scope);
    const id = 'KeygateClientSetProvider';
    return (stack.node.tryFindChild(id) as ClientSetProvider | undefined) ?? new ClientSetProvider(stack, id);
  }

  /** The custom resource's total timeout (CloudFormation's maximum for a custom resource). */
  public static readonly TOTAL_TIMEOUT = Duration.hours(1);

  public readonly role: iam.Role;
  public readonly serviceToken: string;

  /**
   * What one deployment of a set may touch besides keys: its own manifest object and its
   * tiers' plan associations. A policy of its own, named after the manifest and the tiers:
   * a deployment that changes them adds a new policy and CloudFormation deletes the old one
   * only in its cleanup, after the whole update succeeded — so a rollback, which sends the
   * old manifest and tiers again, still may read and use them.
   */
  public grantDeploymentAccess(set: ClientSet, manifest: s3assets.Asset, tiers: ITier[]): iam.Policy {
    const stack = Stack.of(this);
    const planIds = tiers.map((tier) => tier.usagePlanId);
    const fingerprint = createHash('sha256').update(JSON.stringify([manifest.assetHash, stack.resolve(planIds)])).digest('hex').slice(0, 12);
    const plan = (id: string, rest: string) => this.arn(`/usageplans/${id}${rest}`);
    for (const id of planIds) {
      acknowledgeNag(set, `AwsSolutions-IAM5[Resource::${nagArn(this, 'apigateway', `/usageplans/${nagRef(this, id)}/keys/*`)}]`,
        'The reconciler takes keys of the set out of this tier\'s usage plan (DeleteUsagePlanKey); the key ids exist only at run time.');
    }
    return new iam.Policy(set, `DeploymentAccess${fingerprint}`, {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [manifest.bucket.arnForObjects(manifest.s3ObjectKey)] }),
        new iam.PolicyStatement({ actions: ['apigateway:GET'], resources: planIds.map((id) => plan(id, '')) }),
        new iam.PolicyStatement({ actions: ['apigateway:GET', 'apigateway:POST'], resources: planIds.map((id) => plan(id, '/keys')) }),
        new iam.PolicyStatement({ actions: ['apigateway:DELETE'], resources: planIds.map((id) => plan(id, '/keys/*')) }),
      ],
    });
  }

  private arn(resource: string): string {
    const stack = Stack.of(this);
    return `arn:${stack.partition}:apigateway:${stack.region}::${resource}`;
  }

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
      description: 'keygate client set reconciler',
    });
    // Key ids exist only at run time; API Gateway's key ARNs allow no narrower scope. The
    // reconciler changes only keys whose description carries its set and resource.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['apigateway:GET', 'apigateway:POST'], resources: [this.arn('/apikeys')] }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['apigateway:PATCH', 'apigateway:DELETE'], resources: [this.arn('/apikeys/*')] }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['apigateway:PUT', 'apigateway:DELETE'], resources: [this.arn('/tags/*')] }));

    const common: lambda.FunctionProps = {
      code: bundledHandlerCode('client-set-reconciler'),
      handler: 'index.onEvent',
      runtime: lambda.Runtime.NODEJS_24_X,
      role: this.role,
      memorySize: 512,
      // Each invocation works until ~90 s before this, then the next isComplete carries on.
      timeout: Duration.minutes(10),
      description: 'keygate client set reconciler',
    };
    const onEvent = new lambda.Function(this, 'OnEvent', { ...common, logGroup: keygateLogGroup(this, 'OnEventLogs') });
    const isComplete = new lambda.Function(this, 'IsComplete', { ...common, handler: 'index.isComplete', logGroup: keygateLogGroup(this, 'IsCompleteLogs') });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      // The framework's functions and its waiter state machine log to groups with keygate's retention.
      logGroup: keygateLogGroup(this, 'FrameworkLogs'),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: keygateLogGroup(this, 'WaiterLogs'), level: sfn.LogLevel.ALL, includeExecutionData: false },
      queryInterval: Duration.seconds(15),
      // CloudFormation waits at most 1 hour for a custom resource; a 10,000-key delete at
      // DeleteApiKey's 5 rps takes ~2,000 s.
      totalTimeout: ClientSetProvider.TOTAL_TIMEOUT,
    });
    this.serviceToken = provider.serviceToken;
    this.acknowledgeByDesign();
  }

  /** cdk-nag findings on the reconciler and the Provider framework that are by design. */
  private acknowledgeByDesign(): void {
    acknowledgeNag(this, LAMBDA_BASIC_EXECUTION_ROLE, LAMBDA_BASIC_EXECUTION_REASON);
    for (const path of ['/apikeys/*', '/tags/*']) {
      acknowledgeNag(this, `AwsSolutions-IAM5[Resource::${nagArn(this, 'apigateway', path)}]`,
        'The reconciler tags, updates and deletes keys whose ids exist only at run time (API Gateway\'s key ARNs allow no narrower scope); it only changes keys that carry its own set and resource.');
    }
    for (const fn of this.node.findAll().filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction)) {
      acknowledgeNag(this, `AwsSolutions-IAM5[Resource::${nagArnOf(fn)}:*]`, 'The CDK Provider framework invokes its handler functions by version (function ARN with a version suffix).');
    }
    acknowledgeNag(this, 'AwsSolutions-IAM5[Resource::*]', 'The Provider framework\'s waiter state machine delivers its logs to CloudWatch Logs (logs:CreateLogDelivery and related actions), which have no resource-level permissions.');
    acknowledgeNag(this, 'AwsSolutions-SF2', 'The CDK Provider framework offers no X-Ray tracing for its waiter state machine; its steps are the reconciler\'s invocations, which log to keygate\'s log groups.');
  }
}

type ReportProblem = (property: string, problem: string, value?: unknown) => void;

/** Tag rules of API Gateway (and Secrets Manager, for rotating clients): keys 1-128 characters, not aws:, values ≤ 256. */
function checkTags(tags: Record<string, string> | undefined, report: ReportProblem): void {
  for (const [key, value] of Object.entries(tags ?? {})) {
    if (key.length < 1 || key.length > 128 || key.toLowerCase().startsWith('aws:')) report('tags', 'tag keys are 1-128 characters and must not start with aws:', key);
    if (value.length > 256) report('tags', `the value of tag '${key}' is longer than 256 characters`, value.length);
  }
}

/** What a rotating client may not hold: generations, enabled: false, a name Secrets Manager can't use. */
function checkRotatingEntry(entry: RawClientEntry, setId: string, report: ReportProblem): void {
  const name = entry.name;
  const secretName = clientSetSecretName(setId, name);
  if (entry.generations) report('generations', 'a rotating client has no key generations: its rotation schedule creates and retires the keys', entry.generations);
  if (!entry.enabled) report('enabled', 'a rotating client\'s keys belong to its rotation schedule; remove the client from the set to retire it (its keys are disabled, then deleted by the next deploy)', false);
  if (!SECRET_NAME_PATTERN.test(secretName)) report('name', `a rotating client's secret is named ${secretName.slice(0, 60)}${secretName.length > 60 ? '…' : ''}: Secrets Manager allows 1-512 letters, digits and / _ + = . @ - in secret names`, name);
  // Secrets Manager reads a name ending in -XXXXXX as a partial ARN (the random suffix it adds).
  else if (/-[A-Za-z0-9]{6}$/.test(name)) report('name', 'must not end with a hyphen and six characters: Secrets Manager would take the secret name for a partial ARN', name);
  if (name.length > MAX_SECRET_TAG_VALUE_LENGTH) report('name', `is ${name.length} characters; a rotating client's secret carries it in a tag (at most ${MAX_SECRET_TAG_VALUE_LENGTH})`, name.length);
  if (Object.keys(entry.tags ?? {}).length > MAX_USER_SECRET_TAGS) report('tags', `a rotating client's secret holds at most ${MAX_USER_SECRET_TAGS} tags of its own (Secrets Manager allows 50, keygate uses the rest)`, Object.keys(entry.tags ?? {}).length);
}

/** The manifest's entry of a valid client: tier keys (t0, t1, …, one per distinct tier) and what differs from the defaults. */
function manifestClientOf(entry: RawClientEntry, tiers: ITier[], tierKeys: Map<ITier, string>, generations: number[]): ManifestClient {
  const keys = [...new Set(tiers)].map((tier) => {
    let key = tierKeys.get(tier);
    if (key === undefined) {
      key = `t${tierKeys.size}`;
      tierKeys.set(tier, key);
    }
    return key;
  });
  return {
    name: entry.name,
    tiers: keys,
    ...(entry.enabled ? {} : { enabled: false }),
    ...(entry.description ? { description: entry.description } : {}),
    ...(entry.tags && Object.keys(entry.tags).length > 0 ? { tags: entry.tags } : {}),
    ...(entry.generations && !(generations.length === 1 && generations[0] === 1) ? { generations: [...generations].sort((a, b) => a - b) } : {}),
  };
}
