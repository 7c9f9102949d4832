/**
 * The local Cognito's tokens: RS256 JWTs signed with one RSA key (made with `jose` at the first
 * sign-in, kept in the `--state` file so tokens outlive a restart), shaped as Cognito's ID and access tokens, and verified as API Gateway's Cognito
 * user-pool authorizer verifies them: signature, issuer, expiry, audience (an app client of the
 * pool) and `token_use` (an ID token unless the method names OAuth scopes).
 */
import { randomUUID } from 'crypto';
import { exportJWK, generateKeyPair, importJWK, JWK, jwtVerify, KeyLike, SignJWT } from 'jose';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike;
  readonly publicKey: KeyLike;
  /** The public key as the pool's JWKS publishes it. */
  readonly jwk: JWK;
  /** What the state file keeps of it (the private key as a JWK). */
  readonly saved: SavedSigningKey;
}

/** A signing key as the state file keeps it. */
export interface SavedSigningKey {
  readonly kid: string;
  /** The RSA private key as a JWK (`kty`, `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi`). */
  readonly privateJwk: JWK;
}

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return signingKeyOf({ kid: randomUUID(), privateJwk });
}

/** The signing key from what the state file kept: signs and verifies as it did before the restart. */
export async function signingKeyOf(saved: SavedSigningKey): Promise<SigningKey> {
  const { kty, n, e } = saved.privateJwk;
  const publicJwk = { kty, n, e };
  const [privateKey, publicKey] = await Promise.all([importJWK(saved.privateJwk, 'RS256'), importJWK(publicJwk, 'RS256')]);
  return {
    kid: saved.kid, privateKey: privateKey as KeyLike, publicKey: publicKey as KeyLike, saved,
    jwk: { ...publicJwk, kid: saved.kid, alg: 'RS256', use: 'sig' },
  };
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
