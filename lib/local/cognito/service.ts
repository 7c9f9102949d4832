/**
 * The local Cognito slice: the app's user pools with self sign-up (the confirmation code is
 * printed to the terminal instead of e-mailed), confirmation, USER_PASSWORD_AUTH sign-in with
 * tokens signed by a local key, groups, and each pool's JWKS. It speaks Cognito's JSON
 * protocol (`X-Amz-Target: AWSCognitoIdentityProviderService.*`) to the real AWS SDK. With
 * `--state`, the users (scrypt hashes of their passwords, never the passwords; confirmation
 * status and pending code; groups; `sub`) and the signing key are saved after every change and
 * restored at start, so accounts and unexpired tokens survive a restart.
 */
import { awsJsonError, LocalServiceError, LocalServiceResponse } from '../service-error';
import { randomInt, randomUUID, scryptSync, timingSafeEqual, randomBytes } from 'crypto';
import { IncomingHttpHeaders } from 'http';
import { PasswordPolicySeed, UserPoolSeed } from './cfn-user-pool';
import { issueTokens, issuerOf, newSigningKey, SavedSigningKey, SigningKey, signingKeyOf, TOKEN_LIFETIME_SECONDS, verifyIdToken } from './tokens';

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
/** The operations that change users: the state is saved after each. */
const CHANGES = new Set(['SignUp', 'ConfirmSignUp', 'ResendConfirmationCode', 'AdminConfirmSignUp', 'AdminAddUserToGroup']);
/** scrypt's output length for password hashes (Node's defaults otherwise: N = 16384, r = 8, p = 1). */
const HASH_BYTES = 32;

/** A user as the state file keeps it: the password only as its scrypt salt and hash (base64). */
export interface SavedUser {
  readonly sub: string;
  readonly email: string;
  readonly salt: string;
  readonly hash: string;
  readonly confirmed: boolean;
  /** The confirmation code not yet used. */
  readonly code?: string;
  readonly groups: string[];
}

/** The local Cognito as the state file keeps it. */
export interface SavedCognito {
  readonly signingKey?: SavedSigningKey;
  /** Users by user pool id. */
  readonly pools: Record<string, SavedUser[]>;
}

interface LocalUser {
  readonly sub: string;
  readonly email: string;
  readonly salt: Buffer;
  readonly hash: Buffer;
  confirmed: boolean;
  code?: string;
  readonly groups: Set<string>;
}

/** Cognito's answers: the response type every local service shares. */
export type CognitoResponse = LocalServiceResponse;

export interface LocalCognitoOptions {
  readonly region: string;
  readonly accountId: string;
  readonly clock: () => number;
  readonly log: (line: string) => void;
  /** Saves the state (after a change of users, and once the signing key is made). */
  readonly persist?: () => void;
}

export class LocalCognito {
  /** A request for this service: Cognito's JSON protocol. */
  public static accepts(headers: IncomingHttpHeaders): boolean {
    return String(headers['x-amz-target'] ?? '').startsWith(TARGET_PREFIX);
  }

  private readonly users = new Map<string, Map<string, LocalUser>>();
  private keyPromise?: Promise<SigningKey>;

  constructor(private readonly pools: Map<string, UserPoolSeed>, private readonly options: LocalCognitoOptions) {
    for (const id of pools.keys()) this.users.set(id, new Map());
  }

  public get poolIds(): string[] {
    return [...this.pools.keys()];
  }

  private key(): Promise<SigningKey> {
    return (this.keyPromise ??= newSigningKey().then((k) => {
      this.savedKey = k.saved;
      // Saved before the first token is signed with it, so no token outlives its key.
      this.options.persist?.();
      return k;
    }));
  }

  /** The signing key to save (the one made or restored). */
  private savedKey?: SavedSigningKey;

  /** The users and the signing key, for the state file. */
  public snapshot(): SavedCognito {
    const pools: Record<string, SavedUser[]> = {};
    for (const [poolId, users] of this.users) {
      pools[poolId] = [...users.values()].map((u) => ({
        sub: u.sub, email: u.email, salt: u.salt.toString('base64'), hash: u.hash.toString('base64'), confirmed: u.confirmed,
        ...(u.code === undefined ? {} : { code: u.code }), groups: [...u.groups],
      }));
    }
    return { ...(this.savedKey ? { signingKey: this.savedKey } : {}), pools };
  }

  /**
   * Restores what a previous run saved: the users of the pools the app still has (a pool that
   * is gone takes its users with it, as deleting a user pool does) and the signing key.
   */
  public restore(saved: SavedCognito): void {
    for (const [poolId, users] of Object.entries(saved.pools)) {
      const pool = this.users.get(poolId);
      if (!pool) continue;
      for (const u of users) {
        const groups = new Set(u.groups.filter((g) => this.pools.get(poolId)!.groups.includes(g)));
        pool.set(u.email.toLowerCase(), { ...u, salt: Buffer.from(u.salt, 'base64'), hash: Buffer.from(u.hash, 'base64'), groups });
      }
    }
    if (saved.signingKey) {
      this.savedKey = saved.signingKey;
      this.keyPromise = signingKeyOf(saved.signingKey);
    }
  }

