/**
 * The local Cognito's tokens: RS256 JWTs signed with one RSA key per gateway run (made with
 * `jose`), shaped as Cognito's ID and access tokens, and verified as API Gateway's Cognito
 * user-pool authorizer verifies them: signature, issuer, expiry, audience (an app client of the
 * pool) and `token_use` (an ID token unless the method names OAuth scopes).
 */
import { randomUUID } from 'crypto';
import { exportJWK, generateKeyPair, JWK, jwtVerify, KeyLike, SignJWT } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike;
  readonly publicKey: KeyLike;
  readonly jwk: JWK;
}

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  return { kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export function issuerOf(region: string, poolId: string): string {
  return `https://cognito-idp.${region}.amazonaws.com/${poolId}`;
}

export interface UserClaims {
  readonly sub: string;
  readonly email: string;
  readonly groups: string[];
}

export const TOKEN_LIFETIME_SECONDS = 3600;

export async function issueTokens(key: SigningKey, issuer: string, clientId: string, user: UserClaims, nowMs: number): Promise<{ idToken: string; accessToken: string }> {
  const iat = Math.floor(nowMs / 1000);
  const common = { auth_time: iat, event_id: randomUUID(), origin_jti: randomUUID(), ...(user.groups.length ? { 'cognito:groups': user.groups } : {}) };
  const sign = (claims: Record<string, unknown>, audience?: string) => {
    const jwt = new SignJWT({ ...common, ...claims }).setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setSubject(user.sub).setIssuer(issuer).setIssuedAt(iat).setExpirationTime(iat + TOKEN_LIFETIME_SECONDS).setJti(randomUUID());
    return (audience ? jwt.setAudience(audience) : jwt).sign(key.privateKey);
  };
  return {
    idToken: await sign({ token_use: 'id', email: user.email, email_verified: true, 'cognito:username': user.sub }, clientId),
    accessToken: await sign({ token_use: 'access', client_id: clientId, scope: 'aws.cognito.signin.user.admin', username: user.sub }),
  };
}

/** The claims of a valid ID token for one of `clientIds`, or why it is not. */
export async function verifyIdToken(key: SigningKey, token: string, issuer: string, clientIds: string[], nowMs: number): Promise<Record<string, unknown> | string> {
  try {
    const { payload } = await jwtVerify(token, key.publicKey, { issuer, algorithms: ['RS256'], currentDate: new Date(nowMs), clockTolerance: 0 });
    if (payload.token_use !== 'id') return `token_use is ${String(payload.token_use)}, not id`;
    const aud = ([] as string[]).concat(payload.aud ?? []);
    if (!aud.some((a) => clientIds.includes(a))) return 'audience is not an app client of the user pool';
    return payload as Record<string, unknown>;
  } catch (e) {
    return (e as Error).message;
  }
}
