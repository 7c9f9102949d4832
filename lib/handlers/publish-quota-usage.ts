/*
 * The quota-usage job (a scheduled Lambda function): for each usage plan of an API that has a
 * quota, reads GetUsage for the current quota period and publishes, per key and plan, the
 * requests used, the remaining quota and the percentage used as CloudWatch metrics
 * (namespace Keygate/Quota, dimensions ApiId, UsagePlanId, ApiKeyId). Alarms on them warn
 * the owner. Keys without requests in the period publish nothing (each metric costs money).
 */
import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { APIGatewayClient, GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { periodStart } from '../shared/quota-period';
import { planUsageByKeyId } from '../sdk/unused';
import { QUOTA_METRIC_NAMESPACE, QUOTA_METRICS } from '../shared/quota-metrics';

export interface PublishQuotaUsageEvent {
  readonly apiId: string;
  readonly usagePlanIds: string[];
}

export interface QuotaUsage {
  readonly usagePlanId: string;
  readonly apiKeyId: string;
  readonly used: number;
  readonly remaining: number;
  readonly limit: number;
  readonly usedPercent: number;
}

export interface QuotaUsageDependencies {
  readonly apigw: APIGatewayClient;
  readonly cloudwatch: CloudWatchClient;
  readonly now: () => number;
}

/** PutMetricData takes at most 1,000 data points per call. */
const DATA_PER_CALL = 999;

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export async function publishQuotaUsage(deps: QuotaUsageDependencies, event: PublishQuotaUsageEvent): Promise<QuotaUsage[]> {
  const now = deps.now();
  const usage: QuotaUsage[] = [];
  for (const usagePlanId of event.usagePlanIds) {
    const plan = await deps.apigw.send(new GetUsagePlanCommand({ usagePlanId }));
    const quota = plan.quota;
    if (!quota?.limit || !quota.period) continue;
    const start = periodStart(now, { period: quota.period, offset: quota.offset ?? 0 });
    const { daily } = await planUsageByKeyId(deps.apigw, usagePlanId, isoDay(start), isoDay(now));
    for (const [apiKeyId, days] of daily) {
      const used = days.reduce((sum, [requests]) => sum + (requests ?? 0), 0);
      if (used === 0) continue;
      const reported = days[days.length - 1]?.[1];
      const remaining = typeof reported === 'number' ? reported : Math.max(0, quota.limit - used);
      usage.push({ usagePlanId, apiKeyId, used, remaining, limit: quota.limit, usedPercent: Math.min(100, (used / quota.limit) * 100) });
    }
  }
  const timestamp = new Date(now);
  const data: MetricDatum[] = usage.flatMap((u) => {
    const dimensions = [{ Name: 'ApiId', Value: event.apiId }, { Name: 'UsagePlanId', Value: u.usagePlanId }, { Name: 'ApiKeyId', Value: u.apiKeyId }];
    return [
      { MetricName: QUOTA_METRICS.used, Dimensions: dimensions, Timestamp: timestamp, Value: u.used, Unit: 'Count' },
      { MetricName: QUOTA_METRICS.remaining, Dimensions: dimensions, Timestamp: timestamp, Value: u.remaining, Unit: 'Count' },
      { MetricName: QUOTA_METRICS.usedPercent, Dimensions: dimensions, Timestamp: timestamp, Value: u.usedPercent, Unit: 'Percent' },
    ];
  });
  for (let i = 0; i < data.length; i += DATA_PER_CALL) {
    await deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: QUOTA_METRIC_NAMESPACE, MetricData: data.slice(i, i + DATA_PER_CALL) }));
  }
  return usage;
}

export async function handler(event: PublishQuotaUsageEvent): Promise<{ published: number }> {
  const usage = await publishQuotaUsage({ apigw: new APIGatewayClient({ retryMode: 'adaptive' }), cloudwatch: new CloudWatchClient({}), now: Date.now }, event);
  console.log(JSON.stringify({ published: usage.length, atOrAbove80: usage.filter((u) => u.usedPercent >= 80).length }));
  return { published: usage.length };
}
