/**
 * AWS::Events::Rule: enabled `rate(...)` schedules that target a Lambda function of the app run
 * locally (the rotation retire run, lifecycle jobs); a rule on AWS events (e.g. the audit trail
 * on CloudTrail calls) watches the APIs and doesn't serve them.
 */
import { rateMs } from './schedules';
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
      const rate = rateMs(str(p.ScheduleExpression) ?? '');
      if (rate === undefined || str(p.State) === 'DISABLED') {
        ctx.report(logicalId, this.type, 'only enabled rate(...) schedules run locally (no event patterns, no cron)');
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
        else ctx.schedules.push({ stack: ctx.stackName, ruleLogicalId: logicalId, description: str(p.Description), rateMs: rate, lambdaArn, event });
      }
    }
  },
};
