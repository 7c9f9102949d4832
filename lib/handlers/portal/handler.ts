/**
 * The developer portal's Lambda: behind the portal's REST API (Lambda proxy), it serves the
 * pages (`GET /`, `/app.js`, `/style.css`), sign-up and sign-in (`POST /auth/…`, passed to
 * Cognito) and, behind the Cognito authorizer, the consumer's and the admin's API
 * (`/api/…`). On its schedule (`{"action":"maintain"}`) it applies the portal's rules to its
 * keys (lib/handlers/portal/maintenance.ts): retirement after a roll's overlap, expiry, idle keys.
 * When it sells tiers on AWS Marketplace, `POST /marketplace` is the product's fulfillment URL
 * (marketplace.ts).
 */
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { MARKETPLACE_TOKEN_FIELD } from '../../shared/marketplace';
import { adminAction, AdminAction, listConsumers } from './admin';
import { authAction } from './auth';
import { CLIENT_SCRIPT } from './client-script';
import { configFromEnv, PortalConfig } from './config';
import { AuditEntry, Caller, PortalDeps, PortalError } from './keys';
import { linkMarketplace, REGISTRATION_TOKEN_PATTERN } from './marketplace';
import { maintain, MaintenanceReport } from './maintenance';
import { finishRun } from '../notify';
import { apiReference, indexHtml, SECURITY_HEADERS, STYLE_CSS } from './pages';
import { cancel, changeTier, listTiers, revealValue, roll, showSubscription, subscribe } from './subscriptions';

export interface ProxyEvent {
  readonly httpMethod: string;
  readonly path: string;
  readonly resource?: string;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly path?: string; readonly authorizer?: { readonly claims?: Record<string, unknown> } };
}

export interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** One structured line per key action (who, what, when), for CloudWatch Logs Insights and the audit trail. */
export function auditLine(portalId: string, now: () => number, log: (line: string) => void = console.log): (e: AuditEntry) => void {
  return (e) => log(JSON.stringify({ event: 'keygate.portal.key-action', portal: portalId, at: new Date(now()).toISOString(), ...e }));
}

let cached: { deps: PortalDeps; cognito: CognitoIdentityProviderClient } | undefined;
function runtime(): { deps: PortalDeps; cognito: CognitoIdentityProviderClient } {
  if (!cached) {
    const config = configFromEnv();
    const now = () => Date.now();
    const metering = config.marketplace.length > 0 ? new MarketplaceMeteringClient({}) : undefined;
    cached = { deps: { apigw: new APIGatewayClient({}), config, metering, now, audit: auditLine(config.portalId, now) }, cognito: new CognitoIdentityProviderClient({}) };
  }
  return cached;
}

/** The scheduled job's actions: `maintain`, and `retire-due`, its former name (a retried event of an earlier deploy may still carry it). */
const SCHEDULED_ACTIONS = ['maintain', 'retire-due'];

export async function handler(event: ProxyEvent & { action?: string }): Promise<ProxyResult | MaintenanceReport> {
  const { deps, cognito } = runtime();
  if (event.action !== undefined && SCHEDULED_ACTIONS.includes(event.action)) {
    const report = await maintain(deps);
    return finishRun('developer portal', report, { retired: report.retired, expired: report.expired, idle: report.idle, failures: report.failures });
  }
  return handlePortalRequest(deps, cognito, event);
}

function json(statusCode: number, body: unknown): ProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS }, body: JSON.stringify(body) };
}

/** The caller from the authorizer's claims (API Gateway passes them as strings; groups as `a,b` or `[a b]`). */
export function callerOf(config: PortalConfig, claims: Record<string, unknown> | undefined): Caller {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub === '') throw new PortalError(401, 'Unauthorized');
  const rawGroups = claims!['cognito:groups'];
  const groups = Array.isArray(rawGroups) ? rawGroups.map(String) : String(rawGroups ?? '').replace(/^\[|\]$/g, '').split(/[\s,]+/).filter((g) => g);
  return { sub, email: String(claims!.email ?? ''), admin: groups.includes(config.adminGroup), authTime: Number(claims!.auth_time ?? 0) };
}

function textOf(event: ProxyEvent): string {
  return event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
}

function bodyOf(event: ProxyEvent): Record<string, unknown> {
  if (!event.body) return {};
  try {
    const text = textOf(event);
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    throw new PortalError(400, 'the body must be JSON');
  }
}

