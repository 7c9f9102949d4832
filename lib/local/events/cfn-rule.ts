/**
 * AWS::Events::Rule: enabled `rate(...)` and `cron(...)` schedules that target a Lambda function of the app run
 * locally (the rotation retire run, lifecycle jobs); a rule on AWS events (e.g. the audit trail
 * on CloudTrail calls) watches the APIs and doesn't serve them.
 */
import { CronSyntaxError, parseCron } from './cron';
import { EVENTBRIDGE_DEFAULT_RETRY, rateMs, RetryPolicy, ScheduledInvocation } from './schedules';
import { ResourceHandler } from '../cloudformation/context';
import { obj, str } from '../cloudformation/values';

export const eventsRuleHandler: ResourceHandler = {
  type: 'AWS::Events::Rule',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      if (p.EventPattern !== undefined && p.ScheduleExpression === undefined) {
        ctx.model.ignored.push({ stack: ctx.stackName, logicalId, type: this.type, reason: 'an event-pattern rule: the local gateway emits no AWS events' });
        continue;
      }
      const when = schedule(str(p.ScheduleExpression) ?? '');
      if (typeof when === 'string' || str(p.State) === 'DISABLED') {
        ctx.report(logicalId, this.type, typeof when === 'string' ? when : 'a DISABLED rule does not run');
        continue;
      }
      for (const target of Array.isArray(p.Targets) ? p.Targets.map(obj) : []) {
        const lambdaArn = str(target.Arn);
        let event: object = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
        try {
          if (typeof target.Input === 'string') event = obj(JSON.parse(target.Input));
        } catch {
          ctx.report(logicalId, this.type, 'target Input is not JSON');
          continue;
        }
        if (!lambdaArn || !ctx.model.functions.has(lambdaArn)) ctx.report(logicalId, this.type, `target ${lambdaArn ?? '(none)'} is not a Lambda function of this app`);
        else ctx.schedules.push({ stack: ctx.stackName, ruleLogicalId: logicalId, description: str(p.Description), ...when, lambdaArn, event, retry: retryPolicy(obj(target.RetryPolicy)) });
      }
    }
  },
};

/** `rate(...)` or `cron(...)`, or why the expression can't run. */
function schedule(expression: string): Pick<ScheduledInvocation, 'rateMs' | 'cron'> | string {
  const rate = rateMs(expression);
  if (rate !== undefined) return { rateMs: rate };
  try {
    return { cron: parseCron(expression) };
  } catch (e) {
    if (e instanceof CronSyntaxError) return `schedule expression not understood: ${e.message}`;
    throw e;
  }
}

/** The target's RetryPolicy over EventBridge's default (185 retries, 24 hours). */
function retryPolicy(p: Record<string, unknown>): RetryPolicy {
  const retries = Number(p.MaximumRetryAttempts);
  const age = Number(p.MaximumEventAgeInSeconds);
  return {
    maxRetries: p.MaximumRetryAttempts === undefined || !Number.isFinite(retries) ? EVENTBRIDGE_DEFAULT_RETRY.maxRetries : retries,
    maxAgeMs: p.MaximumEventAgeInSeconds === undefined || !Number.isFinite(age) ? EVENTBRIDGE_DEFAULT_RETRY.maxAgeMs : age * 1000,
  };
}
