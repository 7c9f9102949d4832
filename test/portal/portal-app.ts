/** A keygate app with a developer portal, synthesized and served by the local gateway, for the portal's end-to-end tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AdminAddUserToGroupCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { DeveloperPortal, DeveloperPortalProps, KeyProtectedApi, MarketplaceSubscriptions } from '../../lib';
import { LocalGateway, startLocalGateway } from '../../lib/local';
import { mock } from '../support/keygate-fixtures';

export interface PortalApp {
  readonly gateway: LocalGateway;
  readonly portalUrl: string;
  readonly apiUrl: string;
  readonly poolId: string;
  readonly apigw: APIGatewayClient;
  readonly cognito: CognitoIdentityProviderClient;
  /** The gateway's log lines (confirmation codes, the portal's audit lines). */
  readonly logs: string[];
  /** Moves the gateway's clock. */
  advance(ms: number): void;
  /** The gateway's clock. */
  now(): number;
  /** Stops the gateway and starts it again on the same app, state file (if any) and clock: the app as it is after the restart. */
  restart(): Promise<PortalApp>;
  close(): Promise<void>;
}

export interface PortalAppOptions {
  readonly title?: string;
  /** More props of the portal (its rules for keys). */
  readonly portal?: Partial<DeveloperPortalProps>;
  /** Also give the API keygate's general KeyHygiene (including managed keys), to see it leave the portal's keys alone. */
  readonly keyHygiene?: boolean;
  /** Serve with `--state` in this file. */
  readonly statePath?: string;
  /** Also sell a Pro+ tier on AWS Marketplace (product PRODUCT_CODE) through the portal. */
  readonly marketplace?: boolean;
}

export const PASSWORD = 'Correct-Horse-9-Battery';

/** The AWS Marketplace product the portal app sells when asked to (its Pro+ tier). */
export const PRODUCT_CODE = 'petsprod0123456789abcdef';

export async function startPortalApp(options: PortalAppOptions | string = {}): Promise<PortalApp> {
  const opts = typeof options === 'string' ? { title: options } : options;
  const title = opts.title ?? 'Pet store portal';
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-portal-'));
  const app = new App({ outdir: path.join(workDir, 'cdk.out') });
  const stack = new Stack(app, 'Shop');
  const api = new KeyProtectedApi(stack, 'Api', { restApiName: 'pets' });
  api.addRoute('GET /pets', mock());
  api.addRoute('GET /health', mock(), { apiKeyRequired: false });
  const free = api.addTier('Free', { throttle: { rateLimit: 50, burstLimit: 100 }, quota: { limit: 10_000, period: apigw.Period.MONTH } });
  const pro = api.addTier('Pro', { throttle: { rateLimit: 100, burstLimit: 200 } });
  const marketplace = opts.marketplace ? [new MarketplaceSubscriptions(stack, 'Marketplace', {
    tier: api.addTier('ProPlus', { throttle: { rateLimit: 100, burstLimit: 200 }, quota: { limit: 100_000, period: apigw.Period.MONTH } }),
    productCode: PRODUCT_CODE,
    // AWS Marketplace's own topic for the product (the local gateway's Marketplace publishes on it).
    subscriptionTopic: sns.Topic.fromTopicArn(stack, 'MarketplaceTopic', `arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-${PRODUCT_CODE}`),
  })] : undefined;
  new DeveloperPortal(stack, 'Portal', {
    api, title, tiers: [{ tier: free }, { tier: pro, approval: true }], keyRollOverlap: Duration.hours(1), rateLimit: 100, marketplace, ...opts.portal,
  });
  if (opts.keyHygiene) api.addKeyHygiene({ disableUnusedAfter: Duration.days(7), includeStackManagedKeys: true });
  const assembly = app.synth();
  return serve(workDir, assembly.directory, { offset: 0 }, opts.statePath);
}

async function serve(workDir: string, assemblyDir: string, clock: { offset: number }, statePath?: string): Promise<PortalApp> {
  const logs: string[] = [];
  const gateway = await startLocalGateway({ assemblyDir, port: 0, statePath, clock: () => Date.now() + clock.offset, log: (l) => logs.push(l) });
  const local = { endpoint: gateway.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const apiInfo = gateway.info.apis.find((a) => a.name === 'pets')!;
  const poolId = poolOf(gateway);
  const clients = { apigw: new APIGatewayClient(local), cognito: new CognitoIdentityProviderClient(local) };
  return {
    gateway, portalUrl: gateway.info.portals[0].url, apiUrl: apiInfo.stages[0].url.replace(/\/$/, ''), poolId, logs, ...clients,
    advance: (ms) => { clock.offset += ms; },
    now: () => Date.now() + clock.offset,
    async restart() {
      await gateway.close();
      clients.apigw.destroy();
      clients.cognito.destroy();
      return serve(workDir, assemblyDir, clock, statePath);
    },
    async close() {
      await gateway.close();
      clients.apigw.destroy();
      clients.cognito.destroy();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

function poolOf(gateway: LocalGateway): string {
  const authorizer = [...gateway.model.apis.values()].flatMap((a) => [...a.authorizers.values()]).find((a) => a.type === 'COGNITO_USER_POOLS');
  const arn = authorizer?.providerArns?.[0] ?? '';
  return arn.slice(arn.indexOf('userpool/') + 'userpool/'.length);
}

/** The confirmation code the local Cognito printed for an address. */
export function codeFor(logs: string[], email: string): string {
  const line = [...logs].reverse().find((l) => l.includes(`confirmation code for ${email}:`));
  if (!line) throw new Error(`no confirmation code printed for ${email}`);
  return line.slice(line.lastIndexOf(':') + 1).trim();
}

/** Signs up, confirms with the printed code, optionally joins the admins group, and signs in through the portal's API: the ID token. */
export async function newUser(p: PortalApp, email: string, admin = false): Promise<string> {
  expect((await portal(p, 'POST', 'auth/sign-up', undefined, { email, password: PASSWORD })).status).toBe(200);
  expect((await portal(p, 'POST', 'auth/confirm', undefined, { email, code: codeFor(p.logs, email) })).status).toBe(200);
  if (admin) await p.cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: p.poolId, Username: email, GroupName: 'admins' }));
  return signIn(p, email);
}

export async function signIn(p: PortalApp, email: string): Promise<string> {
  const r = await portal(p, 'POST', 'auth/sign-in', undefined, { email, password: PASSWORD });
  expect(r.status).toBe(200);
  return (r.body as { idToken: string }).idToken;
}

/** A call to the portal's API (the token raw in Authorization, as the pages send it). */
export async function portal(p: PortalApp, method: string, route: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(p.portalUrl + route, {
    method, headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try { parsed = JSON.parse(text) as Record<string, unknown>; } catch { parsed = { text }; }
  return { status: res.status, body: parsed };
}

/** GET /pets on the served API with a key: the status. */
export async function callApi(p: PortalApp, key: string | undefined): Promise<number> {
  const res = await fetch(`${p.apiUrl}/pets`, { headers: key ? { 'x-api-key': key } : {} });
  await res.text();
  return res.status;
}
