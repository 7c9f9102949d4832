import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CfnOutput, Duration, Lazy, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { IKeyProtectedApi } from '../api-contract';
import { KeygateError } from '../errors';
import { bundledHandlerCode } from '../common/handler-code';
import { keygateLogGroup } from '../common/function-logs';
import type { ITier } from '../tier';
import type { MarketplaceSubscriptions } from '../usage/marketplace';
import { MAX_API_KEYS } from '../shared/constants';
import { PORTAL_API_DESCRIPTION_PREFIX } from '../shared/portal';
import { keyLifetimeSeconds, unusedWindowDays } from '../lifecycle/durations';
import { grantPortalKeys } from './portal-permissions';
import { acknowledgePortalFindings } from './portal-nag';

/** A tier the portal offers for self-service. */
export interface PortalTier {
  /** The tier (usage plan) a subscription's key is associated with. */
  readonly tier: ITier;
  /**
   * Whether a subscription waits for an admin's approval before its key works.
   * @default false
   */
  readonly approval?: boolean;
}

/** Properties of a DeveloperPortal. */
export interface DeveloperPortalProps {
  /** The API whose keys the portal hands out. */
  readonly api: IKeyProtectedApi;
  /** The tiers consumers may subscribe to themselves (each at most once; with `marketplace`, may be empty). */
  readonly tiers: PortalTier[];
  /**
   * Tiers sold on AWS Marketplace: the portal's `/marketplace` path is the products' fulfillment
   * URL. A buyer AWS Marketplace sends there signs up or in, and the registration token
   * (ResolveCustomer) makes their subscription the Marketplace customer's key (customerId set,
   * so API Gateway meters it). These tiers are not offered for self-service.
   * @default - none
   */
  readonly marketplace?: MarketplaceSubscriptions[];
  /**
   * The portal's title on its pages.
   * @default 'Developer portal'
   */
  readonly title?: string;
  /**
   * How long a rolled key's predecessor keeps working (0 seconds to 90 days).
   * @default Duration.days(1)
   */
  readonly keyRollOverlap?: Duration;
  /**
   * Whether a consumer may move their key to another offered tier (one that needs no approval).
   * @default true
   */
  readonly allowTierChange?: boolean;
  /**
   * API keys left free below the account's 10,000-key limit: subscriptions are refused once
   * the account holds 10,000 minus this many keys.
   * @default 500
   */
  readonly keyHeadroom?: number;
  /**
   * Requests per second to the portal's API (sign-up and sign-in get a tenth of it, at least 1).
   * @default 10
   */
  readonly rateLimit?: number;
  /**
   * How often the portal's job runs (whole minutes): it retires rolled keys whose overlap has
   * ended, and applies `keyLifetime` and `disableUnusedAfter`.
   * @default Duration.minutes(15)
   */
  readonly retireEvery?: Duration;
  /**
   * How long a key the portal hands out works: it expires this long after it goes into service
   * (subscribed, approved, rolled), at least one minute, in whole seconds. The portal writes the
   * instant on the key in keygate's expiry tag (`keygate:expires-at`); its job disables the key
   * at the next run after it and marks the subscription `expired`, and the consumer rolls the
   * key for a new one (with a new lifetime) or subscribes again.
   * @default - keys never expire
   */
  readonly keyLifetime?: Duration;
  /**
   * Disable an active key of the portal that had no request (across the offered tiers) for
   * this long, in whole days, at least 1; it counts from when the key went into service (made,
   * approved, re-enabled by an admin). The subscription is marked `idle`, and the consumer
   * rolls the key for a new one or subscribes again. keygate's `KeyHygiene` leaves portal keys
   * to this rule.
   * @default - keys are never disabled for being unused
   */
  readonly disableUnusedAfter?: Duration;
  /**
   * What happens to the user pool (the consumers' accounts) when the portal is removed.
   * @default RemovalPolicy.RETAIN
   */
  readonly userPoolRemovalPolicy?: RemovalPolicy;
}

/**
 * A developer portal for a KeyProtectedApi: consumers sign up (Cognito, e-mail verified),
 * subscribe to the offered tiers, get, reveal, roll and cancel their own key and watch its
 * usage; admins (the user pool's `admins` group) approve subscriptions and disable consumers.
 * The portal's pages and its API are one REST API (Cognito-authorized, throttled) backed by one
 * Lambda function; a subscription is an API key tagged with the portal and the consumer.
 */
export class DeveloperPortal extends Construct {
  /** The name of the user pool group whose members are the portal's admins. */
  public static readonly ADMIN_GROUP = 'admins';

  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  /** The portal's own REST API: its pages at `/`, its API under `/api`. */
  public readonly portalApi: apigw.RestApi;
  public readonly handler: lambda.Function;
  /** The portal's address. */
  public readonly url: string;
  /** The id written in the `keygate:portal` tag of every key the portal makes. */
  public readonly portalId: string;
  /** The AWS Marketplace fulfillment URL to give in the product's listing (`<url>marketplace`), when the portal sells tiers there. */
  public readonly fulfillmentUrl?: string;

