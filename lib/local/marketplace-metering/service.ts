/**
 * The AWS Marketplace Metering Service's ResolveCustomer, locally (AWS JSON 1.1,
 * `X-Amz-Target: AWSMPMeteringService.ResolveCustomer`), with the buyer's side AWS Marketplace
 * plays: `subscribe` stands for a buyer subscribing to a SaaS product whose code a local usage
 * plan carries. It mints the registration token AWS Marketplace would POST to the product's
 * fulfillment URL and publishes `subscribe-success` on AWS Marketplace's subscription topic
 * for the product, when the app subscribes to it. As on AWS, a token resolves to the same
 * customer until it expires 4 hours (gateway clock) after it was issued; anything else is an
 * InvalidTokenException. Tokens live in memory (a restart forgets them, as they would expire).
 */
import { randomBytes } from 'crypto';
import { CUSTOMER_ID_PATTERN, REGISTRATION_TOKEN_LIFETIME_MS } from '../../shared/marketplace';
import { randomId } from '../ids';
import { amzTarget, LocalService } from '../services';
import { awsJsonError, LocalServiceError, LocalServiceResponse } from '../service-error';

const TARGET_PREFIX = 'AWSMPMeteringService.';

/** A local buyer's subscription, as ResolveCustomer answers for its token. */
export interface MarketplaceCustomer {
  readonly registrationToken: string;
  readonly customerIdentifier: string;
  readonly productCode: string;
  readonly customerAwsAccountId: string;
}

export interface SubscribeOptions {
  readonly productCode: string;
  /** @default a new identifier */
  readonly customerIdentifier?: string;
  /** @default a random 12-digit account */
  readonly customerAwsAccountId?: string;
}

export interface LocalMarketplaceOptions {
  readonly clock: () => number;
  /** The product codes the app's usage plans carry now. */
  readonly productCodes: () => string[];
  /** Publishes a notification to AWS Marketplace's topic for the product; returns false when the app has no such topic. */
  readonly notify: (productCode: string, message: string) => boolean;
  readonly log: (line: string) => void;
}

export class LocalMarketplaceMetering {
  private readonly tokens = new Map<string, MarketplaceCustomer & { readonly issuedAt: number }>();

  constructor(private readonly opts: LocalMarketplaceOptions) {}

  asService(): LocalService {
    return {
      name: 'marketplace-metering',
      accepts: (req) => req.method === 'POST' && amzTarget(req, TARGET_PREFIX) !== undefined,
      handle: (req) => this.handle(String(req.headers['x-amz-target']), req.body),
    };
  }

  /** A buyer subscribes on AWS Marketplace: a registration token for the fulfillment URL, and `subscribe-success` on the product's topic. */
  subscribe(options: SubscribeOptions): MarketplaceCustomer & { readonly notified: boolean } {
    const { productCode } = options;
    const known = this.opts.productCodes();
    if (!known.includes(productCode)) {
      throw new Error(`no usage plan of the app carries the AWS Marketplace product code ${JSON.stringify(productCode)} (the app's: ${known.join(', ') || 'none'})`);
    }
    const customerIdentifier = options.customerIdentifier ?? `local-${randomId(11)}`;
    if (!CUSTOMER_ID_PATTERN.test(customerIdentifier)) throw new Error(`customerIdentifier ${JSON.stringify(customerIdentifier)} must be 1–255 letters, digits, _ or -`);
    const customer: MarketplaceCustomer = {
      registrationToken: randomBytes(48).toString('base64'), customerIdentifier, productCode,
      customerAwsAccountId: options.customerAwsAccountId ?? String(100_000_000_000 + Math.floor(Math.random() * 899_999_999_999)),
    };
    this.tokens.set(customer.registrationToken, { ...customer, issuedAt: this.opts.clock() });
    const notified = this.opts.notify(productCode, JSON.stringify({ action: 'subscribe-success', 'customer-identifier': customerIdentifier, 'product-code': productCode }));
    // The token is a bearer credential for the customer's registration: never printed.
    this.opts.log(`keygate local: AWS Marketplace: customer ${customerIdentifier} subscribed to ${productCode}${notified ? ' (subscribe-success published)' : ''}`);
    return { ...customer, notified };
  }

  handle(target: string, body: Buffer): LocalServiceResponse {
    try {
      if (target !== `${TARGET_PREFIX}ResolveCustomer`) {
        throw new LocalServiceError('UnknownOperationException', `keygate local's AWS Marketplace Metering Service serves ResolveCustomer only, not ${target.slice(TARGET_PREFIX.length)}`);
      }
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(this.resolve(body)) };
    } catch (e) {
      if (e instanceof LocalServiceError) return awsJsonError(e);
      throw e;
    }
  }

  private resolve(body: Buffer): Record<string, string> {
    let input: { RegistrationToken?: unknown };
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as typeof input;
    } catch {
      throw new LocalServiceError('SerializationException', 'The request body is not JSON');
    }
    const token = input.RegistrationToken;
    if (typeof token !== 'string' || token === '') {
      throw new LocalServiceError('ValidationException', "1 validation error detected: Value at 'registrationToken' failed to satisfy constraint: Member must not be null");
    }
    const found = this.tokens.get(token);
    if (!found) throw new LocalServiceError('InvalidTokenException', 'Registration token is invalid');
    if (this.opts.clock() > found.issuedAt + REGISTRATION_TOKEN_LIFETIME_MS) throw new LocalServiceError('ExpiredTokenException', 'Registration token is expired');
    return { CustomerIdentifier: found.customerIdentifier, ProductCode: found.productCode, CustomerAWSAccountId: found.customerAwsAccountId };
  }
}
