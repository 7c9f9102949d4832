/*
 * The daily usage export (a scheduled Lambda function): reads GetUsage for the API's tiers for
 * the last `days` complete UTC days, writes each day's rows as gzip-compressed JSON lines to
 * `s3://BUCKET/PREFIX/dt=YYYY-MM-DD/part-0.json.gz` (replacing that day's file: a re-run writes
 * the same bytes) and then puts one EventBridge event per day with its totals and location.
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { dayFile, readUsageRows, rowsByDay } from '../sdk/usage-export';
import {
  daysBetween, isoDay, summarizeDay, USAGE_EVENT_DETAIL_TYPE, USAGE_EVENT_SOURCE, UsageDayExportedDetail, usageObjectKey,
} from '../shared/usage-export';

const DAY_MS = 86_400_000;

export interface ExportUsageEvent {
  readonly apiId: string;
  readonly usagePlanIds: string[];
  readonly bucket: string;
  readonly prefix: string;
  /** Complete days to (re-)export, yesterday first counted: 3 = the three days before today (UTC). */
  readonly days: number;
  /** The bus the "Usage day exported" events go to. */
  readonly eventBusName: string;
  /** Only this day (YYYY-MM-DD), e.g. a manual re-run; overrides `days`. */
  readonly date?: string;
}

export interface ExportUsageDependencies {
  readonly apigw: APIGatewayClient;
  readonly s3: S3Client;
  readonly events: EventBridgeClient;
  readonly now: () => number;
}

export interface ExportUsageResult {
  readonly exported: UsageDayExportedDetail[];
  readonly getUsageCalls: number;
}

function exportDays(event: ExportUsageEvent, now: number): string[] {
  if (event.date) return [event.date];
  if (!Number.isInteger(event.days) || event.days < 1 || event.days > 90) throw new Error(`days must be a whole number from 1 to 90, not ${event.days}`);
  const yesterday = Math.floor(now / DAY_MS) * DAY_MS - DAY_MS;
  return daysBetween(isoDay(yesterday - (event.days - 1) * DAY_MS), isoDay(yesterday));
}

export async function exportUsage(deps: ExportUsageDependencies, event: ExportUsageEvent): Promise<ExportUsageResult> {
  if (!event.bucket || !event.apiId || !event.eventBusName) throw new Error('the event needs apiId, bucket and eventBusName');
  const days = exportDays(event, deps.now());
  const read = await readUsageRows(deps.apigw, { from: days[0], to: days[days.length - 1], apiId: event.apiId, usagePlanIds: event.usagePlanIds });
  const exported: UsageDayExportedDetail[] = [];
  for (const [date, rows] of rowsByDay(read.rows, days)) {
    const key = usageObjectKey(date, event.prefix);
    const body = dayFile(rows);
    await deps.s3.send(new PutObjectCommand({ Bucket: event.bucket, Key: key, Body: body, ContentType: 'application/x-ndjson', ContentEncoding: 'gzip' }));
    exported.push(summarizeDay(date, event.apiId, rows, `s3://${event.bucket}/${key}`, body.length));
  }
  // One call for up to 10 entries (PutEvents' limit); a failed entry fails the run (EventBridge retries it).
  for (let i = 0; i < exported.length; i += 10) {
    const out = await deps.events.send(new PutEventsCommand({
      Entries: exported.slice(i, i + 10).map((d) => ({ Source: USAGE_EVENT_SOURCE, DetailType: USAGE_EVENT_DETAIL_TYPE, Detail: JSON.stringify(d), EventBusName: event.eventBusName })),
    }));
    if (out.FailedEntryCount) throw new Error(`PutEvents failed for ${out.FailedEntryCount} day(s): ${(out.Entries ?? []).map((e) => e.ErrorMessage).filter(Boolean).join('; ')}`);
  }
  return { exported, getUsageCalls: read.calls.getUsage };
}

export async function handler(event: ExportUsageEvent): Promise<{ days: number; requests: number }> {
  const clients = { apigw: new APIGatewayClient({ retryMode: 'adaptive' }), s3: new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL !== undefined }), events: new EventBridgeClient({}) };
  const result = await exportUsage({ ...clients, now: Date.now }, event);
  console.log(JSON.stringify({ days: result.exported.map((d) => ({ date: d.date, keys: d.keys, requests: d.requests })), getUsageCalls: result.getUsageCalls }));
  return { days: result.exported.length, requests: result.exported.reduce((s, d) => s + d.requests, 0) };
}
