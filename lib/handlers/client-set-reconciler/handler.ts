/*
 * The client set's custom resource handler (CDK Provider framework: onEvent + isComplete).
 *
 * onEvent validates and answers the physical id; it writes nothing, so a failed Create
 * leaves nothing behind (the framework skips the Delete of a failed Create). It refuses a
 * change that can't finish within the custom resource's total timeout, before any write.
 * isComplete runs one time-boxed reconcile pass per call until API Gateway matches the
 * declared set; it returns Data only together with IsComplete true (the framework fails the
 * resource otherwise). Nothing here logs or returns a key value: responses and log lines
 * hold counts and names only.
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { CONTROL_PLANE_RATES, MAX_API_KEYS } from '../../shared/constants';
import { ControlPlane, ControlPlaneOptions, DeadlineReached, partitionOf } from './control-plane';
import { ClientSetManifest, DEFAULT_IMPORT_BATCH_SIZE, desiredKeys, DesiredKey, MARKER_ID_LENGTH, ownerOf } from '../../shared/manifest';
import { estimateCalls, foreignKeysError, listSetKeys, planChanges, reconcile, ReconcileContext, ReconcileOptions, stagesOfPlans } from './reconcile';
import { desiredSecrets, DesiredSecret, foreignSecretsError, planSecretPass, reconcileSecrets, RotationSettings, SecretsPlane } from './secrets';

/** The custom resource's properties (CloudFormation passes them as strings and objects). */
export interface ClientSetResourceProperties {
  /** The set's id: the marker in its keys' descriptions. */
  readonly SetId: string;
  readonly ManifestBucket: string;
  readonly ManifestKey: string;
  /** Tier key (t0, t1, …) → usage plan id. */
  readonly Tiers: { [tierKey: string]: string };
  /** Rows per ImportApiKeys call. */
  readonly BatchSize?: string;
  /** 'true': take over keys of the set that another resource owns (a moved or renamed set). */
  readonly AdoptExistingKeys?: string;
  /** The Provider's total timeout: a change that needs longer is refused before any write. */
  readonly TotalTimeoutSeconds?: string;
  /** A rotating set: every client's key lives in a secret the set creates, rotated by this Lambda on this schedule. */
  readonly Rotation?: {
    readonly LambdaArn: string;
    readonly ScheduleExpression: string;
    readonly OverlapSeconds: string;
    readonly RecoveryWindowDays: string;
  };
}

export interface ClientSetEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: ClientSetResourceProperties;
  readonly OldResourceProperties?: ClientSetResourceProperties;
  readonly PhysicalResourceId?: string;
  readonly StackId?: string;
  readonly LogicalResourceId?: string;
  readonly RequestId?: string;
}

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
}

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: { [key: string]: string | number };
}

export type ManifestLoader = (bucket: string, key: string) => Promise<ClientSetManifest>;

export interface HandlerDependencies {
  readonly apigw: APIGatewayClient;
  /** Secrets Manager, for rotating sets. */
  readonly secrets?: SecretsManagerClient;
  /** Milliseconds between RotateSecret calls that rotate at once (default 500). */
  readonly rotationSpacingMs?: number;
  readonly loadManifest: ManifestLoader;
  readonly controlPlane?: ControlPlaneOptions;
  readonly reconcile?: Omit<ReconcileOptions, 'deadline'>;
  /**
   * Time kept free at the end of each invocation for calls in flight.
   * Default: a quarter of the time left at the start, at most 90 s.
   */
  readonly safetyMarginMs?: number;
}

/** The custom resource's total timeout unless the properties say (CloudFormation's maximum). */
const DEFAULT_TOTAL_TIMEOUT_SECONDS = 3600;
/** Share of the total timeout a change may plan to use (listings and polling take the rest). */
const USABLE_SHARE = 0.8;
/** Longest failure reason sent: CloudFormation's whole response must stay under 4 KB. */
export const MAX_REASON_LENGTH = 1000;

function rotationSettings(props: ClientSetResourceProperties | undefined): RotationSettings | undefined {
  const r = props?.Rotation;
  if (!r) return undefined;
  const overlapSeconds = Number(r.OverlapSeconds);
  const recoveryWindowDays = Number(r.RecoveryWindowDays);
  if (!r.LambdaArn || !r.ScheduleExpression || !Number.isFinite(overlapSeconds) || !Number.isInteger(recoveryWindowDays)) {
    throw new Error('the Rotation property needs LambdaArn, ScheduleExpression, OverlapSeconds and RecoveryWindowDays');
  }
  return { lambdaArn: r.LambdaArn, scheduleExpression: r.ScheduleExpression, overlapSeconds, recoveryWindowDays };
}

