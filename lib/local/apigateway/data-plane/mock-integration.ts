/**
 * MOCK integrations (and the integration-response half of non-proxy HTTP integrations):
 * the request template's `statusCode` picks an integration response by its selection
 * pattern; its templates and parameters build the method response.
 */
import { inputFor, mappingValue, ResponseContext, UTIL } from './gateway-responses';
import { Integration, IntegrationResponse } from '../model';
import { renderVtl, stringify } from './vtl';

export interface IntegrationResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
}

/** Thrown when the integration is misconfigured the way AWS reports as a 500 "Internal server error". */
export class IntegrationConfigError extends Error {}

type Picked = { type: string; template: string } | undefined;
/** Picks per templates object and content type: asked on every request, the answer never changes. */
const picks = new WeakMap<Record<string, string>, Map<string, Picked>>();

/** Picks the request template for a content type (as API Gateway: exact match, else application/json, else the only one). */
export function pickTemplate(templates: Record<string, string>, contentType: string | undefined): Picked {
  let byType = picks.get(templates);
  if (!byType) { byType = new Map(); picks.set(templates, byType); }
  const memoKey = contentType ?? '';
  if (byType.has(memoKey)) return byType.get(memoKey);
  const picked = pickTemplateUncached(templates, contentType);
  if (byType.size < 64) byType.set(memoKey, picked);
  return picked;
}

function pickTemplateUncached(templates: Record<string, string>, contentType: string | undefined): Picked {
  const ct = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase() || 'application/json';
  const keys = Object.keys(templates);
  if (keys.length === 0) return undefined;
  const exact = keys.find((k) => k.toLowerCase() === ct);
  if (exact) return { type: exact, template: templates[exact] };
  return undefined;
}

/** A template without references or directives renders as itself. */
function isStatic(template: string): boolean {
  return template.indexOf('$') < 0 && template.indexOf('#') < 0;
}

/** Statuscode from a MOCK request template's output, e.g. `{"statusCode": 200}` or `{ statusCode: 200 }`. */
const staticStatusCodes = new Map<string, number>();
/** mockStatusCode of a static template (the same string on every request). */
function staticMockStatusCode(template: string): number {
  let code = staticStatusCodes.get(template);
  if (code === undefined) {
    code = mockStatusCode(template);
    if (staticStatusCodes.size < 1000) staticStatusCodes.set(template, code);
  }
  return code;
}

export function mockStatusCode(rendered: string): number {
  const m = /["']?statusCode["']?\s*:\s*["']?(\d{3})/.exec(rendered);
  return m ? Number(m[1]) : 200;
}

/** The integration response whose selection pattern matches `selector` (a status code or an error message). */
export function selectIntegrationResponse(responses: IntegrationResponse[], selector: string): IntegrationResponse | undefined {
  let dflt: IntegrationResponse | undefined;
  for (const r of responses) {
    if (r.selectionPattern === undefined || r.selectionPattern === '') {
      dflt ??= r;
      continue;
    }
    try {
      if (new RegExp(`^(?:${r.selectionPattern})$`, 's').test(selector)) return r;
    } catch {
      // An invalid Java regex never matches.
    }
  }
  return dflt;
}

/** Applies an integration response: status, mapped headers, rendered template, $context.responseOverride. */
export function applyIntegrationResponse(
  ir: IntegrationResponse, rc: ResponseContext, backend: { body: string; headers: Record<string, string> }, accept: string | undefined,
): IntegrationResult {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(ir.responseParameters)) {
    const m = /^method\.response\.header\.(.+)$/.exec(k);
    if (!m) continue;
    let value: string | undefined;
    const im = /^integration\.response\.header\.(.+)$/.exec(v.trim());
    if (im) value = backend.headers[im[1].toLowerCase()];
    else if (/^integration\.response\.body$/.test(v.trim())) value = backend.body;
    else value = mappingValue(v, rc);
    if (value !== undefined) headers[m[1].toLowerCase()] = value;
  }
  let status = Number(ir.statusCode);
  const types = Object.keys(ir.responseTemplates);
  let body = backend.body;
  let contentType = backend.headers['content-type'] ?? 'application/json';
  if (types.length > 0) {
    const wanted = accept?.split(',').map((s) => s.split(';')[0].trim()).find((t) => types.includes(t));
    const type = wanted ?? (types.includes('application/json') ? 'application/json' : types[0]);
    contentType = type;
    const template = ir.responseTemplates[type];
    if (isStatic(template)) {
      headers['content-type'] ??= contentType;
      return { status, headers, body: template };
    }
    const override: { status?: unknown; header: Record<string, unknown> } = { header: {} };
    const context = { ...rc.context, responseOverride: override };
    body = renderVtl(ir.responseTemplates[type], { context, input: inputFor(rc, backend.body), util: UTIL, stageVariables: rc.stageVariables });
    if (override.status !== undefined && Number.isInteger(Number(override.status))) status = Number(override.status);
    for (const [k, v] of Object.entries(override.header)) headers[k.toLowerCase()] = stringify(v);
  }
  headers['content-type'] ??= contentType;
  return { status, headers, body };
}

/** Runs a MOCK integration. */
export function runMock(integration: Integration, rc: ResponseContext, requestBody: string, contentType: string | undefined, accept: string | undefined): IntegrationResult {
  const picked = pickTemplate(integration.requestTemplates, contentType) ?? (contentType ? undefined : pickTemplate(integration.requestTemplates, 'application/json'));
  let statusCode = 200;
  if (picked && isStatic(picked.template)) {
    statusCode = staticMockStatusCode(picked.template);
  } else if (picked) {
    const rendered = renderVtl(picked.template, { context: rc.context, input: inputFor(rc, requestBody), util: UTIL, stageVariables: rc.stageVariables });
    statusCode = mockStatusCode(rendered);
  } else if (Object.keys(integration.requestTemplates).length > 0) {
    // No template for this content type: WHEN_NO_MATCH passes the body through, NEVER rejects.
    if (integration.passthroughBehavior === 'NEVER' || integration.passthroughBehavior === 'WHEN_NO_TEMPLATES') {
      throw new UnsupportedMediaType();
    }
    statusCode = mockStatusCode(requestBody);
  }
  const ir = selectIntegrationResponse(integration.integrationResponses, String(statusCode));
  if (!ir) throw new IntegrationConfigError('Execution failed due to configuration error: No match for output mapping and no default output mapping');
  return applyIntegrationResponse(ir, rc, { body: '', headers: {} }, accept);
}

export class UnsupportedMediaType extends Error {}
