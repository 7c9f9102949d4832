/**
 * The JSON shapes of the control plane's answers, as API Gateway writes them: seconds for
 * dates, and no field for what is unset (AWS omits a key's empty name, empty tag maps…).
 */
import { Json } from '../../service-error';
import { ApiKey, ApiResource, Method, RestApi, Stage, UsagePlan } from '../model';

function secs(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Drops undefined fields and empty tag maps, as API Gateway's JSON omits them. */
function withoutEmpty(o: Json): Json {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined || (k === 'tags' && typeof v === 'object' && v !== null && Object.keys(v).length === 0)) delete o[k];
  }
  return o;
}

export function restApiJson(api: RestApi): Json {
  return withoutEmpty({
    id: api.id, name: api.name, description: api.description, createdDate: secs(api.createdDate),
    apiKeySource: api.apiKeySource,
    endpointConfiguration: { types: api.endpointTypes, ipAddressType: api.endpointTypes.includes('PRIVATE') ? 'dualstack' : 'ipv4' },
    rootResourceId: api.rootResourceId,
    binaryMediaTypes: api.binaryMediaTypes.length ? api.binaryMediaTypes : undefined, minimumCompressionSize: api.minimumCompressionSize,
    disableExecuteApiEndpoint: api.disableExecuteApiEndpoint, tags: api.tags,
  });
}

export function resourceJson(r: ApiResource, embedMethods: boolean): Json {
  const methods = [...r.methods.values()];
  return withoutEmpty({
    id: r.id, parentId: r.parentId, pathPart: r.parentId === undefined ? undefined : r.pathPart, path: r.path,
    resourceMethods: methods.length ? Object.fromEntries(methods.map((m) => [m.httpMethod, embedMethods ? methodJson(m, r.id) : {}])) : undefined,
  });
}

/**
 * A method as GetMethod answers it. `methodIntegration` carries what API Gateway fills in for
 * every integration (recorded answers, issue #19): cacheNamespace (the resource id),
 * cacheKeyParameters, connectionType, passthroughBehavior, timeoutInMillis, integrationResponses.
 */
export function methodJson(m: Method, resourceId?: string): Json {
  const i = m.integration;
  return withoutEmpty({
    httpMethod: m.httpMethod, authorizationType: m.authorizationType, authorizerId: m.authorizerId, apiKeyRequired: m.apiKeyRequired,
    methodResponses: m.methodResponses.length
      ? Object.fromEntries(m.methodResponses.map((r) => [r.statusCode, withoutEmpty({ statusCode: r.statusCode, responseParameters: Object.keys(r.responseParameters).length ? r.responseParameters : undefined })]))
      : undefined,
    methodIntegration: withoutEmpty({
      type: i.type, httpMethod: i.httpMethod, uri: i.uri, passthroughBehavior: i.passthroughBehavior ?? 'WHEN_NO_MATCH', timeoutInMillis: i.timeoutMs,
      cacheNamespace: resourceId, cacheKeyParameters: [], connectionType: 'INTERNET',
      requestTemplates: Object.keys(i.requestTemplates).length ? i.requestTemplates : undefined,
      requestParameters: Object.keys(i.requestParameters).length ? i.requestParameters : undefined,
      integrationResponses: i.integrationResponses.length
        ? Object.fromEntries(i.integrationResponses.map((r) => [r.statusCode, withoutEmpty({
          statusCode: r.statusCode, selectionPattern: r.selectionPattern,
          responseTemplates: Object.keys(r.responseTemplates).length ? r.responseTemplates : undefined,
          responseParameters: Object.keys(r.responseParameters).length ? r.responseParameters : undefined,
        })]))
        : {},
    }),
  });
}

export function stageJson(s: Stage): Json {
  const methodSettings: Record<string, Json> = {};
  for (const [k, v] of s.methodSettings) {
    const [p, method] = k.split(' ');
    // API Gateway's keys: `*/*` for the defaults, else the resource path with `/` escaped as `~1`, then `/METHOD`.
    const key = p === '/*' ? `*/${method}` : `${p.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}`;
    methodSettings[key] = { throttlingRateLimit: v.rateLimit, throttlingBurstLimit: v.burstLimit };
  }
  return withoutEmpty({
    deploymentId: s.deploymentId, stageName: s.name, description: s.description, cacheClusterEnabled: false,
    methodSettings, variables: s.variables, tracingEnabled: false, tags: s.tags,
    createdDate: secs(s.createdDate), lastUpdatedDate: secs(s.createdDate),
  });
}

/**
 * A key as API Gateway answers it. `tags` is left out when there are none, except in
 * UpdateApiKey's answer (`keepEmptyTags`), where AWS answers `tags: {}` (issue #19).
 */
export function keyJson(k: ApiKey, includeValue: boolean, keepEmptyTags = false): Json {
  const out = withoutEmpty({
    id: k.id, name: k.name === '' ? undefined : k.name, description: k.description, customerId: k.customerId, enabled: k.enabled,
    createdDate: secs(k.createdDate), lastUpdatedDate: secs(k.lastUpdatedDate), stageKeys: k.stageKeys, tags: k.tags,
    value: includeValue ? k.value : undefined,
  });
  return keepEmptyTags ? { ...out, tags: k.tags } : out;
}

export function planKeyJson(k: ApiKey): Json {
  return withoutEmpty({ id: k.id, type: 'API_KEY', name: k.name === '' ? undefined : k.name, value: k.value });
}

export function planJson(p: UsagePlan): Json {
  const out: Json = {
    id: p.id, name: p.name, description: p.description,
    apiStages: p.apiStages.map((s) => ({
      apiId: s.apiId, stage: s.stage,
      ...(Object.keys(s.throttle).length ? { throttle: Object.fromEntries(Object.entries(s.throttle).map(([k, t]) => [k, { rateLimit: t.rateLimit, burstLimit: t.burstLimit }])) } : {}),
    })),
    throttle: p.throttle ? { rateLimit: p.throttle.rateLimit, burstLimit: p.throttle.burstLimit } : undefined,
    quota: p.quota ? { limit: p.quota.limit, offset: p.quota.offset, period: p.quota.period } : undefined,
    productCode: p.productCode,
    tags: Object.keys(p.tags).length ? p.tags : undefined,
  };
  return withoutEmpty(out);
}
