/** The portal Lambda's configuration, from its environment (written by the DeveloperPortal construct). */
export interface OfferedTier {
  /** The usage plan's id. */
  readonly planId: string;
  readonly name: string;
  /** Whether a subscription waits for an admin's approval. */
  readonly approval: boolean;
}

/** A tier sold on AWS Marketplace: a subscription comes with the buyer's registration token, not from the tier list. */
export interface MarketplaceTier {
  readonly planId: string;
  readonly name: string;
  readonly productCode: string;
}

export interface ApiRoute {
  readonly method: string;
  readonly path: string;
  readonly apiKeyRequired: boolean;
}

export interface PortalConfig {
  readonly portalId: string;
  readonly title: string;
  readonly tiers: OfferedTier[];
  /** The tiers sold on AWS Marketplace (their keys carry the buyer's customer identifier). */
  readonly marketplace: MarketplaceTier[];
  /** How long a rolled key's predecessor keeps working, in seconds. */
  readonly overlapSeconds: number;
  readonly tierChangeAllowed: boolean;
  /** Keys left free below the account's 10,000-key limit: subscriptions stop there. */
  readonly keyHeadroom: number;
  readonly userPoolClientId: string;
  readonly adminGroup: string;
  /** The API's stage URL (for the reference page's curl lines). */
  readonly apiUrl: string;
  readonly routes: ApiRoute[];
  /** A key expires this long after it goes into service (seconds); undefined: never. */
  readonly keyLifetimeSeconds?: number;
  /** An active key with no request for this many days is disabled as idle; undefined: never. */
  readonly disableUnusedAfterDays?: number;
}

/** A tier's name by its plan id (offered or sold on AWS Marketplace), or the id. */
export function tierNameOf(config: PortalConfig, planId: string): string {
  return [...config.tiers, ...config.marketplace].find((t) => t.planId === planId)?.name ?? planId;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): PortalConfig {
  const need = (name: string): string => {
    const v = env[name];
    if (v === undefined || v === '') throw new Error(`the portal's environment lacks ${name}`);
    return v;
  };
  return {
    portalId: need('PORTAL_ID'),
    title: env.PORTAL_TITLE ?? 'Developer portal',
    tiers: JSON.parse(need('PORTAL_TIERS')) as OfferedTier[],
    marketplace: JSON.parse(env.PORTAL_MARKETPLACE || '[]') as MarketplaceTier[],
    overlapSeconds: Number(need('KEY_ROLL_OVERLAP_SECONDS')),
    tierChangeAllowed: env.TIER_CHANGE_ALLOWED === 'true',
    keyHeadroom: Number(need('KEY_HEADROOM')),
    userPoolClientId: need('USER_POOL_CLIENT_ID'),
    adminGroup: env.ADMIN_GROUP ?? 'admins',
    apiUrl: need('API_URL'),
    routes: JSON.parse(need('API_ROUTES')) as ApiRoute[],
    keyLifetimeSeconds: optionalCount(env, 'KEY_LIFETIME_SECONDS'),
    disableUnusedAfterDays: optionalCount(env, 'DISABLE_UNUSED_AFTER_DAYS'),
  };
}

/** A whole number ≥ 1 from the environment, or undefined when unset or empty. */
function optionalCount(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`the portal's environment has ${name}=${JSON.stringify(v)}, not a whole number ≥ 1`);
  return n;
}
