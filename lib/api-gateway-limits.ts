/*
 * API Gateway's fixed facts about API keys, in one dependency-free module so that the
 * constructs, the local gateway and the ops CLI check the same rules (the CLI and the
 * gateway don't load aws-cdk-lib).
 */

/** An API key value: 20–128 alphanumeric characters. */
export const API_KEY_VALUE_PATTERN = /^[A-Za-z0-9]{20,128}$/;

/** Most usage plans one key can be in. */
export const MAX_PLANS_PER_KEY = 10;

/** Most API keys per account and region (not adjustable). */
export const MAX_API_KEYS = 10_000;

/** Longest API key name. */
export const MAX_API_KEY_NAME_LENGTH = 1024;

/**
 * API Gateway's documented control-plane rates (requests per second): CreateApiKey and
 * DeleteApiKey have their own, everything else without its own limit shares one.
 */
export const CONTROL_PLANE_RATES = { keyWrite: 5, shared: 10, sharedBurst: 40 } as const;
