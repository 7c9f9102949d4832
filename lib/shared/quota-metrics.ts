/*
 * The CloudWatch metrics of keygate's quota warnings, in one dependency-free module: the
 * publishing job, the QuotaWarnings alarms and dashboards read the same names.
 */

/** Namespace of the quota metrics. */
export const QUOTA_METRIC_NAMESPACE = 'Keygate/Quota';

/** Metric names: requests used in the current quota period, quota remaining, and used as a percentage of the limit. */
export const QUOTA_METRICS = {
  used: 'QuotaUsed',
  remaining: 'QuotaRemaining',
  usedPercent: 'QuotaUsedPercent',
} as const;

/** Dimensions of every quota metric, in this order. */
export const QUOTA_METRIC_DIMENSIONS = ['ApiId', 'UsagePlanId', 'ApiKeyId'] as const;

/** Construct id of the quota-warning job under its KeyProtectedApi (the dashboard looks for it). */
export const QUOTA_WARNINGS_CONSTRUCT_ID = 'QuotaWarnings';
