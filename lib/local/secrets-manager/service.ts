/**
 * The slice of AWS Secrets Manager that key rotation needs, served beside the API Gateway
 * control plane for the real `@aws-sdk/client-secrets-manager` (JSON 1.1 protocol:
 * `POST /` with `X-Amz-Target: secretsmanager.<Action>`). Secrets of the cloud assembly are
 * there from the start, with their rotation schedules; RotateSecret runs the rotation Lambda
 * through createSecret, setSecret, testSecret and finishSecret, as Secrets Manager does.
 */
import { randomUUID } from 'crypto';
import { parseJsonObject } from '../json-body';
import { awsJsonError, Json, LocalServiceError, LocalServiceResponse } from '../service-error';
import { amzTarget, LocalService } from '../services';
import { generatePassword, GenerateSecretStringOptions } from './secrets';

export interface SecretsManagerRequest {
  /** The `X-Amz-Target` header. */
  readonly target: string;
  readonly body: Buffer;
}

export type SecretsManagerResponse = LocalServiceResponse;

/** A secret of the cloud assembly, as the model builder found it. */
export interface SecretSeed {
  readonly arn: string;
  readonly name: string;
  readonly value: string;
  readonly description?: string;
  readonly tags: Record<string, string>;
  /** From the secret's AWS::SecretsManager::RotationSchedule. */
  readonly rotation?: { readonly lambdaArn: string; readonly scheduleExpression?: string };
}

