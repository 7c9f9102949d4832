/** A usage plan's limits in words, as the portal shows them: "10,000 requests a month, 5 a second (bursts of 10)". */
export interface PlanLimits {
  readonly throttle?: { readonly rateLimit?: number; readonly burstLimit?: number };
  readonly quota?: { readonly limit?: number; readonly period?: string; readonly offset?: number };
}

const PERIOD_WORDS: Record<string, string> = { DAY: 'a day', WEEK: 'a week', MONTH: 'a month' };

function count(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

export function limitsInWords(plan: PlanLimits): string {
  const parts: string[] = [];
  const q = plan.quota;
  if (q?.limit !== undefined && q.period) parts.push(`${count(q.limit)} ${q.limit === 1 ? 'request' : 'requests'} ${PERIOD_WORDS[q.period] ?? `per ${q.period.toLowerCase()}`}`);
  const t = plan.throttle;
  if (t?.rateLimit !== undefined) {
    const burst = t.burstLimit !== undefined ? ` (bursts of ${count(t.burstLimit)})` : '';
    parts.push(`${count(t.rateLimit)} a second${burst}`);
  }
  return parts.length ? parts.join(', ') : 'no limits';
}
