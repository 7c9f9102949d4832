/**
 * How the gateway serves the local Cognito: Cognito's public operations (SignUp, InitiateAuth…)
 * are unsigned on AWS, and the SDK sends them unsigned, so the SigV4 check of the other local
 * services does not apply; they are still refused unless the Host is loopback and the request
 * is not cross-site, and they need an `X-Amz-Target` header, which no HTML form can send (a
 * page on another origin would need a CORS preflight, which the gateway never grants).
 */
import { IncomingHttpHeaders } from 'http';
import { checkLoopbackHost, checkNotCrossSite } from '../request-guard';
import { PORTAL_API_DESCRIPTION_PREFIX } from '../../shared/portal';
import { cognitoSeedsOf } from './cfn-user-pool';
import { CognitoResponse, LocalCognito } from './service';

/** What the service needs of the gateway's model. */
export interface CognitoHost {
  readonly region: string;
  readonly accountId: string;
  readonly apis: Map<string, { readonly id: string; readonly description?: string; readonly stages: Map<string, unknown> }>;
}

export function localCognitoOf(model: CognitoHost, clock: () => number, log: (line: string) => void, persist?: () => void): LocalCognito {
  return new LocalCognito(cognitoSeedsOf(model), { region: model.region, accountId: model.accountId, clock, log, persist });
}

/** The local Cognito's answer, or undefined when the request is not for it. */
export async function serveCognito(cognito: LocalCognito, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<CognitoResponse | undefined> {
  const isCall = method === 'POST' && LocalCognito.accepts(headers);
  const isJwks = method === 'GET' && path.endsWith('/.well-known/jwks.json');
  if (!isCall && !isJwks) return undefined;
  const refusal = checkLoopbackHost(headers) ?? checkNotCrossSite(headers);
  if (refusal) return { status: refusal.status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': refusal.type }, body: JSON.stringify({ __type: refusal.type, message: refusal.message }) };
  return isCall ? cognito.handle(String(headers['x-amz-target']), body) : cognito.jwks(path);
}

/** The developer portals of the app: their page URLs on the local gateway. */
export function localPortals(model: CognitoHost, base: string): { name: string; url: string }[] {
  return [...model.apis.values()]
    .filter((a) => (a.description ?? '').startsWith(PORTAL_API_DESCRIPTION_PREFIX))
    .flatMap((a) => [...a.stages.keys()].map((s) => ({ name: a.description!.slice(PORTAL_API_DESCRIPTION_PREFIX.length).replace(/^ of /, ''), url: `${base}/restapis/${a.id}/${s}/_user_request_/` })));
}
