import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { KeygateError } from './errors';

/*
 * Rules on single values, one function per rule. Each throws a KeygateError that names the
 * construct path, the property and the bad value, and each skips unresolved tokens: a value
 * known only at deploy time is left for CloudFormation to check.
 */

import { API_KEY_VALUE_PATTERN } from './shared/constants';

export { API_KEY_VALUE_PATTERN, MAX_PLANS_PER_KEY } from './shared/constants';

/** Highest quota offset per period: days into the period at which it starts. */
const MAX_QUOTA_OFFSET: Record<string, number> = { DAY: 0, WEEK: 6, MONTH: 27 };

export function validateNonNegative(scope: IConstruct, property: string, value: number | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value < 0) {
    throw KeygateError.of(scope, property, 'must be a number >= 0', value);
  }
}

export function validateNonNegativeInteger(scope: IConstruct, property: string, value: number | undefined): void {
  validateNonNegative(scope, property, value);
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value)) {
    throw KeygateError.of(scope, property, 'must be a whole number', value);
  }
}

/** Throttle: rateLimit is a double (requests per second), burstLimit a whole number. */
export function validateThrottle(scope: IConstruct, property: string, throttle: apigw.ThrottleSettings | undefined): void {
  if (!throttle) return;
  validateNonNegative(scope, `${property}.rateLimit`, throttle.rateLimit);
  validateNonNegativeInteger(scope, `${property}.burstLimit`, throttle.burstLimit);
}

/** Quota: whole-number limit and offset; the offset must fall inside its period. */
export function validateQuota(scope: IConstruct, property: string, quota: apigw.QuotaSettings | undefined): void {
  if (!quota) return;
  validateNonNegativeInteger(scope, `${property}.limit`, quota.limit);
  validateNonNegativeInteger(scope, `${property}.offset`, quota.offset);
  if (quota.offset !== undefined && !Token.isUnresolved(quota.offset)) {
    if (quota.period === undefined) {
      throw KeygateError.of(scope, `${property}.offset`, 'needs a period (DAY, WEEK or MONTH) to count days into', quota.offset);
    }
    const max = MAX_QUOTA_OFFSET[quota.period];
    if (quota.offset > max) {
      throw KeygateError.of(scope, `${property}.offset`,
        quota.period === apigw.Period.DAY ? 'must be 0 for period DAY' : `must be between 0 and ${max} for period ${quota.period}`,
        quota.offset);
    }
  }
}

/** An explicit key value must be 20–128 alphanumeric characters. The value itself is never echoed. */
export function validateApiKeyValue(scope: IConstruct, property: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  if (!API_KEY_VALUE_PATTERN.test(value)) {
    const why = value.length < 20 || value.length > 128 ? `is ${value.length} characters long` : 'has a character that is not a letter or digit';
    // Say what is wrong without printing the secret.
    throw KeygateError.of(scope, property, `an API key value must be 20-128 alphanumeric characters; this one ${why}`);
  }
}

/**
 * CloudFormation resolves `ssm-secure` dynamic references only in a short list of resource
 * properties; AWS::ApiGateway::ApiKey `Value` is not among them, so the deploy would fail.
 * `resolved` is the key value as the stack resolves it (a string or an Fn::Join).
 */
export function validateKeyValueReference(scope: IConstruct, property: string, resolved: unknown): void {
  if (JSON.stringify(resolved ?? null).includes('{{resolve:ssm-secure:')) {
    throw KeygateError.of(scope, property,
      'CloudFormation does not resolve ssm-secure references in an ApiKey Value; keep the value in Secrets Manager (SecretValue.secretsManager) or use KeyValue.secretsManager()');
  }
}

/** Names that end up in an ApiKey or UsagePlan Name. */
export function validateName(scope: IConstruct, property: string, value: string | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (value.trim().length === 0 || value.length > 1024) {
    throw KeygateError.of(scope, property, 'must be 1-1024 characters and not blank', value);
  }
}

/** Stage names: letters, digits, hyphens and underscores, at most 128 (API Gateway's rule). */
export function validateStageName(scope: IConstruct, property: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(value)) {
    throw KeygateError.of(scope, property, 'a stage name has 1-128 letters, digits, hyphens or underscores', value);
  }
}

/** Key generations: at least one, whole numbers from 1, none twice. Shared with the bulk client set. */
export function validateGenerations(scope: IConstruct, generations: number[], property = 'generations'): void {
  if (generations.length === 0) throw KeygateError.of(scope, property, 'needs at least one generation', generations);
  for (const generation of generations) {
    if (!Number.isInteger(generation) || generation < 1) {
      throw KeygateError.of(scope, property, 'generations are whole numbers from 1', generation);
    }
  }
  if (new Set(generations).size !== generations.length) {
    throw KeygateError.of(scope, property, 'lists a generation twice', generations);
  }
}
