/**
 * The slice of Amazon CloudWatch that keygate's quota warnings need, served beside the API
 * Gateway control plane for the real `@aws-sdk/client-cloudwatch` (JSON 1.0 in AWS query
 * compatible mode: `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.<Action>`;
 * errors carry the query error code in `x-amzn-query-error`). PutMetricData validates like
 * CloudWatch and keeps the data points in memory (the newest MAX_KEPT_DATA_POINTS). The data
 * points the gateway itself makes (API Gateway's metrics, the access logs' metric filters) are
 * kept as one-minute statistic sets. The app's alarms (alarms.ts) evaluate both; DescribeAlarms
 * answers with their states.
 */
import { gunzipSync } from 'zlib';
import { parseJsonObject } from '../json-body';
import { Json, LocalServiceError, LocalServiceResponse, queryCompatibleJsonError } from '../service-error';
import { amzTarget, LocalService } from '../services';
import type { AlarmStatus } from './alarm-model';

/** One data point CloudWatch received. */
export interface MetricDataPoint {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  /** ms since the epoch: the datum's Timestamp, or when it was received on the gateway's clock. */
  readonly timestamp: number;
  /** Set for a single value (`Value`). */
  readonly value?: number;
  /** Set for `Values` (with `Counts`) or `StatisticValues`. */
  readonly values?: { readonly values: number[]; readonly counts: number[] };
  readonly statistics?: { readonly sampleCount: number; readonly sum: number; readonly minimum: number; readonly maximum: number };
  readonly unit: string;
}

export interface CloudWatchRequest {
  /** The `X-Amz-Target` header. */
  readonly target: string;
  /** The `Content-Encoding` header: the SDK gzips PutMetricData bodies over 10 KB. */
  readonly contentEncoding?: string;
  readonly body: Buffer;
}

export type CloudWatchResponse = LocalServiceResponse;

export interface LocalCloudWatchOptions {
  readonly clock: () => number;
  /** Told about each PutMetricData (namespace, count and metric names). */
  readonly log?: (line: string) => void;
}

/** How many data points the slice keeps (the oldest go first). */
export const MAX_KEPT_DATA_POINTS = 10_000;
/** PutMetricData's limits. */
export const MAX_METRIC_DATA_PER_CALL = 1000;
/** PutMetricData's request size limit (uncompressed). */
export const MAX_PUT_METRIC_DATA_BYTES = 1_048_576;
const MAX_DIMENSIONS = 30;
const MAX_VALUES = 150;
/** How far back and ahead of now a Timestamp may be. */
const MAX_PAST_MS = 14 * 86_400_000;
const MAX_FUTURE_MS = 2 * 3_600_000;
/** CloudWatch rejects magnitudes outside this range (other than 0). */
const MIN_MAGNITUDE = 8.515920e-109;
const MAX_MAGNITUDE = 1.174271e+108;

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits',
  'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second',
  'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]);

/** A CloudWatch error: the JSON exception type, with its query error code (`x-amzn-query-error`). */
function cloudWatchError(queryCode: string, type: string, message: string, status = 400): LocalServiceError {
  return new LocalServiceError(type, message, status, queryCode);
}

const invalidValue = (message: string): LocalServiceError => cloudWatchError('InvalidParameterValue', 'InvalidParameterValueException', message);
const missing = (name: string): LocalServiceError => cloudWatchError('MissingParameter', 'MissingRequiredParameterException', `The parameter ${name} is required.`);
const invalidParam = (name: string, value: unknown): LocalServiceError => invalidValue(`The value ${String(value)} for parameter ${name} is invalid.`);

export class LocalCloudWatch {
  /** The slice as the gateway's registry sees it: a POST whose `X-Amz-Target` is `GraniteServiceVersion20100801.<Action>`. */
  asService(): LocalService {
    return {
      name: 'monitoring',
      accepts: (req) => req.method === 'POST' && amzTarget(req, TARGET_PREFIX) !== undefined,
      handle: ({ headers, body }) => this.handle({ target: String(headers['x-amz-target']), contentEncoding: headers['content-encoding'], body }),
    };
  }

