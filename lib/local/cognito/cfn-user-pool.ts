/**
 * AWS::Cognito::UserPool, UserPoolClient and UserPoolGroup → the local Cognito's pools. The
 * seeds are kept per model (the model builder's result stays as it is); `cognitoSeedsOf`
 * hands them to the gateway.
 */
import { ResourceHandler } from '../cloudformation/context';
import { obj, str } from '../cloudformation/values';

export interface PasswordPolicySeed {
  readonly minimumLength: number;
  readonly requireLowercase: boolean;
  readonly requireUppercase: boolean;
  readonly requireNumbers: boolean;
  readonly requireSymbols: boolean;
}

export interface UserPoolSeed {
  readonly id: string;
  readonly name: string;
  readonly stack: string;
  readonly logicalId: string;
  readonly selfSignUp: boolean;
  readonly autoVerifyEmail: boolean;
  readonly passwordPolicy: PasswordPolicySeed;
  /** App client ids (the ID token's audience). */
  readonly clients: { id: string; name: string; userPasswordAuth: boolean }[];
  readonly groups: string[];
}

/** Keyed by the build's model object (this service does not import the API Gateway model). */
const SEEDS = new WeakMap<object, Map<string, UserPoolSeed>>();

/** The user pools of the model's templates, by pool id. */
export function cognitoSeedsOf(model: object): Map<string, UserPoolSeed> {
  let m = SEEDS.get(model);
  if (!m) SEEDS.set(model, (m = new Map()));
  return m;
}

export const userPoolHandler: ResourceHandler = {
  type: 'AWS::Cognito::UserPool',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const id = ctx.ref(logicalId)!;
      const pw = obj(obj(p.Policies).PasswordPolicy);
      const b = (v: unknown, d: boolean) => (v === undefined ? d : v === true || v === 'true');
      cognitoSeedsOf(ctx.model).set(id, {
        id, name: str(p.UserPoolName) ?? logicalId, stack: ctx.stackName, logicalId,
        selfSignUp: !b(obj(p.AdminCreateUserConfig).AllowAdminCreateUserOnly, false),
        autoVerifyEmail: ([] as unknown[]).concat(p.AutoVerifiedAttributes ?? []).includes('email'),
        passwordPolicy: {
          minimumLength: Number(pw.MinimumLength ?? 8), requireLowercase: b(pw.RequireLowercase, true), requireUppercase: b(pw.RequireUppercase, true),
          requireNumbers: b(pw.RequireNumbers, true), requireSymbols: b(pw.RequireSymbols, true),
        },
        clients: [], groups: [],
      });
    }
  },
};

export const userPoolClientHandler: ResourceHandler = {
  type: 'AWS::Cognito::UserPoolClient',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const pool = cognitoSeedsOf(ctx.model).get(String(p.UserPoolId));
      if (!pool) { ctx.report(logicalId, 'AWS::Cognito::UserPoolClient', `its UserPoolId ${JSON.stringify(p.UserPoolId)} is not a user pool of this app`); continue; }
      const flows = ([] as unknown[]).concat(p.ExplicitAuthFlows ?? []).map(String);
      pool.clients.push({ id: ctx.ref(logicalId)!, name: str(p.ClientName) ?? logicalId, userPasswordAuth: flows.includes('ALLOW_USER_PASSWORD_AUTH') });
    }
  },
};

export const userPoolGroupHandler: ResourceHandler = {
  type: 'AWS::Cognito::UserPoolGroup',
  build(ctx, resources) {
    for (const { logicalId, props: p } of resources) {
      const pool = cognitoSeedsOf(ctx.model).get(String(p.UserPoolId));
      if (!pool) { ctx.report(logicalId, 'AWS::Cognito::UserPoolGroup', `its UserPoolId ${JSON.stringify(p.UserPoolId)} is not a user pool of this app`); continue; }
      pool.groups.push(str(p.GroupName) ?? logicalId);
    }
  },
};
