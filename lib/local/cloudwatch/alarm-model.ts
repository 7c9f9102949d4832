/** The shapes of the local CloudWatch's alarms: what the template says, and where each alarm stands. */
import { InsightsQuery } from './metrics-insights';
import { MathNode } from './metric-math';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';

/** One metric of an alarm: a statistic of a metric, or an expression (math or a Metrics Insights query). */
export interface AlarmQuery {
  readonly id: string;
  readonly returnData: boolean;
  readonly label?: string;
  readonly stat?: { readonly namespace: string; readonly metricName: string; readonly dimensions: Record<string, string>; readonly stat: string; readonly periodSec: number };
  readonly expression?: { readonly text: string; readonly math?: MathNode; readonly insights?: InsightsQuery; readonly periodSec?: number };
}

/** An AWS::CloudWatch::Alarm the evaluator can run. */
export interface AlarmSeed {
  readonly stack: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly comparison: string;
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
  readonly periodSec: number;
  readonly queries: readonly AlarmQuery[];
  readonly actionsEnabled: boolean;
  readonly alarmActions: readonly string[];
  readonly okActions: readonly string[];
  readonly insufficientDataActions: readonly string[];
}

/** An alarm's current state. */
export interface AlarmStatus {
  readonly seed: AlarmSeed;
  state: AlarmState;
  reason: string;
  /** When the state last changed (gateway clock). */
  updatedAt: number;
  /** The contributors in ALARM (Metrics Insights alarms), e.g. `ApiKeyId=abc UsagePlanId=xyz`. */
  contributors: string[];
}

/** One state change. */
export interface AlarmTransition {
  readonly alarm: string;
  readonly from: AlarmState;
  readonly to: AlarmState;
  readonly at: number;
  readonly reason: string;
}
