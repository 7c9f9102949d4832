/**
 * The local Cognito across a restart with `--state`, through the real
 * `@aws-sdk/client-cognito-identity-provider`: users (password hashes only), their confirmation,
 * pending codes and groups, their `sub` and the signing key survive, so a consumer signs in
 * again as the same user, still owns their key, and a token issued before the restart still
 * passes the portal's Cognito authorizer until it expires.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  AdminAddUserToGroupCommand, ConfirmSignUpCommand, InitiateAuthCommand, SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt } from 'jose';
import { cognitoSeedsOf } from '../../lib/local/cognito/cfn-user-pool';
import { readState } from '../../lib/local/state';
import { callApi, codeFor, PASSWORD, portal, PortalApp, startPortalApp } from './portal-app';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(180_000);

let p: PortalApp;
let dir: string;
let statePath: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-cognito-state-'));
  statePath = path.join(dir, 'state.json');
  p = await startPortalApp({ statePath });
}, 180_000);
afterAll(async () => {
  await p?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function signInWithSdk(app: PortalApp, clientId: string, email: string, password = PASSWORD): Promise<string> {
  const r = await app.cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } }));
  return r.AuthenticationResult!.IdToken!;
}

test('users, their sub, groups, pending codes and the signing key survive a restart; the consumer\'s key is still theirs', async () => {
  // GIVEN alice signs up and confirms through the SDK, and subscribes in the portal
  const clientId = portalClientId(p);
  const signedUp = await p.cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'alice@example.com', Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: 'alice@example.com' }] }));
  await p.cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'alice@example.com', ConfirmationCode: codeFor(p.logs, 'alice@example.com') }));
  await p.cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: p.poolId, Username: 'alice@example.com', GroupName: 'admins' }));
  const before = await signInWithSdk(p, clientId, 'alice@example.com');
  expect(decodeJwt(before).sub).toBe(signedUp.UserSub);
  const sub = await portal(p, 'POST', 'api/subscription', before, { tier: 'Free' });
  const key = String(sub.body.value);
  // AND bob signs up but has not confirmed yet
  await p.cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'bob@example.com', Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: 'bob@example.com' }] }));
  const bobCode = codeFor(p.logs, 'bob@example.com');

  // THEN the state file holds the users with password hashes, never a password
  const saved = fs.readFileSync(statePath, 'utf8');
  expect(saved).not.toContain(PASSWORD);
  const users = readState(statePath)!.cognito!.pools[p.poolId];
  expect(users.map((u) => [u.email, u.sub, u.confirmed, u.groups])).toEqual([
    ['alice@example.com', signedUp.UserSub, true, ['admins']],
    ['bob@example.com', expect.stringMatching(/^[0-9a-f-]{36}$/), false, []],
  ]);
  expect(users[0].hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);

  // WHEN the gateway restarts on the state file, 10 minutes later
  p.advance(600_000);
  p = await p.restart();

  // THEN the token issued before the restart still passes the authorizer (it has not expired) and sees alice's key
  expect((await portal(p, 'GET', 'api/subscription', before)).body.subscription).toMatchObject({ keyId: sub.body.keyId, status: 'active' });
  // AND alice signs in with her password as the same user (same sub), still an admin, and her key still works
  const after = await signInWithSdk(p, clientId, 'alice@example.com');
  expect(decodeJwt(after)).toMatchObject({ sub: signedUp.UserSub, 'cognito:groups': ['admins'] });
  expect((await portal(p, 'POST', 'api/subscription/reveal', after)).body).toEqual({ keyId: sub.body.keyId, value: key });
  expect(await callApi(p, key)).toBe(200);
  expect((await portal(p, 'GET', 'api/admin/consumers', after)).status).toBe(200);
  await expect(signInWithSdk(p, clientId, 'alice@example.com', 'Wrong-Horse-9-Battery')).rejects.toThrow(/^Incorrect username or password\.$/);
  // AND bob confirms with the code printed before the restart
  await expect(signInWithSdk(p, clientId, 'bob@example.com')).rejects.toThrow(/^User is not confirmed\.$/);
  await p.cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: 'bob@example.com', ConfirmationCode: bobCode }));
  expect(decodeJwt(await signInWithSdk(p, clientId, 'bob@example.com')).email).toBe('bob@example.com');
  // AND signing up again with alice's address is refused: she exists
  await expect(p.cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'alice@example.com', Password: PASSWORD })))
    .rejects.toThrow(/^An account with the given email already exists\.$/);

  // WHEN the pre-restart token's hour is over, it is refused (expiry is still checked)
  p.advance(3_000_000);
  expect((await portal(p, 'GET', 'api/subscription', before)).status).toBe(401);
});

test('a state file whose Cognito user carries a password instead of a hash is refused, naming the field', () => {
  const bad = path.join(dir, 'bad.json');
  const state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as { cognito: { pools: Record<string, Record<string, unknown>[]> } };
  const [poolId] = Object.keys(state.cognito.pools);
  state.cognito.pools[poolId][0] = { ...state.cognito.pools[poolId][0], password: PASSWORD };
  fs.writeFileSync(bad, JSON.stringify(state));
  expect(() => readState(bad)).toThrow(new RegExp(`state file .*bad\\.json is not a valid keygate local state file \\(version 1\\): field /cognito/pools/${poolId}/0 must NOT have additional properties`));
});

/** The portal's app client id, as the local Cognito read it from the template. */
function portalClientId(app: PortalApp): string {
  return cognitoSeedsOf(app.gateway.model).get(app.poolId)!.clients[0].id;
}