  constructor(scope: Construct, id: string, props: DeveloperPortalProps) {
    super(scope, id);
    const rules = validatePortalProps(this, props);
    this.portalId = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).replace(/[^A-Za-z0-9-]/g, '');
    this.userPool = this.makeUserPool(props);
    this.userPoolClient = this.userPool.addClient('Client', {
      authFlows: { userPassword: true, userSrp: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
    });
    new cognito.CfnUserPoolGroup(this, 'AdminsGroup', {
      userPoolId: this.userPool.userPoolId, groupName: DeveloperPortal.ADMIN_GROUP, description: 'Admins of the developer portal',
    });
    this.handler = this.makeHandler(props, rules);
    const sold = props.marketplace ?? [];
    grantPortalKeys(this.handler, this.portalId, [...props.tiers, ...sold].map((t) => t.tier.usagePlanId), sold.length > 0);
    this.portalApi = this.makeApi(props);
    this.url = this.portalApi.url;
    if (sold.length > 0) {
      this.fulfillmentUrl = `${this.url}marketplace`;
      new CfnOutput(this, 'FulfillmentUrl', { value: this.fulfillmentUrl, description: 'AWS Marketplace fulfillment URL (the SaaS listing\'s registration page)' });
    }
    // The logical id stays RetireSchedule (the rule's first job) so that existing portals keep their rule.
    const maintenance = new events.Rule(this, 'RetireSchedule', {
      description: 'Runs: developer portal: retire rolled keys after their overlap, disable expired and idle keys',
      schedule: events.Schedule.rate(props.retireEvery ?? Duration.minutes(15)),
    });
    maintenance.addTarget(new targets.LambdaFunction(this.handler, { event: events.RuleTargetInput.fromObject({ action: 'maintain' }), retryAttempts: 2 }));
    new CfnOutput(this, 'Url', { value: this.url, description: 'Developer portal' });
    acknowledgePortalFindings(this);
  }

  private makeUserPool(props: DeveloperPortalProps): cognito.UserPool {
    return new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: { minLength: 12, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      userVerification: { emailSubject: 'Your developer portal confirmation code', emailBody: 'Your confirmation code is {####}' },
      removalPolicy: props.userPoolRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  private makeHandler(props: DeveloperPortalProps, rules: PortalKeyRules): lambda.Function {
    const api = props.api;
    return new lambda.Function(this, 'Handler', {
      code: bundledHandlerCode('portal'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      memorySize: 256,
      timeout: Duration.seconds(29),
      description: 'keygate developer portal: pages, sign-up and the consumers\' and admins\' API',
      environment: {
        PORTAL_ID: this.portalId,
        PORTAL_TITLE: props.title ?? 'Developer portal',
        PORTAL_TIERS: Stack.of(this).toJsonString(props.tiers.map((t) => ({ planId: t.tier.usagePlanId, name: t.tier.tierName, approval: t.approval ?? false }))),
        ...(props.marketplace?.length ? {
          PORTAL_MARKETPLACE: Stack.of(this).toJsonString(props.marketplace.map((m) => ({ planId: m.tier.usagePlanId, name: m.tier.tierName, productCode: m.productCode }))),
        } : {}),
        KEY_ROLL_OVERLAP_SECONDS: String((props.keyRollOverlap ?? Duration.days(1)).toSeconds()),
        TIER_CHANGE_ALLOWED: String(props.allowTierChange ?? true),
        KEY_HEADROOM: String(props.keyHeadroom ?? 500),
        USER_POOL_CLIENT_ID: this.userPoolClient.userPoolClientId,
        ADMIN_GROUP: DeveloperPortal.ADMIN_GROUP,
        API_URL: api.restApi.url,
        API_ROUTES: Lazy.string({ produce: () => JSON.stringify(routesOf(api)) }),
        ...(rules.lifetimeSeconds ? { KEY_LIFETIME_SECONDS: String(rules.lifetimeSeconds) } : {}),
        ...(rules.unusedDays ? { DISABLE_UNUSED_AFTER_DAYS: String(rules.unusedDays) } : {}),
      },
      logGroup: keygateLogGroup(this, 'HandlerLogs'),
    });
  }

  private makeApi(props: DeveloperPortalProps): apigw.RestApi {
    const rate = props.rateLimit ?? 10;
    const authRate = Math.max(1, Math.floor(rate / 10));
    const accessLog = new logs.LogGroup(this, 'AccessLog', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.DESTROY });
    const restApi = new apigw.RestApi(this, 'Api', {
      restApiName: `${props.api.restApi.restApiName}-portal`,
      description: `${PORTAL_API_DESCRIPTION_PREFIX} of ${props.api.restApi.restApiName}`,
      deployOptions: {
        stageName: 'portal',
        throttlingRateLimit: rate,
        throttlingBurstLimit: rate * 2,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLog),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        methodOptions: { '/auth/{action}/POST': { throttlingRateLimit: authRate, throttlingBurstLimit: authRate * 5 } },
      },
      cloudWatchRole: false,
    });
    // One permission for the whole portal API (not one per method and one more per test-invoke).
    const integration = new apigw.LambdaIntegration(this.handler, { allowTestInvoke: false, scopePermissionToMethod: false });
    const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [this.userPool], identitySource: 'method.request.header.Authorization' });
    restApi.root.addMethod('GET', integration);
    restApi.root.addResource('app.js').addMethod('GET', integration);
    restApi.root.addResource('style.css').addMethod('GET', integration);
    restApi.root.addResource('auth').addResource('{action}').addMethod('POST', integration);
    // AWS Marketplace POSTs the buyer's browser here (a form with the registration token).
    if (props.marketplace?.length) restApi.root.addResource('marketplace').addMethod('POST', integration);
    restApi.root.addResource('api').addResource('{proxy+}').addMethod('ANY', integration, { authorizer, authorizationType: apigw.AuthorizationType.COGNITO });
    return restApi;
  }
}

