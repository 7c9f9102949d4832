/**
 * The operations of the local control plane, as data: method, path pattern and handler. The
 * control plane (control-plane.ts) matches a request against this table in order.
 */
import { randomId } from '../../ids';
import { apiGatewayError, ApiKey, UsagePlan } from '../model';
import { utcDay } from '../data-plane/quota';
import { createApiKey, getApiKeys, importApiKeys, updateApiKey } from './api-keys';
import { methodJson, planJson, planKeyJson, keyJson, resourceJson, restApiJson, stageJson } from './shapes';
import { bad, ControlPlaneContext, ControlPlaneRequest, optString, page, parseJsonBody, RouteSpec } from './routes';
import { routeTags } from './tags';
import { updateUsagePlan, usagePlanFromInput } from './usage-plans';

const embedsMethods = (req: ControlPlaneRequest): boolean => req.query.getAll('embed').some((e) => e.split(',').includes('methods'));

const REST_API_ROUTES: RouteSpec[] = [
  { method: 'GET', pattern: '/restapis', handler: (cp, req) => ({ status: 200, body: page([...cp.model.apis.values()].map(restApiJson), req.query) }) },
  { method: 'GET', pattern: '/restapis/{api}', handler: (cp, _req, p) => ({ status: 200, body: restApiJson(cp.api(p.api)) }) },
  { method: 'GET', pattern: '/restapis/{api}/stages', handler: (cp, _req, p) => ({ status: 200, body: { item: [...cp.api(p.api).stages.values()].map(stageJson) } }) },
  {
    method: 'GET', pattern: '/restapis/{api}/stages/{stage}', handler: (cp, _req, p) => {
      const s = cp.api(p.api).stages.get(p.stage);
      if (!s) throw apiGatewayError('NotFoundException', 'Invalid Stage identifier specified');
      return { status: 200, body: stageJson(s) };
    },
  },
  {
    method: 'GET', pattern: '/restapis/{api}/resources',
    handler: (cp, req, p) => ({ status: 200, body: page([...cp.api(p.api).resources.values()].map((res) => resourceJson(res, embedsMethods(req))), req.query) }),
  },
  { method: 'GET', pattern: '/restapis/{api}/resources/{resource}', handler: (cp, req, p) => ({ status: 200, body: resourceJson(cp.resource(p.api, p.resource), embedsMethods(req)) }) },
  {
    method: 'GET', pattern: '/restapis/{api}/resources/{resource}/methods/{method}', handler: (cp, _req, p) => {
      const m = cp.resource(p.api, p.resource).methods.get(p.method.toUpperCase());
      if (!m) throw apiGatewayError('NotFoundException', 'Invalid Method identifier specified');
      return { status: 200, body: methodJson(m, p.resource) };
    },
  },
];

const TAG_ROUTES: RouteSpec[] = ['GET', 'PUT', 'DELETE'].map((method) => ({
  method, pattern: '/tags/{arn}',
  handler: (cp, req, p) => routeTags(cp.model, { method, resourceArn: p.arn, query: req.query, body: req.body }, () => cp.changed()),
}));

const API_KEY_ROUTES: RouteSpec[] = [
  { method: 'GET', pattern: '/apikeys', handler: (cp, req) => ({ status: 200, body: getApiKeys(cp, req.query) }) },
  {
    method: 'POST', pattern: '/apikeys', handler: (cp, req) => (req.query.get('mode') === 'import'
      ? { status: 201, body: importApiKeys(cp, req) }
      : { status: 201, body: createApiKey(cp, parseJsonBody(req.body)) }),
  },
  { method: 'GET', pattern: '/apikeys/{key}', handler: (cp, req, p) => ({ status: 200, body: keyJson(cp.model.getKey(p.key), req.query.get('includeValue') === 'true') }) },
  { method: 'PATCH', pattern: '/apikeys/{key}', handler: (cp, req, p) => ({ status: 200, body: updateApiKey(cp, p.key, parseJsonBody(req.body)) }) },
  {
    method: 'DELETE', pattern: '/apikeys/{key}', handler: (cp, _req, p) => {
      cp.model.deleteKey(p.key);
      cp.changed();
      return { status: 202 };
    },
  },
];