  private readonly kept: MetricDataPoint[] = [];
  /** The gateway's own data points, one statistic set per metric and minute. */
  private readonly minutes = new Map<string, { -readonly [K in keyof MetricDataPoint]: MetricDataPoint[K] }>();
  private total = 0;
  /** The app's alarms, once the gateway set them up. */
  alarms?: { readonly alarms: readonly AlarmStatus[] };

  constructor(private readonly opts: LocalCloudWatchOptions) {}

  /** Every data point the alarms read: PutMetricData's and the gateway's own. */
  allDataPoints(): readonly MetricDataPoint[] {
    return this.minutes.size === 0 ? this.kept : [...this.kept, ...this.minutes.values()];
  }

  /** A data point the gateway itself produced (API Gateway's metrics, a metric filter), merged into its minute. */
  record(p: { namespace: string; metricName: string; dimensions: Record<string, string>; value: number; unit: string; timestamp: number }): void {
    const minute = Math.floor(p.timestamp / 60_000) * 60_000;
    const key = JSON.stringify([p.namespace, p.metricName, Object.entries(p.dimensions).sort(), minute]);
    const s = this.minutes.get(key);
    if (s?.statistics) {
      const st = s.statistics;
      s.statistics = { sampleCount: st.sampleCount + 1, sum: st.sum + p.value, minimum: Math.min(st.minimum, p.value), maximum: Math.max(st.maximum, p.value) };
      return;
    }
    this.minutes.set(key, {
      namespace: p.namespace, metricName: p.metricName, dimensions: p.dimensions, timestamp: minute, unit: p.unit,
      statistics: { sampleCount: 1, sum: p.value, minimum: p.value, maximum: p.value },
    });
    if (this.minutes.size > MAX_KEPT_DATA_POINTS) this.minutes.delete(this.minutes.keys().next().value as string);
  }

  /** The data points kept, oldest first. */
  get dataPoints(): readonly MetricDataPoint[] {
    return this.kept;
  }

  /** Data points received since the start, including those no longer kept. */
  get receivedCount(): number {
    return this.total;
  }

  handle(req: CloudWatchRequest): CloudWatchResponse {
    try {
      const body = parseJsonObject(decoded(req), (message) => cloudWatchError('SerializationException', 'SerializationException', message));
      const action = req.target.slice(TARGET_PREFIX.length);
      if (action === 'DescribeAlarms') return json(this.describeAlarms(body));
      if (action !== 'PutMetricData') {
        throw cloudWatchError('InvalidAction', 'UnknownOperationException', `keygate local does not implement monitoring ${action} (it serves PutMetricData and DescribeAlarms)`);
      }
      this.putMetricData(body);
      return json({});
    } catch (e) {
      if (!(e instanceof LocalServiceError)) throw e;
      return queryCompatibleJsonError(e, 'com.amazonaws.cloudwatch');
    }
  }

  /** DescribeAlarms: the app's metric alarms (AlarmNames, AlarmNamePrefix, StateValue filters; no paging: an app has few alarms). */
  private describeAlarms(body: Json): Json {
    const names = Array.isArray(body.AlarmNames) ? (body.AlarmNames as string[]) : undefined;
    const prefix = typeof body.AlarmNamePrefix === 'string' ? body.AlarmNamePrefix : undefined;
    if (names && prefix !== undefined) throw cloudWatchError('InvalidParameterCombination', 'InvalidParameterCombinationException', 'AlarmNames and AlarmNamePrefix are mutually exclusive.');
    const state = typeof body.StateValue === 'string' ? body.StateValue : undefined;
    const alarms = (this.alarms?.alarms ?? []).filter((a) => (!names || names.includes(a.seed.name)) && (prefix === undefined || a.seed.name.startsWith(prefix)) && (!state || a.state === state));
    return { MetricAlarms: alarms.map(describeAlarm), CompositeAlarms: [] };
  }

