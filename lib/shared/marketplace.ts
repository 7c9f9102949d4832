/*
 * AWS Marketplace SaaS facts shared by the subscription handler, the developer portal's
 * Lambda and the local gateway's Marketplace slice (AWS Marketplace Seller Guide, "SaaS
 * customer onboarding" and "SaaS subscription notifications").
 */

/** The tag on keys made for an AWS Marketplace customer (its value: the customer identifier). */
export const MARKETPLACE_CUSTOMER_TAG = 'keygate:marketplace-customer';

/** The form field AWS Marketplace POSTs the buyer's registration token in, to the product's fulfillment URL. */
export const MARKETPLACE_TOKEN_FIELD = 'x-amzn-marketplace-token';

/** A registration token resolves to the same customer for 4 hours after it was issued. */
export const REGISTRATION_TOKEN_LIFETIME_MS = 4 * 3600_000;

/** A Marketplace customer identifier (API Gateway's key `customerId`). */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

/** The product code of AWS Marketplace's subscription topic (`arn:aws:sns:us-east-1:287250355862:aws-mp-subscription-notification-<product code>`), or undefined. */
export function marketplaceTopicProductCode(topicArn: string): string | undefined {
  return /^arn:aws[a-z-]*:sns:us-east-1:287250355862:aws-mp-subscription-notification-([A-Za-z0-9]+)$/.exec(topicArn)?.[1];
}
