/** AWS::ApiGateway::Stage, and AWS::ApiGateway::Deployment with an inline StageName (which creates a stage). */
import { ThrottleSettings } from './model';
import { ResourceHandler } from '../cloudformation/context';
import { num, obj, Obj, str, strMap, tagsToMap } from '../cloudformation/values';

export const deploymentHandler: ResourceHandler = {
  type: 'AWS::ApiGateway::Deployment',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const api = ctx.apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      const stageName = str(p.StageName);
      if (!stageName) continue;
      const sd = obj(p.StageDescription);
      ctx.addStage(api, {
        name: stageName, deploymentId: ctx.ref(logicalId) as string, description: str(sd.Description),
        methodSettings: methodSettingsOf(sd.MethodSettings, sd), variables: strMap(sd.Variables),
        createdDate: ctx.now, tags: ctx.tagsFor(logicalId), logicalId,
      }, logicalId);
    }
  },
};

export const stageHandler: ResourceHandler = {
  type: 'AWS::ApiGateway::Stage',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const api = ctx.apiOf(logicalId, p.RestApiId);
      if (!api) continue;
      ctx.addStage(api, {
        name: str(p.StageName) ?? logicalId, deploymentId: str(p.DeploymentId) ?? '', description: str(p.Description),
        methodSettings: methodSettingsOf(p.MethodSettings, {}), variables: strMap(p.Variables),
        createdDate: ctx.now, tags: { ...strMap(tagsToMap(p.Tags)), ...ctx.tagsFor(logicalId) }, logicalId,
        accessLogFormat: str(obj(p.AccessLogSetting).Format),
        accessLogGroup: /:log-group:([^:]+)/.exec(str(obj(p.AccessLogSetting).DestinationArn) ?? '')?.[1],
      }, logicalId);
    }
  },
};

/** Decodes a MethodSettings ResourcePath: `/~1pets~1{id}` → `/pets/{id}` (the leading `/` separates, `~1` is a `/`), `/*` stays. */
export function decodeSettingsPath(p: string): string {
  if (p === '/*' || p === '*') return '/*';
  const decoded = p.replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
  return decoded === '' ? '/' : decoded.startsWith('/') ? decoded : `/${decoded}`;
}

function methodSettingsOf(list: unknown, stageDescription: Obj): Map<string, ThrottleSettings> {
  const m = new Map<string, ThrottleSettings>();
  const rate = num(stageDescription.ThrottlingRateLimit);
  const burst = num(stageDescription.ThrottlingBurstLimit);
  if (rate !== undefined || burst !== undefined) m.set('/* *', { rateLimit: rate, burstLimit: burst });
  for (const sRaw of Array.isArray(list) ? list : []) {
    const s = obj(sRaw);
    const rateLimit = num(s.ThrottlingRateLimit);
    const burstLimit = num(s.ThrottlingBurstLimit);
    if (rateLimit === undefined && burstLimit === undefined) continue;
    const p = decodeSettingsPath(str(s.ResourcePath) ?? '/*');
    m.set(`${p} ${(str(s.HttpMethod) ?? '*').toUpperCase()}`, { rateLimit, burstLimit });
  }
  return m;
}
