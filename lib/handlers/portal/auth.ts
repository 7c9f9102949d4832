/**
 * Sign-up, confirmation and sign-in, passed to Cognito's public operations by the portal's
 * API, so the pages talk only to their own origin (CSP `connect-src 'self'`) and the portal
 * stage's throttle limits them. Cognito's own errors (wrong code, weak password…) come back
 * with their message; nothing a user sends is logged.
 */
import {
  CognitoIdentityProviderClient, ConfirmSignUpCommand, InitiateAuthCommand, ResendConfirmationCodeCommand, SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { PortalError } from './keys';

const CLIENT_ERRORS = new Set([
  'UsernameExistsException', 'InvalidPasswordException', 'InvalidParameterException', 'CodeMismatchException', 'ExpiredCodeException',
  'NotAuthorizedException', 'UserNotConfirmedException', 'UserNotFoundException', 'TooManyRequestsException', 'LimitExceededException',
]);

function field(body: Record<string, unknown>, name: string, max = 256): string {
  const v = body[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new PortalError(400, `${name} is required (at most ${max} characters)`);
  return v;
}

async function cognitoCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    if (CLIENT_ERRORS.has(name)) throw new PortalError(name === 'TooManyRequestsException' || name === 'LimitExceededException' ? 429 : 400, (e as Error).message);
    throw e;
  }
}

export async function authAction(cognito: CognitoIdentityProviderClient, clientId: string, action: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  switch (action) {
    case 'sign-up': {
      const email = field(body, 'email');
      const r = await cognitoCall(() => cognito.send(new SignUpCommand({
        ClientId: clientId, Username: email, Password: field(body, 'password'), UserAttributes: [{ Name: 'email', Value: email }],
      })));
      return { confirmed: r.UserConfirmed ?? false, delivery: r.CodeDeliveryDetails?.Destination ?? null };
    }
    case 'confirm':
      await cognitoCall(() => cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: field(body, 'email'), ConfirmationCode: field(body, 'code', 16) })));
      return { confirmed: true };
    case 'resend':
      await cognitoCall(() => cognito.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: field(body, 'email') })));
      return { sent: true };
    case 'sign-in': {
      const r = await cognitoCall(() => cognito.send(new InitiateAuthCommand({
        ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: field(body, 'email'), PASSWORD: field(body, 'password') },
      })));
      if (!r.AuthenticationResult?.IdToken) throw new PortalError(400, `sign-in needs another step (${r.ChallengeName ?? 'unknown'}) that this portal does not offer`);
      return { idToken: r.AuthenticationResult.IdToken, expiresIn: r.AuthenticationResult.ExpiresIn };
    }
    default:
      throw new PortalError(404, 'no such action');
  }
}