/** The event Secrets Manager sends a rotation Lambda. */
export interface RotationInvocation {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

/** Runs one rotation step in the Lambda `lambdaArn`; rejects with the Lambda's error. */
export type RotationInvoker = (lambdaArn: string, event: RotationInvocation) => Promise<void>;

export interface SecretsManagerOptions {
  readonly clock: () => number;
  readonly region: string;
  readonly accountId: string;
  readonly invokeRotation?: RotationInvoker;
  /** Saves the state (e.g. the `--state` file); called after every action that changes a secret, before it is answered. */
  readonly persist?: () => void;
}

/** A secret as the state file keeps it: its versions with their values and staging labels. */
export interface PersistedSecret {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly tags: Record<string, string>;
  readonly created: number;
  /** A secret of the cloud assembly (gone when the template drops it), not one made with CreateSecret. */
  readonly fromTemplate: boolean;
  readonly rotationLambdaArn?: string;
  readonly scheduleExpression?: string;
  readonly lastRotated?: number;
  /** CancelRotateSecret turned rotation off. */
  readonly rotationCancelled?: boolean;
  /** DeleteSecret scheduled the secret's deletion at `deletedDate`, for `deletionDate` (epoch ms). */
  readonly deletedDate?: number;
  readonly deletionDate?: number;
  readonly versions: { readonly id: string; readonly value?: string; readonly stages: string[]; readonly created: number }[];
}

const TARGET_PREFIX = 'secretsmanager.';
const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';
const PREVIOUS = 'AWSPREVIOUS';
const STEPS: RotationInvocation['Step'][] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
/** Actions that change nothing: every other action is followed by a save of the state. */
const READ_ONLY_ACTIONS = new Set(['DescribeSecret', 'GetSecretValue', 'BatchGetSecretValue', 'ListSecretVersionIds', 'ListSecrets', 'GetRandomPassword', 'GetResourcePolicy']);

interface SecretVersion {
  readonly id: string;
  value?: string;
  readonly stages: Set<string>;
  readonly created: number;
}

interface LocalSecret {
  readonly arn: string;
  readonly name: string;
  description?: string;
  readonly tags: Record<string, string>;
  readonly versions: Map<string, SecretVersion>;
  readonly created: number;
  rotationLambdaArn?: string;
  scheduleExpression?: string;
  lastRotated?: number;
  /** Rotation turned off (CancelRotateSecret); the Lambda ARN and rules stay, as in Secrets Manager. */
  rotationCancelled?: boolean;
  /** When DeleteSecret scheduled the deletion (epoch ms); the secret is gone at `deletionDate`. */
  deletedDate?: number;
  deletionDate?: number;
}

const notFound = (what: string): LocalServiceError => new LocalServiceError('ResourceNotFoundException', `Secrets Manager can't find the ${what}.`);
const invalid = (message: string): LocalServiceError => new LocalServiceError('InvalidParameterException', message);

function str(body: Json, field: string, required: true): string;
function str(body: Json, field: string, required?: false): string | undefined;
function str(body: Json, field: string, required = false): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    if (required) throw invalid(`${field} is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`${field} must be a string.`);
  return v;
}

const secs = (ms: number): number => ms / 1000;

export class LocalSecretsManager {
  private readonly secrets = new Map<string, LocalSecret>();
  private readonly rotating = new Set<string>();
  /** ARNs of the cloud assembly's secrets. */
  private readonly templateArns = new Set<string>();

  constructor(seeds: SecretSeed[], private readonly opts: SecretsManagerOptions) {
    const now = opts.clock();
    for (const seed of seeds) {
      const secret = this.add(seed.arn, seed.name, seed.description, seed.tags, now);
      const id = randomUUID();
      secret.versions.set(id, { id, value: seed.value, stages: new Set([CURRENT]), created: now });
      secret.rotationLambdaArn = seed.rotation?.lambdaArn;
      secret.scheduleExpression = seed.rotation?.scheduleExpression;
      this.templateArns.add(seed.arn);
    }
  }

  /** The slice as the gateway's registry sees it: a POST whose `X-Amz-Target` is `secretsmanager.<Action>`. */
  asService(): LocalService {
    return {
      name: 'secretsmanager',
      accepts: (req) => req.method === 'POST' && amzTarget(req, TARGET_PREFIX) !== undefined,
      handle: (req) => this.handle({ target: String(req.headers['x-amz-target']), body: req.body }),
    };
  }

  async handle(req: SecretsManagerRequest): Promise<SecretsManagerResponse> {
    try {
      const body = parseBody(req.body);
      const action = req.target.slice(TARGET_PREFIX.length);
      const out = await this.dispatch(action, body);
      if (!READ_ONLY_ACTIONS.has(action)) this.opts.persist?.();
      return ok(out);
    } catch (e) {
      if (e instanceof LocalServiceError) return awsJsonError(e);
      return awsJsonError(new LocalServiceError('InternalServiceError', e instanceof Error ? e.message : String(e), 500));
    }
  }

  private dispatch(action: string, body: Json): Json | Promise<Json> {
    switch (action) {
      case 'CreateSecret': return this.createSecret(body);
      case 'DescribeSecret': return this.describeSecret(body);
      case 'GetSecretValue': return this.getSecretValue(body);
      case 'PutSecretValue': return this.putSecretValue(body);
      case 'UpdateSecretVersionStage': return this.updateSecretVersionStage(body);
      case 'ListSecretVersionIds': return this.listSecretVersionIds(body);
      case 'ListSecrets': return this.listSecrets(body);
      case 'GetRandomPassword': return this.getRandomPassword(body);
      case 'RotateSecret': return this.rotateSecret(body);
      case 'CancelRotateSecret': return this.cancelRotateSecret(body);
      case 'DeleteSecret': return this.deleteSecret(body);
      case 'RestoreSecret': return this.restoreSecret(body);
      case 'UpdateSecret': return this.updateSecret(body);
      case 'TagResource': return this.tagResource(body);
      case 'UntagResource': return this.untagResource(body);
      default: throw new LocalServiceError('UnknownOperationException', `keygate local does not implement secretsmanager.${action}`);
    }
  }

  private add(arn: string, name: string, description: string | undefined, tags: Record<string, string>, now: number): LocalSecret {
    const secret: LocalSecret = { arn, name, description, tags: { ...tags }, versions: new Map(), created: now };
    this.secrets.set(arn, secret);
    return secret;
  }

  /** By ARN, partial ARN (without the random suffix) or name, like Secrets Manager's SecretId. */
  private find(secretId: string): LocalSecret {
    this.purgeDeleted();
    const exact = this.secrets.get(secretId);
    if (exact) return exact;
    for (const s of this.secrets.values()) if (s.name === secretId || s.arn.startsWith(`${secretId}-`)) return s;
    throw notFound('specified secret');
  }

  private withStage(secret: LocalSecret, stage: string): SecretVersion | undefined {
    return [...secret.versions.values()].find((v) => v.stages.has(stage));
  }

  /** Puts `stage` on `target` only; moving AWSCURRENT leaves AWSPREVIOUS on the version that had it. */
  private moveStage(secret: LocalSecret, stage: string, target: SecretVersion): void {
    const from = this.withStage(secret, stage);
    if (from === target) return;
    from?.stages.delete(stage);
    target.stages.add(stage);
    if (stage === CURRENT && from) {
      this.withStage(secret, PREVIOUS)?.stages.delete(PREVIOUS);
      from.stages.add(PREVIOUS);
    }
    // Secrets Manager deletes versions with no stage left.
    for (const v of secret.versions.values()) if (v.stages.size === 0) secret.versions.delete(v.id);
  }

  private createSecret(body: Json): Json {
    const name = str(body, 'Name', true);
    if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) throw invalid(`Invalid name: ${name}`);
    this.purgeDeleted();
    if ([...this.secrets.values()].some((s) => s.name === name && s.deletedDate !== undefined)) {
      throw new LocalServiceError('InvalidRequestException', 'You can\'t create this secret because a secret with this name is already scheduled for deletion.');
    }
    if ([...this.secrets.values()].some((s) => s.name === name)) {
      throw new LocalServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const tags: Record<string, string> = {};
    if (Array.isArray(body.Tags)) for (const t of body.Tags as Json[]) tags[String(t.Key)] = String(t.Value);
    const now = this.opts.clock();
    const suffix = randomUUID().replace(/-/g, '').slice(0, 6);
    const secret = this.add(`arn:aws:secretsmanager:${this.opts.region}:${this.opts.accountId}:secret:${name}-${suffix}`, name, str(body, 'Description'), tags, now);
    const value = str(body, 'SecretString');
    if (value === undefined) return { ARN: secret.arn, Name: secret.name };
    const id = str(body, 'ClientRequestToken') ?? randomUUID();
    secret.versions.set(id, { id, value, stages: new Set([CURRENT]), created: now });
    return { ARN: secret.arn, Name: secret.name, VersionId: id };
  }


  private describeSecret(body: Json): Json {
    return this.describe(this.find(str(body, 'SecretId', true)));
  }

  private describe(s: LocalSecret): Json {
    const versions: Record<string, string[]> = {};
    for (const v of s.versions.values()) versions[v.id] = [...v.stages];
    return {
      ARN: s.arn, Name: s.name, Description: s.description, CreatedDate: secs(s.created),
      RotationEnabled: s.rotationLambdaArn !== undefined && !s.rotationCancelled, RotationLambdaARN: s.rotationLambdaArn,
      DeletedDate: s.deletedDate === undefined ? undefined : secs(s.deletedDate),
      RotationRules: s.scheduleExpression ? { ScheduleExpression: s.scheduleExpression } : undefined,
      LastRotatedDate: s.lastRotated === undefined ? undefined : secs(s.lastRotated),
      Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      VersionIdsToStages: versions, SecretVersionsToStages: versions,
    };
  }

  private getSecretValue(body: Json): Json {
    const s = this.live(str(body, 'SecretId', true));
    const versionId = str(body, 'VersionId');
    const stage = str(body, 'VersionStage') ?? (versionId ? undefined : CURRENT);
    const version = versionId ? s.versions.get(versionId) : this.withStage(s, stage ?? CURRENT);
    if (!version || (stage && !version.stages.has(stage)) || version.value === undefined) {
      throw notFound(`secret value for ${versionId ? `VersionId: ${versionId}` : `staging label: ${stage}`}`);
    }
    return { ARN: s.arn, Name: s.name, VersionId: version.id, SecretString: version.value, VersionStages: [...version.stages], CreatedDate: secs(version.created) };
  }

  private putSecretValue(body: Json): Json {
    const s = this.live(str(body, 'SecretId', true));
    const value = str(body, 'SecretString', true);
    const token = str(body, 'ClientRequestToken') ?? randomUUID();
    const stages = Array.isArray(body.VersionStages) ? (body.VersionStages as unknown[]).map(String) : [CURRENT];
    let version = s.versions.get(token);
    if (version?.value !== undefined && version.value !== value) {
      throw new LocalServiceError('ResourceExistsException', `You can't modify an existing version, you can only create a new version. VersionId: ${token}`);
    }
    if (!version) {
      version = { id: token, stages: new Set(), created: this.opts.clock() };
      s.versions.set(token, version);
    }
    version.value = value;
    for (const stage of stages) this.moveStage(s, stage, version);
    return { ARN: s.arn, Name: s.name, VersionId: token, VersionStages: [...version.stages] };
  }

  private updateSecretVersionStage(body: Json): Json {
    const s = this.live(str(body, 'SecretId', true));
    const stage = str(body, 'VersionStage', true);
    const moveTo = str(body, 'MoveToVersionId');
    const removeFrom = str(body, 'RemoveFromVersionId');
    const holder = this.withStage(s, stage);
    if (holder && moveTo && holder.id !== moveTo && holder.id !== removeFrom) {
      throw invalid(`The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`);
    }
    if (moveTo) {
      const target = s.versions.get(moveTo);
      if (!target) throw notFound(`version ${moveTo}`);
      this.moveStage(s, stage, target);
    } else if (removeFrom) {
      const from = s.versions.get(removeFrom);
      if (!from?.stages.has(stage)) throw invalid(`Staging label ${stage} is not attached to version ${removeFrom}.`);
      if (stage === CURRENT) throw invalid('You can\'t remove AWSCURRENT from a version without moving it to another.');
      from.stages.delete(stage);
    }
    return { ARN: s.arn, Name: s.name };
  }

  private listSecretVersionIds(body: Json): Json {
    const s = this.find(str(body, 'SecretId', true));
    return {
      ARN: s.arn, Name: s.name,
      Versions: [...s.versions.values()].map((v) => ({ VersionId: v.id, VersionStages: [...v.stages], CreatedDate: secs(v.created) })),
    };
  }

  private getRandomPassword(body: Json): Json {
    try {
      return { RandomPassword: generatePassword(body as GenerateSecretStringOptions) };
    } catch (e) {
      throw invalid((e as Error).message);
    }
  }

  /**
   * Runs the first rotation of every secret with a rotation schedule, as Secrets Manager does
   * when CloudFormation creates the schedule (RotateImmediatelyOnUpdate). Returns the failures.
   */
  async rotateScheduled(): Promise<string[]> {
    const failures: string[] = [];
    for (const s of this.secrets.values()) {
      // Once per schedule: a secret that rotated before a restart (--state) has had its first rotation.
      if (!s.rotationLambdaArn || s.lastRotated !== undefined || s.rotationCancelled || s.deletedDate !== undefined) continue;
      try {
        await this.rotateSecret({ SecretId: s.arn });
      } catch (e) {
        failures.push((e as Error).message);
      }
      this.opts.persist?.();
    }
    return failures;
  }

  /** The secrets that have a rotation schedule, with it and when they last rotated (undefined: never). */
  rotationSchedules(): { arn: string; name: string; scheduleExpression: string; lastRotated?: number }[] {
    return [...this.secrets.values()]
      .filter((s) => s.rotationLambdaArn !== undefined && s.scheduleExpression !== undefined && !s.rotationCancelled && s.deletedDate === undefined)
      .map((s) => ({ arn: s.arn, name: s.name, scheduleExpression: s.scheduleExpression!, lastRotated: s.lastRotated }));
  }

  /**
   * Rotates a secret as its rotation schedule does (RotateSecret without parameters), then saves
   * the state. A schedule whose rotation was cancelled, or whose secret awaits deletion, since
   * the gateway started does not fire (a RotateSecret call would turn rotation back on).
   */
  async rotateOnSchedule(secretArn: string): Promise<unknown> {
    const secret = this.secrets.get(secretArn);
    if (!secret || secret.rotationCancelled || secret.deletedDate !== undefined) return undefined;
    try {
      return await this.rotateSecret({ SecretId: secretArn });
    } finally {
      this.opts.persist?.();
    }
  }

  /** Every secret with its versions, values and labels, for the state file. */
  snapshot(): PersistedSecret[] {
    return [...this.secrets.values()].map((s) => ({
      arn: s.arn, name: s.name, description: s.description, tags: { ...s.tags }, created: s.created, fromTemplate: this.templateArns.has(s.arn),
      rotationLambdaArn: s.rotationLambdaArn, scheduleExpression: s.scheduleExpression, lastRotated: s.lastRotated,
      rotationCancelled: s.rotationCancelled, deletedDate: s.deletedDate, deletionDate: s.deletionDate,
      versions: [...s.versions.values()].map((v) => ({ id: v.id, value: v.value, stages: [...v.stages], created: v.created })),
    }));
  }

  /**
   * Puts back the secrets of a state file: a template secret gets its saved versions (a rotated
   * value survives the restart, as on AWS), keeping the template's rotation schedule; a secret
   * made with CreateSecret comes back whole; a template secret the template no longer has stays gone.
   */
  restore(saved: readonly PersistedSecret[]): void {
    for (const p of saved) {
      let secret = this.secrets.get(p.arn);
      if (!secret) {
        if (p.fromTemplate) continue;
        secret = this.add(p.arn, p.name, p.description, p.tags, p.created);
        secret.rotationLambdaArn = p.rotationLambdaArn;
        secret.scheduleExpression = p.scheduleExpression;
      }
      secret.versions.clear();
      for (const v of p.versions) secret.versions.set(v.id, { id: v.id, value: v.value, stages: new Set(v.stages), created: v.created });
      secret.lastRotated = p.lastRotated;
      secret.rotationCancelled = p.rotationCancelled;
      secret.deletedDate = p.deletedDate;
      secret.deletionDate = p.deletionDate;
    }
  }

  /**
   * Registers the new version as AWSPENDING (or takes up the unfinished rotation, as Secrets
   * Manager retries it) and runs the four steps. Locally the call returns when the rotation
   * has finished (Secrets Manager runs it in the background), and a failed step fails it.
   */
  private async rotateSecret(body: Json): Promise<Json> {
    const s = this.live(str(body, 'SecretId', true));
    const lambdaArn = str(body, 'RotationLambdaARN') ?? s.rotationLambdaArn;
    if (!lambdaArn) throw new LocalServiceError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.');
    if (!this.opts.invokeRotation) throw new LocalServiceError('InvalidRequestException', 'keygate local cannot run rotation Lambdas here.');
    const rules = body.RotationRules as Json | undefined;
    if (rules && typeof rules.ScheduleExpression === 'string') s.scheduleExpression = rules.ScheduleExpression;
    s.rotationLambdaArn = lambdaArn;
    s.rotationCancelled = false;
    if (body.RotateImmediately === false) return this.testRotation(s, lambdaArn);
    if (this.rotating.has(s.arn)) throw new LocalServiceError('InvalidRequestException', 'A previous rotation isn\'t complete. That rotation will be reattempted.');
    const current = this.withStage(s, CURRENT);
    const unfinished = this.withStage(s, PENDING);
    let token: string;
    if (unfinished && unfinished !== current) {
      token = unfinished.id;
    } else {
      token = str(body, 'ClientRequestToken') ?? randomUUID();
      const version: SecretVersion = { id: token, stages: new Set(), created: this.opts.clock() };
      s.versions.set(token, version);
      this.moveStage(s, PENDING, version);
    }
    this.rotating.add(s.arn);
    try {
      for (const step of STEPS) {
        try {
          await this.opts.invokeRotation(lambdaArn, { Step: step, SecretId: s.arn, ClientRequestToken: token });
        } catch (e) {
          throw new LocalServiceError('InvalidRequestException', `Rotation of ${s.name} failed at ${step}: ${(e as Error).message}`);
        }
      }
    } finally {
      this.rotating.delete(s.arn);
    }
    // Rotation done: the pending label goes, as in Secrets Manager.
    const done = s.versions.get(token);
    if (done?.stages.has(CURRENT)) done.stages.delete(PENDING);
    s.lastRotated = this.opts.clock();
    return { ARN: s.arn, Name: s.name, VersionId: token };
  }

  // --- Lifecycle of secrets created at run time (rotating client sets): listing with filters,
  // tags, rotation off and on, deletion with a recovery window and restore. ---

  /** A secret that is not scheduled for deletion (Secrets Manager refuses most calls on those). */
  private live(secretId: string): LocalSecret {
    const s = this.find(secretId);
    if (s.deletedDate !== undefined) {
      throw new LocalServiceError('InvalidRequestException', 'You can\'t perform this operation on the secret because it was marked for deletion.');
    }
    return s;
  }

  /** Secrets whose recovery window has ended are gone for good. */
  private purgeDeleted(): void {
    const now = this.opts.clock();
    for (const [arn, s] of this.secrets) if (s.deletionDate !== undefined && s.deletionDate <= now) this.secrets.delete(arn);
  }

  /**
   * ListSecrets with Filters (name, tag-key, tag-value, description: prefix matches, `!` negates;
   * values of one filter OR, filters AND), IncludePlannedDeletion, MaxResults and NextToken.
   */
  private listSecrets(body: Json): Json {
    this.purgeDeleted();
    const filters = Array.isArray(body.Filters) ? (body.Filters as Json[]) : [];
    const matchers = filters.map((filter) => {
      const key = String(filter.Key);
      const values = Array.isArray(filter.Values) ? (filter.Values as unknown[]).map(String) : [];
      // Not `all` (word-split search over every attribute) nor the region and owning-service keys.
      if (!['name', 'tag-key', 'tag-value', 'description'].includes(key)) throw invalid(`keygate local does not filter secrets by ${key}.`);
      if (values.length < 1 || values.length > 10) throw invalid('A filter needs 1 to 10 values.');
      return (s: LocalSecret): boolean => {
        const fields = key === 'name' ? [s.name]
          : key === 'tag-key' ? Object.keys(s.tags)
            : key === 'tag-value' ? Object.values(s.tags)
              : [s.description ?? ''];
        const caseless = key === 'description';
        const norm = (v: string) => (caseless ? v.toLowerCase() : v);
        const positive = values.filter((v) => !v.startsWith('!'));
        const negative = values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
        const has = (prefix: string) => fields.some((f) => norm(f).startsWith(norm(prefix)));
        return (positive.length === 0 || positive.some(has)) && !negative.some(has);
      };
    });
    const all = [...this.secrets.values()]
      .filter((s) => body.IncludePlannedDeletion === true || s.deletedDate === undefined)
      .filter((s) => matchers.every((m) => m(s)))
      .sort((a, b) => a.created - b.created || a.name.localeCompare(b.name));
    const max = body.MaxResults === undefined ? 100 : Number(body.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid('MaxResults must be from 1 to 100.');
    const start = body.NextToken === undefined ? 0 : Number(Buffer.from(String(body.NextToken), 'base64').toString('utf-8'));
    if (!Number.isInteger(start) || start < 0) throw invalid('Invalid NextToken.');
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    return { SecretList: page.map((s) => this.describe(s)), NextToken: next };
  }

  /** UpdateSecret's Description (a new value goes through PutSecretValue here). */
  private updateSecret(body: Json): Json {
    const s = this.live(str(body, 'SecretId', true));
    if (body.SecretString !== undefined || body.SecretBinary !== undefined || body.KmsKeyId !== undefined) {
      throw invalid('keygate local updates only a secret\'s Description with UpdateSecret; put values with PutSecretValue.');
    }
    const description = str(body, 'Description');
    if (description !== undefined && description.length > 2048) throw invalid('Description is at most 2048 characters.');
    if (description !== undefined) s.description = description;
    return { ARN: s.arn, Name: s.name };
  }

  private cancelRotateSecret(body: Json): Json {
    const s = this.live(str(body, 'SecretId', true));
    s.rotationCancelled = true;
    // A rotation in progress is cancelled; its AWSPENDING version stays, as in Secrets Manager.
    return { ARN: s.arn, Name: s.name };
  }

  /** RecoveryWindowInDays 7-30 (default 30) or ForceDeleteWithoutRecovery. */
  private deleteSecret(body: Json): Json {
    const s = this.find(str(body, 'SecretId', true));
    const force = body.ForceDeleteWithoutRecovery === true;
    const windowDays = body.RecoveryWindowInDays === undefined ? undefined : Number(body.RecoveryWindowInDays);
    if (force && windowDays !== undefined) throw invalid('You can\'t use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.');
    if (windowDays !== undefined && (!Number.isInteger(windowDays) || windowDays < 7 || windowDays > 30)) {
      throw invalid('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const now = this.opts.clock();
    if (force) {
      this.secrets.delete(s.arn);
      return { ARN: s.arn, Name: s.name, DeletionDate: secs(now) };
    }
    if (s.deletedDate !== undefined) {
      throw new LocalServiceError('InvalidRequestException', 'You can\'t perform this operation on the secret because it was already scheduled for deletion.');
    }
    s.deletedDate = now;
    s.deletionDate = now + (windowDays ?? 30) * 86_400_000;
    return { ARN: s.arn, Name: s.name, DeletionDate: secs(s.deletionDate) };
  }

  private restoreSecret(body: Json): Json {
    const s = this.find(str(body, 'SecretId', true));
    s.deletedDate = undefined;
    s.deletionDate = undefined;
    return { ARN: s.arn, Name: s.name };
  }

  /** Tag keys 1-128 and values up to 256 characters, no `aws:` prefix, at most 50 tags (Secrets Manager's rules). */
  private tagResource(body: Json): Json {
    const s = this.live(str(body, 'SecretId', true));
    if (!Array.isArray(body.Tags)) throw invalid('Tags is required.');
    const next = { ...s.tags };
    for (const t of body.Tags as Json[]) {
      const key = String(t.Key ?? '');
      const value = String(t.Value ?? '');
      if (key.length < 1 || key.length > 128 || value.length > 256) throw invalid(`Invalid tag: ${key.slice(0, 128)}`);
      if (key.toLowerCase().startsWith('aws:')) throw invalid('Tag keys can\'t start with aws:.');
      next[key] = value;
    }
    if (Object.keys(next).length > 50) throw invalid('A secret can have at most 50 tags.');
    Object.assign(s.tags, next);
    return {};
  }

  private untagResource(body: Json): Json {
    const s = this.live(str(body, 'SecretId', true));
    if (!Array.isArray(body.TagKeys)) throw invalid('TagKeys is required.');
    for (const key of body.TagKeys as unknown[]) delete s.tags[String(key)];
    return {};
  }

  /**
   * RotateSecret with RotateImmediately false: Secrets Manager tests the configuration by
   * running testSecret on a new AWSPENDING version, then removes that version.
   */
  private async testRotation(s: LocalSecret, lambdaArn: string): Promise<Json> {
    if (!this.opts.invokeRotation) throw new LocalServiceError('InvalidRequestException', 'keygate local cannot run rotation Lambdas here.');
    const previous = this.withStage(s, PENDING);
    if (previous && previous !== this.withStage(s, CURRENT)) {
      throw new LocalServiceError('InvalidRequestException', 'A previous rotation isn\'t complete. That rotation will be reattempted.');
    }
    const token = randomUUID();
    const version: SecretVersion = { id: token, stages: new Set(), created: this.opts.clock() };
    s.versions.set(token, version);
    this.moveStage(s, PENDING, version);
    try {
      await this.opts.invokeRotation(lambdaArn, { Step: 'testSecret', SecretId: s.arn, ClientRequestToken: token });
    } catch (e) {
      throw new LocalServiceError('InvalidRequestException', `Testing the rotation of ${s.name} failed at testSecret: ${(e as Error).message}`);
    } finally {
      version.stages.delete(PENDING);
      s.versions.delete(token);
    }
    return { ARN: s.arn, Name: s.name };
  }
}

function parseBody(body: Buffer): Json {
  return parseJsonObject(body, (message) => new LocalServiceError('SerializationException', message));
}

function ok(body: Json): SecretsManagerResponse {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) };
}