/** Tiers sold on AWS Marketplace: never also self-service (its keys would go unmetered), each product once. */
function validateMarketplace(scope: Construct, sold: MarketplaceSubscriptions[], selfService: Set<string>): void {
  const codes = new Set<string>();
  for (const m of sold) {
    if (selfService.has(m.tier.node.path)) {
      throw KeygateError.of(scope, 'marketplace', 'sells a tier the portal also offers in tiers (self-service keys would not be metered): offer it in one of the two', m.tier.tierName);
    }
    if (!Token.isUnresolved(m.productCode) && codes.has(m.productCode)) throw KeygateError.of(scope, 'marketplace', 'names the same product code twice', m.productCode);
    codes.add(m.productCode);
  }
}

/** The API's methods for the reference page: method, path and whether a key is needed. */
function routesOf(api: IKeyProtectedApi): { method: string; path: string; apiKeyRequired: boolean }[] {
  return api.restApi.methods
    .filter((m) => m.httpMethod !== 'OPTIONS')
    .map((m) => {
      const cfn = m.node.defaultChild as apigw.CfnMethod;
      return { method: m.httpMethod, path: m.resource.path, apiKeyRequired: cfn.apiKeyRequired === true };
    })
    .sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** The portal's rules for its keys, validated: the lifetime in seconds, the idle window in days. */
interface PortalKeyRules {
  readonly lifetimeSeconds?: number;
  readonly unusedDays?: number;
}

function validatePortalProps(scope: Construct, props: DeveloperPortalProps): PortalKeyRules {
  const sold = props.marketplace ?? [];
  if (props.tiers.length === 0 && sold.length === 0) throw KeygateError.of(scope, 'tiers', 'a portal must offer at least one tier (or sell one: marketplace)', props.tiers);
  const seen = new Set<string>();
  for (const t of props.tiers) {
    if (seen.has(t.tier.node.path)) throw KeygateError.of(scope, 'tiers', 'offers the same tier twice', t.tier.tierName);
    seen.add(t.tier.node.path);
  }
  validateMarketplace(scope, sold, seen);
  const overlap = props.keyRollOverlap?.toSeconds();
  if (overlap !== undefined && !Token.isUnresolved(overlap) && overlap > Duration.days(90).toSeconds()) {
    throw KeygateError.of(scope, 'keyRollOverlap', 'must be at most 90 days', props.keyRollOverlap!.toHumanString());
  }
  const headroom = props.keyHeadroom;
  if (headroom !== undefined && !Token.isUnresolved(headroom) && (!Number.isInteger(headroom) || headroom < 0 || headroom >= MAX_API_KEYS)) {
    throw KeygateError.of(scope, 'keyHeadroom', `must be a whole number from 0 to ${MAX_API_KEYS - 1}`, headroom);
  }
  const rate = props.rateLimit;
  if (rate !== undefined && !Token.isUnresolved(rate) && !(rate > 0)) throw KeygateError.of(scope, 'rateLimit', 'must be above 0', rate);
  const every = props.retireEvery?.toSeconds({ integral: false });
  if (every !== undefined && !Token.isUnresolved(every) && (every % 60 !== 0 || every < 60)) {
    throw KeygateError.of(scope, 'retireEvery', 'must be whole minutes, at least 1', props.retireEvery!.toHumanString());
  }
  return {
    lifetimeSeconds: props.keyLifetime && keyLifetimeSeconds(scope, 'keyLifetime', props.keyLifetime, 'must be a duration'),
    unusedDays: props.disableUnusedAfter && unusedWindowDays(scope, 'disableUnusedAfter', props.disableUnusedAfter),
  };
}