/** The physical id stays the same for the life of the set, so an update never replaces it. */
export function physicalIdOf(setId: string): string {
  return `keygate-client-set:${setId}`;
}

type TimeContext = Pick<Context, 'getRemainingTimeInMillis'>;

/** onEvent and isComplete bound to the given clients (tests pass mocks or the local gateway). */
export function createHandlers(deps: HandlerDependencies) {
  return {
    /** Validates, checks that the change fits the total timeout, and answers the physical id. Writes nothing. */
    onEvent(event: ClientSetEvent, context?: TimeContext): Promise<OnEventResponse> {
      return failingClearly(async () => {
        if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? physicalIdOf(event.ResourceProperties.SetId) };
        return checkChange(deps, event, await prepare(deps, event, context));
      });
    },

    /** One time-boxed pass; IsComplete true (with Data) once API Gateway matches the set. */
    async isComplete(event: ClientSetEvent, context?: TimeContext): Promise<IsCompleteResponse> {
      return failingClearly(async () => runPass(deps, await prepare(deps, event, context)));
    },
  };
}

function logOf(deps: HandlerDependencies, setId: string): (line: string) => void {
  return deps.reconcile?.log ?? ((line: string) => console.log(`[keygate client set ${setId}] ${line}`));
}

/** What one invocation works with: the set, its clients, the planes and the time budget. */
interface Prepared {
  readonly event: ClientSetEvent;
  readonly ctx: ReconcileContext;
  readonly cp: ControlPlane;
  readonly sm?: SecretsPlane;
  readonly desired?: DesiredKey[];
  readonly secrets?: DesiredSecret[];
  readonly plans: string[];
  readonly batchSize: number;
  readonly deadline?: number;
  readonly settings?: RotationSettings;
  readonly log: (line: string) => void;
}

async function prepare(deps: HandlerDependencies, event: ClientSetEvent, context: TimeContext | undefined): Promise<Prepared> {
  const props = event.ResourceProperties;
  const ctx = reconcileContextOf(event);
  const region = /^arn:[^:]+:cloudformation:([^:]+):/.exec(event.StackId ?? '')?.[1];
  const partition = /^arn:([^:]+):/.exec(event.StackId ?? '')?.[1] ?? (region ? partitionOf(region) : undefined);
  const remaining = context?.getRemainingTimeInMillis();
  const margin = deps.safetyMarginMs ?? (remaining === undefined ? 0 : Math.min(90_000, remaining / 4));
  const now = deps.controlPlane?.now ?? Date.now;
  const deadline = remaining === undefined ? undefined : now() + remaining - margin;
  const cp = new ControlPlane(deps.apigw, { partition, ...deps.controlPlane, deadline });
  const requested = Number(props.BatchSize);
  const batchSize = Number.isInteger(requested) && requested >= 1 && requested <= 1000 ? requested : DEFAULT_IMPORT_BATCH_SIZE;
  // A rotating set keeps its clients' keys in secrets (the rotation creates the keys); a set
  // that stopped rotating retires the secrets of the previous deployment.
  const sameSet = event.RequestType === 'Update' && event.OldResourceProperties?.SetId === ctx.setId;
  const settings = rotationSettings(props) ?? (sameSet ? rotationSettings(event.OldResourceProperties) : undefined);
  let sm: SecretsPlane | undefined;
  if (settings) {
    if (!deps.secrets) throw new Error('a rotating client set needs a Secrets Manager client');
    sm = new SecretsPlane(deps.secrets, { deadline, now });
  }
  const clients = event.RequestType === 'Delete' ? { plans: [] } : await declaredClients(deps, event, sameSet);
  return { event, ctx, cp, sm, batchSize, deadline, settings, log: logOf(deps, ctx.setId), ...clients };
}

function reconcileContextOf(event: ClientSetEvent): ReconcileContext {
  const setId = event.ResourceProperties.SetId;
  if (!setId) throw new Error('the SetId property is missing');
  if (!event.StackId || !event.LogicalResourceId || !event.RequestId) throw new Error('the event has no StackId, LogicalResourceId or RequestId');
  return {
    setId,
    owner: ownerOf(event.StackId, event.LogicalResourceId),
    requestToken: event.RequestId.replace(/[^A-Za-z0-9]/g, '').slice(0, MARKER_ID_LENGTH),
    adopt: event.ResourceProperties.AdoptExistingKeys === 'true',
  };
}

