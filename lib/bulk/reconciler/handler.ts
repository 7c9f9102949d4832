/*
 * The client set's custom resource handler (CDK Provider framework: onEvent + isComplete).
 * Both run the same idempotent reconcile pass within the Lambda's time budget; onEvent starts
 * the work, isComplete carries on until API Gateway matches the declared set. Nothing here
 * logs or returns a key value: responses and log lines hold counts only.
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { ControlPlane, ControlPlaneOptions } from './control-plane';
import { ClientSetManifest, desiredKeys } from './manifest';
import { reconcile, ReconcileOptions, ReconcileResult } from './reconcile';

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
}

export interface ClientSetEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: ClientSetResourceProperties;
  readonly OldResourceProperties?: ClientSetResourceProperties;
  readonly PhysicalResourceId?: string;
}

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { [key: string]: string | number };
}

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: { [key: string]: string | number };
}

export type ManifestLoader = (bucket: string, key: string) => Promise<ClientSetManifest>;

export interface HandlerDependencies {
  readonly apigw: APIGatewayClient;
  readonly loadManifest: ManifestLoader;
  readonly controlPlane?: ControlPlaneOptions;
  readonly reconcile?: Omit<ReconcileOptions, 'deadline'>;
  /** Time kept free at the end of each invocation for calls in flight. Default 90 s. */
  readonly safetyMarginMs?: number;
}

/** The physical id stays the same for the life of the set, so an update never replaces it. */
export function physicalIdOf(setId: string): string {
  return `keygate-client-set:${setId}`;
}

/** onEvent and isComplete bound to the given clients (tests pass mocks or the local gateway). */
export function createHandlers(deps: HandlerDependencies) {
  const run = async (event: ClientSetEvent, context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): Promise<ReconcileResult> => {
    const props = event.ResourceProperties;
    const setId = props.SetId;
    if (!setId) throw new Error('the SetId property is missing');
    const cp = new ControlPlane(deps.apigw, deps.controlPlane);
    const margin = deps.safetyMarginMs ?? 90_000;
    const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - margin : undefined;
    const log = deps.reconcile?.log ?? ((line: string) => console.log(`[keygate client set ${setId}] ${line}`));
    const requested = Number(props.BatchSize);
    const batchSize = Number.isInteger(requested) && requested >= 1 && requested <= 1000 ? requested : undefined;
    if (event.RequestType === 'Delete') {
      return reconcile(cp, setId, [], [], { ...deps.reconcile, batchSize, deadline, log });
    }
    const manifest = await deps.loadManifest(props.ManifestBucket, props.ManifestKey);
    const desired = desiredKeys(manifest, setId, props.Tiers ?? {});
    const oldPlans = event.RequestType === 'Update' && event.OldResourceProperties?.SetId === setId
      ? Object.values(event.OldResourceProperties.Tiers ?? {})
      : [];
    return reconcile(cp, setId, desired, [...Object.values(props.Tiers ?? {}), ...oldPlans], { ...deps.reconcile, batchSize, deadline, log });
  };
  const data = (result: ReconcileResult) => ({
    Created: result.created, Updated: result.updated, Deleted: result.deleted, Unchanged: result.unchanged, Pending: result.pending,
  });

  return {
    async onEvent(event: ClientSetEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<OnEventResponse> {
      const result = await run(event, context);
      return { PhysicalResourceId: physicalIdOf(event.ResourceProperties.SetId), Data: data(result) };
    },
    async isComplete(event: ClientSetEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<IsCompleteResponse> {
      const result = await run(event, context);
      return { IsComplete: result.complete, Data: data(result) };
    },
  };
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
  // SDK v3 from the Lambda runtime; adaptive retry backs off on 429 before our own backoff does.
  lambdaHandlers ??= createHandlers({
    apigw: new APIGatewayClient({ retryMode: 'adaptive', maxAttempts: 4 }),
    loadManifest: s3ManifestLoader(new S3Client({})),
  });
  return lambdaHandlers;
}

/** Lambda entry: the Provider framework's onEvent. */
export const onEvent = (event: ClientSetEvent, context: Context): Promise<OnEventResponse> => handlers().onEvent(event, context);
/** Lambda entry: the Provider framework's isComplete. */
export const isComplete = (event: ClientSetEvent, context: Context): Promise<IsCompleteResponse> => handlers().isComplete(event, context);
