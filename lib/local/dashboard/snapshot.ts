/**
 * The dashboard's data: what the gateway serves and how each key stands, computed from the
 * live model, throttle buckets and quota counters at the moment it is asked. Key values are
 * never part of it, whatever `showValues` says.
 */
import type { LocalCloudWatch } from '../cloudwatch/service';
import { RequestRecord } from '../apigateway/data-plane';
import type { LocalSns } from '../sns/service';
import type { LocalApiInfo } from '../server/info';
import { Model, QuotaSettings } from '../apigateway/model';
import { QuotaCounter } from '../apigateway/data-plane/quota';
import { bucketParams, ThrottleRegistry } from '../apigateway/data-plane/throttle';
import { Contributor, RequestActivity } from './activity';

/** How many contributors each top list shows. */
export const TOP_ROWS = 10;
/** How many SNS messages and CloudWatch data points the dashboard shows (the newest). */
export const SERVICE_ROWS = 20;

/** A message the local SNS got: its subject, never its body (a message may carry anything). */
export interface DashboardMessage {
  readonly time: number;
  readonly topic: string;
  readonly messageId: string;
  readonly subject?: string;
  readonly bytes: number;
}

/** An alarm of the app and where it stands. */
export interface DashboardAlarm {
  readonly name: string;
  readonly state: string;
  readonly reason: string;
  /** When the state last changed. */
  readonly since: number;
}

/** A delivery of the local SNS (or its refusal): where, never the body. */
export interface DashboardDelivery {
  readonly time: number;
  readonly protocol: string;
  readonly endpoint: string;
  readonly subject?: string;
  readonly delivered: boolean;
  readonly detail?: string;
}

export interface DashboardDataPoint {
  readonly time: number;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  /** The value, or the sum of a statistic set or of value × count. */
  readonly value: number;
  readonly unit: string;
}

export interface DashboardRoute {
  readonly httpMethod: string;
  readonly path: string;
  readonly apiKeyRequired: boolean;
}

export interface DashboardApi extends LocalApiInfo {
  readonly routes: DashboardRoute[];
}

export interface KeyPlanStanding {
  readonly id: string;
  readonly name: string;
  /** The key's bucket in this plan: tokens left now, out of `burstLimit`, refilled at `rateLimit` per second. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number; readonly tokens: number };
  readonly quota?: { readonly limit: number; readonly period: QuotaSettings['period']; readonly used: number; readonly remaining: number };
}

export interface DashboardKey {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly plans: KeyPlanStanding[];
}

export interface DashboardSnapshot {
  /** The gateway clock when the snapshot was taken (ms since the epoch). */
  readonly now: number;
  /** Data-plane requests since the gateway started. */
  readonly requests: number;
  readonly apis: DashboardApi[];
  readonly keys: DashboardKey[];
  /** The latest requests, newest first. */
  readonly feed: RequestRecord[];
  /** Contributors by key id since the gateway started, largest first. */
  readonly top: { readonly requests: Contributor[]; readonly throttled: Contributor[]; readonly forbidden: Contributor[] };
  /** What the scheduled jobs sent to the local SNS and CloudWatch, newest first. */
  readonly messages: DashboardMessage[];
  readonly dataPoints: DashboardDataPoint[];
  /** The app's CloudWatch alarms, ALARM first. */
  readonly alarms: DashboardAlarm[];
  /** The latest SNS deliveries, newest first. */
  readonly deliveries: DashboardDelivery[];
}

export interface SnapshotSources {
  readonly model: Model;
  readonly throttles: ThrottleRegistry;
  readonly quotas: QuotaCounter;
  readonly activity: RequestActivity;
  /** The APIs and stage URLs, as `LocalGateway.info.apis` lists them. */
  readonly apis: () => LocalApiInfo[];
  readonly sns?: LocalSns;
  readonly cloudwatch?: LocalCloudWatch;
}

export function takeSnapshot(src: SnapshotSources, now: number): DashboardSnapshot {
  const { model, throttles, quotas, activity } = src;
  const apis = src.apis().map((a): DashboardApi => {
    const api = model.apis.get(a.id);
    const routes = api ? [...api.resources.values()]
      .sort((x, y) => x.path.localeCompare(y.path))
      .flatMap((r) => [...r.methods.values()].map((m) => ({ httpMethod: m.httpMethod, path: r.path, apiKeyRequired: m.apiKeyRequired }))) : [];
    return { ...a, routes };
  });
  const keys = [...model.keys.values()].map((k): DashboardKey => ({
    id: k.id, name: k.name, enabled: k.enabled,
    plans: model.plansOfKey(k.id).map((p): KeyPlanStanding => {
      const params = bucketParams(p.throttle);
      // No bucket yet means no request yet: the bucket would start full.
      const tokens = throttles.peekOf(k, p)?.level(now) ?? params?.burst;
      return {
        id: p.id, name: p.name,
        ...(params && tokens !== undefined ? { throttle: { rateLimit: params.rate, burstLimit: params.burst, tokens } } : {}),
        ...(p.quota ? {
          quota: { limit: p.quota.limit, period: p.quota.period, used: quotas.used(p.id, k.id, p.quota, now), remaining: quotas.remaining(p.id, k.id, p.quota, now) },
        } : {}),
      };
    }),
  }));
  const messages = (src.sns?.messages ?? []).slice(-SERVICE_ROWS).reverse().map((m): DashboardMessage => ({
    time: m.publishedAt, topic: m.topicArn.slice(m.topicArn.lastIndexOf(':') + 1), messageId: m.messageId, subject: m.subject, bytes: Buffer.byteLength(m.message),
  }));
  const dataPoints = (src.cloudwatch?.dataPoints ?? []).slice(-SERVICE_ROWS).reverse().map((d): DashboardDataPoint => ({
    time: d.timestamp, namespace: d.namespace, metricName: d.metricName, dimensions: d.dimensions, unit: d.unit,
    value: d.value ?? d.statistics?.sum ?? (d.values ? d.values.values.reduce((sum, v, i) => sum + v * (d.values?.counts[i] ?? 1), 0) : 0),
  }));
  const order: Record<string, number> = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 };
  const alarms = [...(src.cloudwatch?.alarms?.alarms ?? [])].sort((a, b) => order[a.state] - order[b.state] || a.seed.name.localeCompare(b.seed.name))
    .map((a): DashboardAlarm => ({ name: a.seed.name, state: a.state, reason: a.reason, since: a.updatedAt }));
  const deliveries = (src.sns?.subscriptions?.deliveries ?? []).slice(-SERVICE_ROWS).reverse().map((d): DashboardDelivery => ({
    time: d.at, protocol: d.protocol, endpoint: d.endpoint, subject: d.subject, delivered: d.delivered, detail: d.detail,
  }));
  return {
    now, requests: activity.requests, apis, keys, feed: activity.feed.latest(), messages, dataPoints, alarms, deliveries,
    top: { requests: activity.top('requests', TOP_ROWS), throttled: activity.top('throttled', TOP_ROWS), forbidden: activity.top('forbidden', TOP_ROWS) },
  };
}
