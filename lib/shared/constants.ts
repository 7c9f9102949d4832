/*
 * The facts and names that the constructs, the local gateway, the ops CLI and the bulk
 * reconciler must agree on, in one dependency-free module (the CLI and the gateway don't load
 * aws-cdk-lib): API Gateway's rules for key values and quotas, the tags and markers keygate
 * writes on keys, and the one key-value generator.
 */
import { randomBytes } from 'crypto';

/** An API key value: 20–128 alphanumeric characters. */
export const API_KEY_VALUE_PATTERN = /^[A-Za-z0-9]{20,128}$/;

/** Shortest and longest API key value API Gateway accepts. */
export const API_KEY_VALUE_MIN_LENGTH = 20;
export const API_KEY_VALUE_MAX_LENGTH = 128;

/** Most usage plans one key can be in. */
export const MAX_PLANS_PER_KEY = 10;

/** Most API keys per account and region (not adjustable). */
export const MAX_API_KEYS = 10_000;

/** Longest API key description that API Gateway accepts (the local gateway refuses longer ones). */
export const MAX_API_KEY_DESCRIPTION_LENGTH = 125;

/** Longest API key name. */
export const MAX_API_KEY_NAME_LENGTH = 1024;

/**
 * API Gateway's documented control-plane rates (requests per second): CreateApiKey and
 * DeleteApiKey have their own, everything else without its own limit shares one.
 */
export const CONTROL_PLANE_RATES = { keyWrite: 5, shared: 10, sharedBurst: 40 } as const;

/**
 * Tags keygate writes on API keys. The rotation's state lives on the successor, written in
 * one CreateApiKey call: its predecessor's id and when the predecessor may be retired.
 */
export const TAG_ROTATION_OF = 'keygate:rotation-of';
/** On the successor: when the overlap ends (ISO 8601). */
export const TAG_RETIRE_AFTER = 'keygate:retire-predecessor-after';
export const TAG_GENERATION = 'keygate:generation';
/** The client a key belongs to (the name of its first generation), as the CDK constructs tag it. */
export const TAG_BASE_NAME = 'keygate:client';
/** A key whose value is kept in Secrets Manager names the secret with this tag. */
export const TAG_SECRET_ARN = 'keygate:secret-arn';

/** Tag that keygate's bulk client set puts on the keys it manages. */
export const CLIENT_SET_TAG = 'keygate:client-set';
/**
 * Description prefix that keygate's bulk client set puts on the keys it manages
 * (`[keygate:client-set=<setId>] …`; ImportApiKeys can't set tags, so the description carries it).
 */
export const CLIENT_SET_DESCRIPTION_PREFIX = '[keygate:client-set';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Bytes at or above this (4 × 62) are skipped, so every character is equally likely. */
const UNBIASED_BYTE_LIMIT = 248;

/** A random alphanumeric key value (40 characters by default, like API Gateway's), without modulo bias. */
export function generateKeyValue(length = 40): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes((length - out.length) * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      if (bytes[i] < UNBIASED_BYTE_LIMIT) out += KEY_ALPHABET[bytes[i] % KEY_ALPHABET.length];
    }
  }
  return out;
}
