/** AWS::CloudWatch::InsightRule → a Contributor Insights rule on the gateway's log groups (logs/insight-rules.ts), for the alarms that read it. */
import { parseInsightRule } from '../logs/insight-rules';
import { ResourceHandler } from '../cloudformation/context';
import { str } from '../cloudformation/values';

export const insightRuleHandler: ResourceHandler = {
  type: 'AWS::CloudWatch::InsightRule',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const name = str(p.RuleName) ?? logicalId;
      const rule = str(p.RuleState) === 'DISABLED' ? 'the rule is DISABLED' : parseInsightRule(name, p.RuleBody);
      if (typeof rule === 'string') ctx.model.ignored.push({ stack: ctx.stackName, logicalId, type: this.type, reason: `Contributor Insights rule not applied locally: ${rule}` });
      else ctx.insightRules.push(rule);
    }
  },
};