const USAGE_PLAN_ROUTES: RouteSpec[] = [
  {
    method: 'GET', pattern: '/usageplans', handler: (cp, req) => {
      const keyId = req.query.get('keyId');
      let plans = [...cp.model.plans.values()];
      if (keyId) {
        cp.model.getKey(keyId);
        plans = cp.model.plansOfKey(keyId);
      }
      return { status: 200, body: page(plans.map(planJson), req.query) };
    },
  },
  {
    method: 'POST', pattern: '/usageplans', handler: (cp, req) => {
      const plan = usagePlanFromInput(cp.model, parseJsonBody(req.body), randomId(6));
      cp.model.plans.set(plan.id, plan);
      cp.model.planKeys.set(plan.id, new Set());
      cp.changed();
      return { status: 201, body: planJson(plan) };
    },
  },
  { method: 'GET', pattern: '/usageplans/{plan}', handler: (cp, _req, p) => ({ status: 200, body: planJson(cp.model.getPlan(p.plan)) }) },
  {
    method: 'PATCH', pattern: '/usageplans/{plan}', handler: (cp, req, p) => {
      const plan = updateUsagePlan(cp.model, cp.model.getPlan(p.plan), parseJsonBody(req.body));
      cp.changed();
      return { status: 200, body: planJson(plan) };
    },
  },
  {
    method: 'DELETE', pattern: '/usageplans/{plan}', handler: (cp, _req, p) => {
      const plan = cp.model.getPlan(p.plan);
      // AWS refuses to delete a plan that still has API stages (remove them first).
      if (plan.apiStages.length > 0) throw apiGatewayError('BadRequestException', `Cannot delete Usage Plan ${p.plan} because there are API Stages associated with it`);
      cp.model.plans.delete(p.plan);
      cp.model.planKeys.delete(p.plan);
      cp.changed();
      return { status: 202 };
    },
  },
  { method: 'GET', pattern: '/usageplans/{plan}/usage', handler: (cp, req, p) => ({ status: 200, body: getUsage(cp, cp.model.getPlan(p.plan), req.query) }) },
];

const PLAN_KEY_ROUTES: RouteSpec[] = [
  {
    method: 'GET', pattern: '/usageplans/{plan}/keys', handler: (cp, req, p) => {
      // An unknown plan lists no keys (AWS answers 200 with no items).
      const nameQuery = req.query.get('name');
      const keys = [...(cp.model.planKeys.get(p.plan) ?? [])].reverse().map((id) => cp.model.keys.get(id))
        .filter((k): k is ApiKey => !!k && (!nameQuery || k.name.startsWith(nameQuery)));
      return { status: 200, body: page(keys.map(planKeyJson), req.query) };
    },
  },
  {
    method: 'POST', pattern: '/usageplans/{plan}/keys', handler: (cp, req, p) => {
      const plan = cp.model.getPlan(p.plan);
      const body = parseJsonBody(req.body);
      const keyId = optString(body.keyId, 'keyId');
      const keyType = optString(body.keyType, 'keyType');
      if (!keyId) throw bad('Invalid API Key identifier specified');
      if (keyType !== 'API_KEY') throw bad(`Invalid key type specified: ${keyType ?? '(none)'}; must be API_KEY`);
      cp.model.addPlanKey(plan.id, keyId);
      cp.changed();
      return { status: 201, body: planKeyJson(cp.model.getKey(keyId)) };
    },
  },
  {
    method: 'GET', pattern: '/usageplans/{plan}/keys/{key}', handler: (cp, _req, p) => {
      const plan = cp.model.getPlan(p.plan);
      if (!cp.model.planKeys.get(plan.id)?.has(p.key)) throw apiGatewayError('NotFoundException', 'Invalid API Key identifier specified');
      return { status: 200, body: planKeyJson(cp.model.getKey(p.key)) };
    },
  },
  {
    method: 'DELETE', pattern: '/usageplans/{plan}/keys/{key}', handler: (cp, _req, p) => {
      cp.model.removePlanKey(p.plan, p.key);
      cp.changed();
      return { status: 202 };
    },
  },
];

/** Every operation of the control plane, in matching order. */
export const CONTROL_PLANE_ROUTES: readonly RouteSpec[] = [...REST_API_ROUTES, ...TAG_ROUTES, ...API_KEY_ROUTES, ...USAGE_PLAN_ROUTES, ...PLAN_KEY_ROUTES];

/** GetUsage: the daily usage and remaining quota of a plan's keys. */
function getUsage(cp: ControlPlaneContext, plan: UsagePlan, q: URLSearchParams): unknown {
  const startDate = q.get('startDate');
  const endDate = q.get('endDate');
  const dateRe = /^\d{4}-\d{2}-\d{2}$/;
  if (!startDate || !dateRe.test(startDate) || isNaN(Date.parse(startDate))) throw bad('Invalid startDate: must be YYYY-MM-DD');
  if (!endDate || !dateRe.test(endDate) || isNaN(Date.parse(endDate))) throw bad('Invalid endDate: must be YYYY-MM-DD');
  if (endDate < startDate) throw bad('The endDate must be on or after the startDate');
  const days = (Date.parse(endDate) - Date.parse(startDate)) / 86_400_000 + 1;
  if (days > 90) throw bad('The usage date range cannot exceed 90 days');
  const today = utcDay(cp.clock());
  const end = endDate > today ? today : endDate;
  const keyId = q.get('keyId');
  let keyIds = [...(cp.model.planKeys.get(plan.id) ?? [])];
  // Keys that used the plan in the range but have left it since still have history.
  for (const k of Object.keys(cp.quotas.counts[plan.id] ?? {})) if (!keyIds.includes(k) && cp.model.keys.has(k)) keyIds.push(k);
  if (keyId) {
    cp.model.getKey(keyId);
    keyIds = keyIds.filter((k) => k === keyId);
  }
  keyIds.sort();
  const p = page(keyIds, q);
  const values: Record<string, [number, number][]> = {};
  for (const k of p.item) values[k] = end < startDate ? [] : cp.quotas.usage(plan.id, k, plan.quota, startDate, end);
  return { usagePlanId: plan.id, startDate, endDate, values, ...(p.position ? { position: p.position } : {}) };
}