/** The keys (or, for a rotating set, the secrets) the manifest declares, and every plan of the set, old and new. */
async function declaredClients(deps: HandlerDependencies, event: ClientSetEvent, sameSet: boolean): Promise<Pick<Prepared, 'desired' | 'secrets' | 'plans'>> {
  const props = event.ResourceProperties;
  const manifest = await deps.loadManifest(props.ManifestBucket, props.ManifestKey);
  const oldPlans = sameSet ? Object.values(event.OldResourceProperties?.Tiers ?? {}) : [];
  return {
    desired: props.Rotation ? [] : desiredKeys(manifest, props.Tiers ?? {}),
    secrets: props.Rotation ? desiredSecrets(manifest, props.Tiers ?? {}, props.SetId) : [],
    plans: [...new Set([...Object.values(props.Tiers ?? {}), ...oldPlans])],
  };
}

/** onEvent's checks before any write: the plans exist, no foreign key or secret, the key limit, the time budget. */
async function checkChange(deps: HandlerDependencies, event: ClientSetEvent, p: Prepared): Promise<OnEventResponse> {
  const { ctx, cp, plans } = p;
  for (const [tierKey, planId] of Object.entries(event.ResourceProperties.Tiers ?? {})) {
    if (await cp.getUsagePlanStages(planId) === undefined) throw new Error(`the usage plan ${planId} of tier ${tierKey} does not exist`);
  }
  const newSecrets = await plannedNewSecrets(p);
  const counts: { accountKeys?: number } = {};
  const listed = await listSetKeys(cp, ctx.setId, plans, counts);
  const changes = planChanges(p.desired ?? [], listed, plans, ctx);
  if (changes.foreign.length > 0) throw foreignKeysError(ctx, changes.foreign);
  checkKeyLimit(changes.creates.length + newSecrets, counts.accountKeys ?? 0);
  const keyEstimate = estimateCalls(changes, p.batchSize, cp.calls.GetApiKeys + cp.calls.GetUsagePlanKeys);
  // RotateSecret calls that rotate at once are paced (each rotation creates a key).
  const rotationSeconds = Math.ceil(newSecrets * (deps.rotationSpacingMs ?? 500) / 1000);
  const estimate = { ...keyEstimate, seconds: keyEstimate.seconds + rotationSeconds };
  const changeCount = changes.creates.length + changes.updates.length + changes.deletes.length;
  p.log(`${event.RequestType}: ${changes.creates.length} to create, ${changes.updates.length} to update, ${changes.deletes.length} to delete; ~${estimate.total} calls, ~${estimate.seconds} s at API Gateway's rates`);
  checkFitsTimeout(estimate, changeCount, Number(event.ResourceProperties.TotalTimeoutSeconds) || DEFAULT_TOTAL_TIMEOUT_SECONDS);
  return { PhysicalResourceId: physicalIdOf(ctx.setId) };
}

/** Clients of a rotating set that get a secret (and, from its first rotation, a key) in this change. */
async function plannedNewSecrets(p: Prepared): Promise<number> {
  if (!p.settings || !p.sm) return 0;
  const plan = await planSecretPass(p.cp, p.sm, p.ctx, p.secrets, p.plans, p.settings);
  if (plan.foreign.length > 0) throw foreignSecretsError(p.ctx, plan.foreign);
  const newSecrets = plan.actions.filter((a) => a.kind === 'create').length;
  p.log(`${p.event.RequestType}: secrets ${plan.actions.length} changes, ${newSecrets} new clients`);
  return newSecrets;
}

function checkKeyLimit(newKeys: number, accountKeys: number): void {
  const after = accountKeys + newKeys;
  if (after <= MAX_API_KEYS) return;
  throw new Error(
    `the change needs ${newKeys} new keys; with the ${accountKeys} keys of the region (retired keys of this set included) that is ${after}, `
    + `more than API Gateway's ${MAX_API_KEYS} API keys per account and region. Nothing was changed. Deploy the removals first (retired keys are deleted by the next deploy), then the additions.`,
  );
}