  /** Validates the whole call first: a bad datum stores nothing, as in CloudWatch. */
  private putMetricData(body: Json): void {
    const namespace = body.Namespace;
    if (namespace === undefined || namespace === null) throw missing('Namespace');
    if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255 || namespace.startsWith(':') || /^AWS\//.test(namespace)) {
      throw invalidParam('Namespace', namespace);
    }
    const data = body.MetricData;
    if (data === undefined || data === null) throw missing('MetricData');
    if (!Array.isArray(data) || data.length === 0) throw invalidParam('MetricData', JSON.stringify(data));
    if (data.length > MAX_METRIC_DATA_PER_CALL) throw invalidValue(`The collection MetricData must not have a size greater than ${MAX_METRIC_DATA_PER_CALL}.`);
    const now = this.opts.clock();
    const points = data.map((d, i) => datum(d as Json, `MetricData.member.${i + 1}`, namespace, now));
    for (const p of points) {
      this.kept.push(p);
      if (this.kept.length > MAX_KEPT_DATA_POINTS) this.kept.shift();
    }
    this.total += points.length;
    const names = [...new Set(points.map((p) => p.metricName))];
    this.opts.log?.(`keygate local: CloudWatch ${namespace} got ${points.length} data point${points.length === 1 ? '' : 's'} (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`);
  }
}

function json(body: Json): CloudWatchResponse {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: JSON.stringify(body) };
}

/** A MetricAlarm as DescribeAlarms returns it (times in epoch seconds, as JSON 1.0 sends them). */
function describeAlarm(a: AlarmStatus): Json {
  const s = a.seed;
  const single = s.queries.length === 1 ? s.queries[0].stat : undefined;
  const dims = (d: Record<string, string>): Json[] => Object.entries(d).map(([Name, Value]) => ({ Name, Value }));
  return {
    AlarmName: s.name, AlarmArn: s.arn, AlarmDescription: s.description, ActionsEnabled: s.actionsEnabled,
    OKActions: s.okActions, AlarmActions: s.alarmActions, InsufficientDataActions: s.insufficientDataActions,
    StateValue: a.state, StateReason: a.reason, StateUpdatedTimestamp: a.updatedAt / 1000, StateTransitionedTimestamp: a.updatedAt / 1000,
    EvaluationPeriods: s.evaluationPeriods, DatapointsToAlarm: s.datapointsToAlarm, Threshold: s.threshold, ComparisonOperator: s.comparison, TreatMissingData: s.treatMissingData,
    ...(single
      ? { MetricName: single.metricName, Namespace: single.namespace, Statistic: single.stat, Dimensions: dims(single.dimensions), Period: single.periodSec }
      : {
        Metrics: s.queries.map((q) => ({
          Id: q.id, ReturnData: q.returnData, Label: q.label,
          ...(q.stat ? { MetricStat: { Metric: { Namespace: q.stat.namespace, MetricName: q.stat.metricName, Dimensions: dims(q.stat.dimensions) }, Period: q.stat.periodSec, Stat: q.stat.stat } } : { Expression: q.expression?.text, Period: q.expression?.periodSec }),
        })),
      }),
  };
}

/** The body, gunzipped if the SDK compressed it (at most PutMetricData's 1 MB once inflated). */
function decoded(req: CloudWatchRequest): Buffer {
  const encoding = (req.contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return req.body;
  if (encoding !== 'gzip') throw cloudWatchError('InvalidParameterValue', 'InvalidParameterValueException', `Content-Encoding ${encoding} is not supported (gzip is).`);
  try {
    return gunzipSync(req.body, { maxOutputLength: MAX_PUT_METRIC_DATA_BYTES });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw cloudWatchError('RequestEntityTooLarge', 'RequestEntityTooLargeException', `Request size exceeds ${MAX_PUT_METRIC_DATA_BYTES} bytes.`, 413);
    }
    throw cloudWatchError('SerializationException', 'SerializationException', 'The gzip-encoded request body cannot be decompressed.');
  }
}

