/** AWS::Logs::MetricFilter → a metric filter the local gateway applies to the log events it writes (the stages' access logs). */
import { checkMetricFilter, MetricFilterSeed } from './metric-filters';
import { ResourceHandler } from '../cloudformation/context';
import { obj, str } from '../cloudformation/values';

export const metricFilterHandler: ResourceHandler = {
  type: 'AWS::Logs::MetricFilter',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const transformations = (Array.isArray(p.MetricTransformations) ? p.MetricTransformations : []).map(obj).map((t) => ({
        metricNamespace: str(t.MetricNamespace) ?? '', metricName: str(t.MetricName) ?? '', metricValue: String(t.MetricValue ?? '1'), unit: str(t.Unit),
        dimensions: Object.fromEntries((Array.isArray(t.Dimensions) ? t.Dimensions : []).map(obj).map((d) => [String(d.Key), String(d.Value)])),
      }));
      const seed: MetricFilterSeed = { stack: ctx.stackName, logicalId, logGroupName: str(p.LogGroupName) ?? '', filterPattern: str(p.FilterPattern) ?? '', transformations };
      const problem = checkMetricFilter(seed);
      if (problem) ctx.model.ignored.push({ stack: ctx.stackName, logicalId, type: this.type, reason: `metric filter not applied locally: ${problem}` });
      else ctx.metricFilters.push(seed);
    }
  },
};
