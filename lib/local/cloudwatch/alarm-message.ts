/**
 * The message CloudWatch publishes to an alarm's SNS actions on a state change: its JSON
 * (AlarmName, NewStateValue, NewStateReason, StateChangeTime, Region, AlarmArn, OldStateValue,
 * the actions, and the Trigger: the metric, or the Metrics of a math or query alarm) and its
 * subject, `ALARM: "name" in US East (N. Virginia)`. Email subscribers get CloudWatch's text
 * version instead (CloudWatch publishes a JSON message structure), SMS a one-line one.
 */
import type { AlarmSeed, AlarmState, AlarmTransition } from './alarm-model';

const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)', 'us-east-2': 'US East (Ohio)', 'us-west-1': 'US West (N. California)', 'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)', 'eu-west-2': 'EU (London)', 'eu-west-3': 'EU (Paris)', 'eu-central-1': 'EU (Frankfurt)', 'eu-north-1': 'EU (Stockholm)',
  'ap-southeast-1': 'Asia Pacific (Singapore)', 'ap-southeast-2': 'Asia Pacific (Sydney)', 'ap-northeast-1': 'Asia Pacific (Tokyo)',
  'ap-south-1': 'Asia Pacific (Mumbai)', 'ca-central-1': 'Canada (Central)', 'sa-east-1': 'South America (Sao Paulo)',
};

export function regionName(region: string): string {
  return REGION_NAMES[region] ?? region;
}

/** CloudWatch's subject: at most 100 characters, as SNS allows. */
export function alarmSubject(name: string, state: AlarmState, region: string): string {
  const subject = `${state}: "${name}" in ${regionName(region)}`;
  return subject.length <= 100 ? subject : `${subject.slice(0, 99)}…`.replace(/[^\x20-\x7e]/g, '');
}

/** `2026-12-06T22:40:36.000+0000`, as CloudWatch writes times in alarm messages. */
function cloudWatchTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

function dimensionList(dimensions: Record<string, string>): { value: string; name: string }[] {
  return Object.entries(dimensions).map(([name, value]) => ({ value, name }));
}

function trigger(seed: AlarmSeed): Record<string, unknown> {
  const common = {
    Period: seed.periodSec, EvaluationPeriods: seed.evaluationPeriods, DatapointsToAlarm: seed.datapointsToAlarm, ComparisonOperator: seed.comparison,
    Threshold: seed.threshold, TreatMissingData: seed.treatMissingData, EvaluateLowSampleCountPercentile: '',
  };
  const single = seed.queries.length === 1 ? seed.queries[0].stat : undefined;
  if (single) {
    return {
      MetricName: single.metricName, Namespace: single.namespace, StatisticType: 'Statistic', Statistic: single.stat.toUpperCase(), Unit: null,
      Dimensions: dimensionList(single.dimensions), ...common,
    };
  }
  return {
    ...common,
    Metrics: seed.queries.map((q) => ({
      Id: q.id, ...(q.label ? { Label: q.label } : {}), ReturnData: q.returnData,
      ...(q.stat
        ? { MetricStat: { Metric: { Dimensions: dimensionList(q.stat.dimensions), MetricName: q.stat.metricName, Namespace: q.stat.namespace }, Period: q.stat.periodSec, Stat: q.stat.stat } }
        : { Expression: q.expression?.text, ...(q.expression?.periodSec ? { Period: q.expression.periodSec } : {}) }),
    })),
  };
}

export function alarmMessage(seed: AlarmSeed, t: AlarmTransition, where: { region: string; accountId: string }): Record<string, unknown> {
  return {
    AlarmName: seed.name, AlarmDescription: seed.description ?? null, AWSAccountId: where.accountId,
    AlarmConfigurationUpdatedTimestamp: cloudWatchTime(t.at), NewStateValue: t.to, NewStateReason: t.reason, StateChangeTime: cloudWatchTime(t.at),
    Region: regionName(where.region), AlarmArn: seed.arn, OldStateValue: t.from,
    OKActions: seed.okActions, AlarmActions: seed.alarmActions, InsufficientDataActions: seed.insufficientDataActions,
    Trigger: trigger(seed),
  };
}

/** The texts CloudWatch sends email and SMS subscribers (the JSON goes to every other protocol). */
export function alarmTexts(seed: AlarmSeed, t: AlarmTransition, where: { region: string; accountId: string }): { email: string; sms: string } {
  const when = new Date(t.at).toUTCString().replace('GMT', 'UTC');
  const email = [
    `You are receiving this email because your Amazon CloudWatch Alarm "${seed.name}" in the ${regionName(where.region)} region has entered the ${t.to} state, because "${t.reason}" at "${when}".`,
    '',
    'Alarm Details:',
    `- Name:                       ${seed.name}`,
    `- Description:                ${seed.description ?? ''}`,
    `- State Change:               ${t.from} -> ${t.to}`,
    `- Reason for State Change:    ${t.reason}`,
    `- Timestamp:                  ${when}`,
    `- AWS Account:                ${where.accountId}`,
    `- Alarm Arn:                  ${seed.arn}`,
  ].join('\n');
  return { email, sms: `${t.to}: "${seed.name}" in ${regionName(where.region)}` };
}
