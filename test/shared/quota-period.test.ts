import { QuotaCounter } from '../../lib/local/apigateway/data-plane/quota';
import { usageChartConfig } from '../../lib/ops/chart';
import type { UsageReport } from '../../lib/ops/usage';
import { nextPeriodStart, periodStart, periodStartDay } from '../../lib/shared/quota-period';

// CloudFormation, AWS::ApiGateway::UsagePlan QuotaSettings.Offset: "The day that a time period
// starts. For example, with a time period of WEEK, an offset of 0 starts on Sunday, and an
// offset of 1 starts on Monday." Periods are in UTC.
const t = (iso: string) => Date.parse(iso);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('the quota period, one rule', () => {
  test('WEEK offset 0 starts on Sunday', () => {
    // 2026-12-03 is a Thursday; the Sunday before is 2026-11-29.
    expect(day(periodStart(t('2026-12-03T12:00:00Z'), { period: 'WEEK', offset: 0 }))).toBe('2026-11-29');
    expect(new Date(periodStart(t('2026-12-03T12:00:00Z'), { period: 'WEEK', offset: 0 })).getUTCDay()).toBe(0);
  });

  test('WEEK offset 3 starts on Wednesday', () => {
    expect(day(periodStart(t('2026-12-03T12:00:00Z'), { period: 'WEEK', offset: 3 }))).toBe('2026-12-02');
    expect(day(periodStart(t('2026-12-01T23:59:59Z'), { period: 'WEEK', offset: 3 }))).toBe('2026-11-25');
    expect(day(nextPeriodStart(t('2026-12-03T12:00:00Z'), { period: 'WEEK', offset: 3 }))).toBe('2026-12-09');
  });

  test('MONTH offset 14 starts on the 15th', () => {
    expect(day(periodStart(t('2026-12-03T12:00:00Z'), { period: 'MONTH', offset: 14 }))).toBe('2026-11-15');
    expect(day(periodStart(t('2026-12-15T00:00:00Z'), { period: 'MONTH', offset: 14 }))).toBe('2026-12-15');
    expect(day(nextPeriodStart(t('2026-12-03T12:00:00Z'), { period: 'MONTH', offset: 14 }))).toBe('2026-12-15');
  });

  test('periodStartDay is periodStart on a UTC day', () => {
    expect(periodStartDay('2026-12-03', { period: 'WEEK', offset: 3 })).toBe('2026-12-02');
    expect(periodStartDay('2026-12-03', { period: 'MONTH', offset: 0 })).toBe('2026-12-01');
    expect(periodStartDay('2026-12-03', { period: 'DAY', offset: 0 })).toBe('2026-12-03');
  });
});

describe('every layer follows it', () => {
  test("the local gateway's counter resets at a WEEK offset 3 period start (Wednesday)", () => {
    const counter = new QuotaCounter({ plan: { key: { '2026-11-30': 5, '2026-12-01': 7, '2026-12-02': 11, '2026-12-03': 13 } } });
    const quota = { limit: 100, period: 'WEEK' as const, offset: 3 };
    // Thursday 2026-12-03: the period began Wednesday 12-02 → 11 + 13.
    expect(counter.used('plan', 'key', quota, t('2026-12-03T12:00:00Z'))).toBe(24);
    // Tuesday 2026-12-01: the period began Wednesday 11-25 → 5 + 7.
    expect(counter.used('plan', 'key', { ...quota }, t('2026-12-01T12:00:00Z'))).toBe(12);
  });

  test("the usage chart's period line restarts where the plan's period starts (WEEK offset 3), not on Monday", () => {
    const dates = ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03'];
    const report: UsageReport = {
      from: dates[0], to: dates[3],
      rows: dates.map((date) => ({ date, keyId: 'k1', keyName: 'acme', planId: 'p1', planName: 'Gold', used: 1, quotaLimit: 100, quotaPeriod: 'WEEK', quotaOffset: 3 })),
      totals: [{ keyId: 'k1', keyName: 'acme', planId: 'p1', planName: 'Gold', used: 4, quotaLimit: 100, quotaPeriod: 'WEEK', quotaOffset: 3 }],
    };
    const line = usageChartConfig(report).data.datasets.find((d) => d.label === 'acme (Gold) use this week');
    // Monday 1, Tuesday 2, then Wednesday starts the plan's week: 1, 2.
    expect(line?.data).toEqual([1, 2, 1, 2]);
  });

  test('the usage chart counts a WEEK offset 0 plan from Sunday', () => {
    const dates = ['2026-11-28', '2026-11-29', '2026-11-30'];
    const report: UsageReport = {
      from: dates[0], to: dates[2],
      rows: dates.map((date) => ({ date, keyId: 'k1', keyName: 'acme', planId: 'p1', planName: 'Gold', used: 2, quotaLimit: 100, quotaPeriod: 'WEEK', quotaOffset: 0 })),
      totals: [{ keyId: 'k1', keyName: 'acme', planId: 'p1', planName: 'Gold', used: 6, quotaLimit: 100, quotaPeriod: 'WEEK', quotaOffset: 0 }],
    };
    const line = usageChartConfig(report).data.datasets.find((d) => d.label === 'acme (Gold) use this week');
    // Saturday 2, then Sunday starts a week: 2, 4.
    expect(line?.data).toEqual([2, 2, 4]);
  });
});