  /** The JWKS of a pool (`GET /<poolId>/.well-known/jwks.json`), or undefined for another path. */
  public async jwks(path: string): Promise<CognitoResponse | undefined> {
    const m = /^\/([^/]+)\/\.well-known\/jwks\.json$/.exec(path);
    if (!m || !this.pools.has(m[1])) return undefined;
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [(await this.key()).jwk] }) };
  }

  public async handle(target: string, body: Buffer): Promise<CognitoResponse> {
    try {
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new LocalServiceError('SerializationException', 'the body is not JSON');
      }
      const op = target.slice(TARGET_PREFIX.length);
      const out = await this.dispatch(op, input);
      if (CHANGES.has(op)) this.options.persist?.();
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(out) };
    } catch (e) {
      if (!(e instanceof LocalServiceError)) throw e;
      return awsJsonError(e);
    }
  }

  private dispatch(op: string, input: Record<string, unknown>): Promise<Record<string, unknown>> | Record<string, unknown> {
    switch (op) {
      case 'SignUp': return this.signUp(input);
      case 'ConfirmSignUp': return this.confirmSignUp(input);
      case 'ResendConfirmationCode': return this.resend(input);
      case 'InitiateAuth': return this.initiateAuth(input);
      case 'AdminConfirmSignUp': return this.adminUser(input, (u) => { u.confirmed = true; u.code = undefined; });
      case 'AdminAddUserToGroup': return this.adminUser(input, (u, pool) => {
        const g = String(input.GroupName);
        if (!pool.groups.includes(g)) throw new LocalServiceError('ResourceNotFoundException', `Group ${g} not found.`);
        u.groups.add(g);
      });
      default: throw new LocalServiceError('UnknownOperationException', `${op} is not emulated by keygate local's Cognito`);
    }
  }

  private poolOfClient(clientId: unknown): { pool: UserPoolSeed; client: UserPoolSeed['clients'][number] } {
    for (const pool of this.pools.values()) {
      const client = pool.clients.find((c) => c.id === clientId);
      if (client) return { pool, client };
    }
    throw new LocalServiceError('ResourceNotFoundException', `User pool client ${String(clientId)} does not exist.`);
  }

  private pool(poolId: unknown): UserPoolSeed {
    const pool = this.pools.get(String(poolId));
    if (!pool) throw new LocalServiceError('ResourceNotFoundException', `User pool ${String(poolId)} does not exist.`);
    return pool;
  }

  private findUser(pool: UserPoolSeed, username: unknown): LocalUser | undefined {
    const name = String(username ?? '').toLowerCase();
    return this.users.get(pool.id)!.get(name) ?? [...this.users.get(pool.id)!.values()].find((u) => u.sub === username);
  }

  private signUp(input: Record<string, unknown>): Record<string, unknown> {
    const { pool } = this.poolOfClient(input.ClientId);
    if (!pool.selfSignUp) throw new LocalServiceError('NotAuthorizedException', 'SignUp is not permitted for this user pool.');
    const attrs = Array.isArray(input.UserAttributes) ? (input.UserAttributes as { Name?: string; Value?: string }[]) : [];
    const email = String(attrs.find((a) => a.Name === 'email')?.Value ?? input.Username ?? '').trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 256) throw new LocalServiceError('InvalidParameterException', 'Invalid email address format.');
    if (this.findUser(pool, email)) throw new LocalServiceError('UsernameExistsException', 'An account with the given email already exists.');
    const password = String(input.Password ?? '');
    checkPassword(pool.passwordPolicy, password);
    const salt = randomBytes(16);
    const user: LocalUser = { sub: randomUUID(), email, salt, hash: scryptSync(password, salt, HASH_BYTES), confirmed: false, groups: new Set() };
    this.users.get(pool.id)!.set(email.toLowerCase(), user);
    this.sendCode(pool, user);
    return { UserConfirmed: false, UserSub: user.sub, CodeDeliveryDetails: { Destination: mask(email), DeliveryMedium: 'EMAIL', AttributeName: 'email' } };
  }

  private sendCode(pool: UserPoolSeed, user: LocalUser): void {
    user.code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    this.options.log(`keygate local: Cognito ${pool.name}: confirmation code for ${user.email}: ${user.code}`);
  }

  private resend(input: Record<string, unknown>): Record<string, unknown> {
    const { pool } = this.poolOfClient(input.ClientId);
    const user = this.findUser(pool, input.Username);
    if (!user) throw new LocalServiceError('UserNotFoundException', 'Username/client id combination not found.');
    if (user.confirmed) throw new LocalServiceError('InvalidParameterException', 'User is already confirmed.');
    this.sendCode(pool, user);
    return { CodeDeliveryDetails: { Destination: mask(user.email), DeliveryMedium: 'EMAIL', AttributeName: 'email' } };
  }

  private confirmSignUp(input: Record<string, unknown>): Record<string, unknown> {
    const { pool } = this.poolOfClient(input.ClientId);
    const user = this.findUser(pool, input.Username);
    if (!user) throw new LocalServiceError('UserNotFoundException', 'Username/client id combination not found.');
    if (user.confirmed) return {};
    if (!user.code || String(input.ConfirmationCode ?? '') !== user.code) throw new LocalServiceError('CodeMismatchException', 'Invalid verification code provided, please try again.');
    user.confirmed = true;
    user.code = undefined;
    return {};
  }

  private async initiateAuth(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { pool, client } = this.poolOfClient(input.ClientId);
    if (input.AuthFlow !== 'USER_PASSWORD_AUTH') throw new LocalServiceError('InvalidParameterException', `AuthFlow ${String(input.AuthFlow)} is not emulated by keygate local (use USER_PASSWORD_AUTH)`);
    if (!client.userPasswordAuth) throw new LocalServiceError('InvalidParameterException', 'USER_PASSWORD_AUTH flow not enabled for this client');
    const params = (input.AuthParameters ?? {}) as Record<string, string>;
    const user = this.findUser(pool, params.USERNAME);
    const given = scryptSync(String(params.PASSWORD ?? ''), user?.salt ?? Buffer.alloc(16), HASH_BYTES);
    if (!user || !timingSafeEqual(given, user.hash)) throw new LocalServiceError('NotAuthorizedException', 'Incorrect username or password.');
    if (!user.confirmed) throw new LocalServiceError('UserNotConfirmedException', 'User is not confirmed.');
    const tokens = await issueTokens(await this.key(), issuerOf(this.options.region, pool.id), client.id, { sub: user.sub, email: user.email, groups: [...user.groups] }, this.options.clock());
    return {
      ChallengeParameters: {},
      AuthenticationResult: { IdToken: tokens.idToken, AccessToken: tokens.accessToken, RefreshToken: randomBytes(32).toString('base64url'), ExpiresIn: TOKEN_LIFETIME_SECONDS, TokenType: 'Bearer' },
    };
  }

  private adminUser(input: Record<string, unknown>, change: (u: LocalUser, pool: UserPoolSeed) => void): Record<string, unknown> {
    const pool = this.pool(input.UserPoolId);
    const user = this.findUser(pool, input.Username);
    if (!user) throw new LocalServiceError('UserNotFoundException', 'User does not exist.');
    change(user, pool);
    return {};
  }

  /**
   * API Gateway's COGNITO_USER_POOLS check of a token against the authorizer's pools: the
   * claims (as strings, as API Gateway hands them to the integration), or undefined (401).
   */
  public async verifyForAuthorizer(providerArns: string[], token: string): Promise<Record<string, string> | undefined> {
    for (const arn of providerArns) {
      const pool = this.pools.get(arn.slice(arn.indexOf('userpool/') + 'userpool/'.length));
      if (!pool) continue;
      const r = await verifyIdToken(await this.key(), token, issuerOf(this.options.region, pool.id), pool.clients.map((c) => c.id), this.options.clock());
      if (typeof r === 'string') continue;
      const claims: Record<string, string> = {};
      for (const [k, v] of Object.entries(r)) claims[k] = Array.isArray(v) ? v.join(',') : String(v);
      return claims;
    }
    return undefined;
  }
}

function checkPassword(policy: PasswordPolicySeed, password: string): void {
  const problems: string[] = [];
  if (password.length < policy.minimumLength) problems.push(`Password not long enough (at least ${policy.minimumLength} characters)`);
  if (policy.requireLowercase && !/[a-z]/.test(password)) problems.push('Password must have lowercase characters');
  if (policy.requireUppercase && !/[A-Z]/.test(password)) problems.push('Password must have uppercase characters');
  if (policy.requireNumbers && !/[0-9]/.test(password)) problems.push('Password must have numeric characters');
  if (policy.requireSymbols && !/[^A-Za-z0-9]/.test(password)) problems.push('Password must have symbol characters');
  if (problems.length) throw new LocalServiceError('InvalidPasswordException', `Password did not conform with policy: ${problems.join('; ')}`);
}

function mask(email: string): string {
  const [name, domain] = email.split('@');
  return `${name.slice(0, 1)}***@${domain ? `${domain.slice(0, 1)}***` : ''}`;
}