function checkFitsTimeout(estimate: ReturnType<typeof estimateCalls>, changeCount: number, total: number): void {
  const usable = Math.floor(total * USABLE_SHARE);
  if (estimate.seconds <= usable) return;
  const fits = Math.max(1, Math.floor(changeCount * usable / estimate.seconds));
  throw new Error(
    `the change needs ~${estimate.total} API Gateway calls (${estimate.keyWrites} DeleteApiKey at ${CONTROL_PLANE_RATES.keyWrite} per second, ${estimate.shared} others at ${CONTROL_PLANE_RATES.shared} per second): ~${estimate.seconds} s, `
    + `more than the ${usable} s this set may plan within the custom resource's ${total} s timeout. Nothing was changed. `
    + `Split it: deploy at most ~${fits} of the ${changeCount} key changes at a time (e.g. add or remove clients over several deploys).`,
  );
}

/** isComplete's pass: secrets first (a set that starts rotating gives its clients their new keys before retiring the imported ones), then the keys. */
async function runPass(deps: HandlerDependencies, p: Prepared): Promise<IsCompleteResponse> {
  const secretData = await secretsPass(deps, p);
  if (!secretData) return { IsComplete: false };
  const result = await reconcile(p.cp, p.ctx, p.desired, p.plans, { ...deps.reconcile, batchSize: p.batchSize, deadline: p.deadline, log: p.log });
  if (!result.complete) return { IsComplete: false };
  return { IsComplete: true, Data: { Keys: result.keys, Retired: result.retired, ...secretData } };
}

/** The secrets' Data once they match the set ({} for a set that does not rotate); undefined while a pass is left. */
async function secretsPass(deps: HandlerDependencies, p: Prepared): Promise<{ Clients?: number; RetiredClients?: number } | undefined> {
  if (!p.settings || !p.sm) return {};
  let stages: Map<string, string[]>;
  try {
    stages = await stagesOfPlans(p.cp, p.plans);
  } catch (err) {
    if (err instanceof DeadlineReached) return undefined;
    throw err;
  }
  const pass = await reconcileSecrets(p.cp, p.sm, p.ctx, p.secrets, p.plans, stages, {
    settings: p.settings, log: p.log, rotationSpacingMs: deps.rotationSpacingMs, sleep: deps.controlPlane?.sleep,
  });
  return pass.complete ? { Clients: pass.clients, RetiredClients: pass.retired } : undefined;
}

/**
 * Runs a handler; a failure leaves with its first cause first and a message short enough for
 * CloudFormation's 4 KB response (the framework sends the message and the stack trace).
 */
async function failingClearly<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const message = e.message.length > MAX_REASON_LENGTH ? `${e.message.slice(0, MAX_REASON_LENGTH)}…` : e.message;
    const out = new Error(message);
    out.name = e.name;
    out.stack = `${e.name}: ${message}`;
    throw out;
  }
}

/** Reads the manifest from S3; a warm Lambda container keeps it. */
export function s3ManifestLoader(s3: S3Client): ManifestLoader {
  const cache = new Map<string, ClientSetManifest>();
  return async (bucket, key) => {
    const id = `${bucket}/${key}`;
    const cached = cache.get(id);
    if (cached) return cached;
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await out.Body?.transformToString('utf-8');
    if (text === undefined) throw new Error(`the client set manifest s3://${id} is empty`);
    const manifest = JSON.parse(text) as ClientSetManifest;
    cache.set(id, manifest);
    return manifest;
  };
}

let lambdaHandlers: ReturnType<typeof createHandlers> | undefined;
function handlers(): ReturnType<typeof createHandlers> {
  lambdaHandlers ??= createHandlers({
    // Few SDK attempts and a request timeout: the reconciler's own backoff knows the deadline.
    apigw: new APIGatewayClient({ maxAttempts: 2, requestHandler: { requestTimeout: 20_000, connectionTimeout: 5_000 } }),
    // RotateSecret returns once the rotation has started (it runs in the background).
    secrets: new SecretsManagerClient({ maxAttempts: 5, requestHandler: { requestTimeout: 20_000, connectionTimeout: 5_000 } }),
    loadManifest: s3ManifestLoader(new S3Client({ requestHandler: { requestTimeout: 20_000, connectionTimeout: 5_000 } })),
  });
  return lambdaHandlers;
}

/** Lambda entry: the Provider framework's onEvent. */
export const onEvent = (event: ClientSetEvent, context: Context): Promise<OnEventResponse> => handlers().onEvent(event, context);
/** Lambda entry: the Provider framework's isComplete. */
export const isComplete = (event: ClientSetEvent, context: Context): Promise<IsCompleteResponse> => handlers().isComplete(event, context);