/**
 * The page's base, relative to its address: `./` when the address ends with `/` (the portal URL
 * on AWS, `…/portal/`, and under the local gateway's prefix), `./portal/` when it is opened as
 * `…/portal`, so the script and the API are found either way.
 */
function basePath(event: ProxyEvent): string {
  const full = event.requestContext?.path ?? event.path;
  if (full.endsWith('/')) return './';
  return `./${encodeURIComponent(full.slice(full.lastIndexOf('/') + 1))}/`;
}

export async function handlePortalRequest(deps: PortalDeps, cognito: CognitoIdentityProviderClient, event: ProxyEvent): Promise<ProxyResult> {
  try {
    const page = servePage(deps.config, event) ?? fulfillmentPage(deps.config, event);
    if (page) return page;
    const m = /^\/auth\/([a-z-]+)$/.exec(event.path);
    if (m && event.httpMethod === 'POST') return json(200, await authAction(cognito, deps.config.userPoolClientId, m[1], bodyOf(event)));
    const caller = callerOf(deps.config, event.requestContext?.authorizer?.claims);
    return json(200, await route(deps, caller, event));
  } catch (e) {
    if (e instanceof PortalError) return json(e.status, { message: e.message });
    console.error(`portal: ${(e as Error).name}: ${(e as Error).message}`);
    return json(500, { message: 'Internal error' });
  }
}

function servePage(config: PortalConfig, event: ProxyEvent): ProxyResult | undefined {
  if (event.httpMethod !== 'GET') return undefined;
  const types: Record<string, [string, () => string]> = {
    '/': ['text/html; charset=utf-8', () => indexHtml(config.title, basePath(event))],
    '/app.js': ['text/javascript; charset=utf-8', () => CLIENT_SCRIPT],
    '/style.css': ['text/css; charset=utf-8', () => STYLE_CSS],
  };
  const t = types[event.path];
  return t ? { statusCode: 200, headers: { 'content-type': t[0], ...SECURITY_HEADERS }, body: t[1]() } : undefined;
}

/**
 * The fulfillment URL: AWS Marketplace POSTs the buyer's browser here with the registration
 * token as a form field. The answer is the portal's page (200, as AWS Marketplace requires)
 * holding the token for its script, which keeps it in the tab until the consumer is signed in.
 */
function fulfillmentPage(config: PortalConfig, event: ProxyEvent): ProxyResult | undefined {
  if (event.httpMethod !== 'POST' || event.path !== '/marketplace' || config.marketplace.length === 0) return undefined;
  const token = new URLSearchParams(textOf(event)).get(MARKETPLACE_TOKEN_FIELD) ?? '';
  const headers = { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS };
  if (!REGISTRATION_TOKEN_PATTERN.test(token)) {
    return { statusCode: 400, headers, body: indexHtml(config.title, './', { error: `This page expects the AWS Marketplace registration token (${MARKETPLACE_TOKEN_FIELD}). Open the product on AWS Marketplace and choose "Set up your account".` }) };
  }
  return { statusCode: 200, headers, body: indexHtml(config.title, './', { marketplaceToken: token }) };
}

async function route(deps: PortalDeps, caller: Caller, event: ProxyEvent): Promise<unknown> {
  const key = `${event.httpMethod} ${event.path}`;
  switch (key) {
    case 'GET /api/tiers': return { tiers: await listTiers(deps) };
    case 'GET /api/reference': return { apiUrl: deps.config.apiUrl, routes: apiReference(deps.config.apiUrl, deps.config.routes) };
    case 'GET /api/subscription': return showSubscription(deps, caller);
    case 'POST /api/subscription': return subscribe(deps, caller, bodyOf(event).tier);
    case 'DELETE /api/subscription': return cancel(deps, caller);
    case 'POST /api/subscription/roll': return roll(deps, caller);
    case 'POST /api/subscription/reveal': return revealValue(deps, caller);
    case 'POST /api/subscription/tier': return changeTier(deps, caller, bodyOf(event).tier);
    case 'POST /api/subscription/marketplace': return linkMarketplace(deps, caller, bodyOf(event).token);
    case 'GET /api/admin/consumers': return listConsumers(deps, caller);
  }
  const a = /^POST \/api\/admin\/consumers\/([^/]+)\/(approve|refuse|disable|enable)$/.exec(key);
  if (a) return adminAction(deps, caller, a[2] as AdminAction, decodeURIComponent(a[1]));
  throw new PortalError(404, `no route ${event.httpMethod} ${event.path.slice(0, 100)}`);
}