function datum(d: Json, path: string, namespace: string, now: number): MetricDataPoint {
  const metricName = d.MetricName;
  if (metricName === undefined || metricName === null) throw missing(`${path}.MetricName`);
  if (typeof metricName !== 'string' || metricName.length < 1 || metricName.length > 255) throw invalidParam(`${path}.MetricName`, metricName);

  const dims = d.Dimensions ?? [];
  if (!Array.isArray(dims)) throw invalidParam(`${path}.Dimensions`, JSON.stringify(dims));
  if (dims.length > MAX_DIMENSIONS) throw invalidValue(`The collection ${path}.Dimensions must not have a size greater than ${MAX_DIMENSIONS}.`);
  const dimensions: Record<string, string> = {};
  dims.forEach((dim: Json, j: number) => {
    const at = `${path}.Dimensions.member.${j + 1}`;
    if (typeof dim?.Name !== 'string' || dim.Name.length < 1 || dim.Name.length > 255) throw invalidParam(`${at}.Name`, dim?.Name);
    if (typeof dim.Value !== 'string' || dim.Value.length < 1 || dim.Value.length > 1024) throw invalidParam(`${at}.Value`, dim.Value);
    if (dim.Name in dimensions) throw invalidValue(`No metric may have duplicate dimension names; ${at}.Name is ${dim.Name} again.`);
    dimensions[dim.Name] = dim.Value;
  });

  let timestamp = now;
  if (d.Timestamp !== undefined && d.Timestamp !== null) {
    const seconds = typeof d.Timestamp === 'number' ? d.Timestamp : Number.NaN;
    if (!Number.isFinite(seconds)) throw invalidParam(`${path}.Timestamp`, d.Timestamp);
    timestamp = Math.round(seconds * 1000);
    if (timestamp < now - MAX_PAST_MS) throw invalidValue(`The parameter ${path}.Timestamp must specify a time no more than two weeks in the past.`);
    if (timestamp > now + MAX_FUTURE_MS) throw invalidValue(`The parameter ${path}.Timestamp must specify a time no more than two hours in the future.`);
  }

  const unit = d.Unit ?? 'None';
  if (typeof unit !== 'string' || !UNITS.has(unit)) throw invalidParam(`${path}.Unit`, unit);
  if (d.StorageResolution !== undefined && d.StorageResolution !== 1 && d.StorageResolution !== 60) throw invalidParam(`${path}.StorageResolution`, d.StorageResolution);

  const given = (['Value', 'Values', 'StatisticValues'] as const).filter((f) => d[f] !== undefined && d[f] !== null);
  if (given.length > 1) {
    throw cloudWatchError('InvalidParameterCombination', 'InvalidParameterCombinationException',
      `The parameters ${given.map((f) => `${path}.${f}`).join(' and ')} are mutually exclusive and you have specified both.`);
  }
  const base = { namespace, metricName, dimensions, timestamp, unit };
  if (given[0] === 'Values') {
    const values = numbers(d.Values, `${path}.Values`);
    const counts = d.Counts === undefined || d.Counts === null ? values.map(() => 1) : numbers(d.Counts, `${path}.Counts`);
    if (values.length > MAX_VALUES) throw invalidValue(`The collection ${path}.Values must not have a size greater than ${MAX_VALUES}.`);
    if (counts.length !== values.length) throw invalidValue(`The parameters ${path}.Values and ${path}.Counts must be of the same size.`);
    return { ...base, values: { values, counts } };
  }
  if (given[0] === 'StatisticValues') {
    const s = d.StatisticValues as Json;
    const stat = (f: string): number => {
      if (s?.[f] === undefined || s[f] === null) throw missing(`${path}.StatisticValues.${f}`);
      return measurable(s[f], `${path}.StatisticValues.${f}`);
    };
    const statistics = { sampleCount: stat('SampleCount'), sum: stat('Sum'), minimum: stat('Minimum'), maximum: stat('Maximum') };
    if (statistics.minimum > statistics.maximum) throw invalidValue(`The parameter ${path}.StatisticValues.Minimum must not be greater than ${path}.StatisticValues.Maximum.`);
    return { ...base, statistics };
  }
  // One of Value, Values and StatisticValues is required.
  if (given.length === 0) throw missing(`${path}.Value`);
  return { ...base, value: measurable(d.Value, `${path}.Value`) };
}

/** A number CloudWatch can store: finite, 0 or within its magnitude range. The SDK sends NaN and infinities as strings. */
function measurable(v: unknown, name: string): number {
  const n = typeof v === 'number' ? v : Number.NaN;
  const magnitude = Math.abs(n);
  if (!Number.isFinite(n) || (magnitude !== 0 && (magnitude < MIN_MAGNITUDE || magnitude > MAX_MAGNITUDE))) throw invalidParam(name, v);
  return n;
}

function numbers(v: unknown, name: string): number[] {
  if (!Array.isArray(v)) throw invalidParam(name, JSON.stringify(v));
  return v.map((x, i) => measurable(x, `${name}.member.${i + 1}`));
}
