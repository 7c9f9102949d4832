/**
 * Where everything of a running local gateway is (`keygate local --json`): the stages' URLs,
 * the keys, the scheduled jobs. Also the URL layout of the stages
 * (`/restapis/{apiId}/{stage}/_user_request_/…`), which the HTTP server parses.
 */
import { Model } from '../apigateway/model';
import { describeExpiry } from '../apigateway/data-plane/expiry';
import { describeSchedule, ScheduleRunner } from '../events/schedules';

export interface LocalStageInfo {
  readonly name: string;
  /** Base URL of the stage: append a route path, e.g. `url + "/pets"`. */
  readonly url: string;
}

export interface LocalApiInfo {
  readonly id: string;
  readonly name: string;
  readonly stack: string;
  readonly stages: LocalStageInfo[];
}

export interface LocalKeyInfo {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  /** Names of the usage plans the key is in. */
  readonly usagePlans: string[];
  /** Only with `showValues`. */
  readonly value?: string;
  /** When the key expires (keygate's `expires`), ISO 8601; absent when it never does. */
  readonly expiresAt?: string;
  /** Whether `expiresAt` has passed: the key gets 403, as after keygate's expiry job on AWS. */
  readonly expired?: boolean;
}

/** What `keygate local --json` prints. */
export interface LocalGatewayInfo {
  /** The control plane endpoint: use as the AWS SDK's `endpoint`. */
  readonly controlPlane: string;
  /** The local dashboard; the URL carries this run's access token. */
  readonly dashboard: string;
  /** The app's developer portals: open `url` in a browser. */
  readonly portals: { readonly name: string; readonly url: string }[];
  readonly apis: LocalApiInfo[];
  readonly keys: LocalKeyInfo[];
  /** The scheduled jobs the gateway runs (EventBridge rate rules with a Lambda target, rotation schedules), on its clock. */
  readonly scheduledJobs: LocalScheduledJobInfo[];
}

export interface LocalScheduledJobInfo {
  /** `stack/ruleLogicalId` of an EventBridge rule, or `rotation of <secret name>` */
  readonly name: string;
  /** What it does, if known. */
  readonly description?: string;
  /** e.g. `every hour` */
  readonly every: string;
  /** When it runs next on the gateway's clock, ISO 8601. */
  readonly nextRunAt: string;
}

const DATA_PREFIX = '/restapis/';
const USER_REQUEST = '/_user_request_';

/** `/restapis/{apiId}/{stage}/_user_request_/{rest}` → its parts; undefined for anything else (the AWS services). */
export function parseStagePath(rawPath: string): { apiId: string; stage: string; rest: string } | undefined {
  if (!rawPath.startsWith(DATA_PREFIX)) return undefined;
  const ui = rawPath.indexOf(USER_REQUEST);
  if (ui < 0) return undefined;
  const [apiId, stage, extra] = rawPath.slice(DATA_PREFIX.length, ui).split('/');
  const rest = rawPath.slice(ui + USER_REQUEST.length);
  if (stage === undefined || extra !== undefined || (rest !== '' && !rest.startsWith('/'))) return undefined;
  return { apiId, stage, rest: rest || '/' };
}

/** The APIs of the model with their stages' URLs on `base` (`http://127.0.0.1:port`). */
export function apiInfos(model: Model, base: string): LocalApiInfo[] {
  return [...model.apis.values()].map((a) => ({
    id: a.id, name: a.name, stack: a.stack,
    stages: [...a.stages.values()].map((s) => ({ name: s.name, url: `${base}${DATA_PREFIX}${a.id}/${s.name}${USER_REQUEST}` })),
  }));
}

export function keyInfos(model: Model, now: number, showValues: boolean | undefined): LocalKeyInfo[] {
  return [...model.keys.values()].map((k) => ({
    id: k.id, name: k.name, enabled: k.enabled, usagePlans: model.plansOfKey(k.id).map((p) => p.name),
    ...(showValues ? { value: k.value } : {}),
    ...describeExpiry(k, now),
  }));
}

export function jobInfos(runner: ScheduleRunner): LocalScheduledJobInfo[] {
  return runner.nextRuns().map(({ job, at }) => ({
    name: job.name, ...(job.description ? { description: job.description } : {}), every: describeSchedule(job), nextRunAt: new Date(at).toISOString(),
  }));
}
