/** JSON Schema of the local gateway's state file (checked with ajv before anything is loaded). */
import { API_KEY_VALUE_MAX_LENGTH, API_KEY_VALUE_MIN_LENGTH } from '../shared/constants';

export const STATE_VERSION = 1;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const timestamp = { type: 'number', minimum: 0 } as const;
const keyValue = { type: 'string', pattern: `^[A-Za-z0-9]{${API_KEY_VALUE_MIN_LENGTH},${API_KEY_VALUE_MAX_LENGTH}}$` } as const;
const id = { type: 'string', minLength: 1, maxLength: 128 } as const;

const throttle = {
  type: 'object',
  additionalProperties: false,
  properties: { rateLimit: { type: 'number', minimum: 0 }, burstLimit: { type: 'integer', minimum: 0 } },
} as const;

const secret = {
  type: 'object',
  required: ['arn', 'name', 'tags', 'created', 'fromTemplate', 'versions'],
  additionalProperties: false,
  properties: {
    arn: { type: 'string', pattern: '^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:.+$' },
    name: { type: 'string', minLength: 1, maxLength: 512 },
    description: { type: 'string' },
    tags: stringMap,
    created: timestamp,
    fromTemplate: { type: 'boolean' },
    rotationLambdaArn: { type: 'string' },
    scheduleExpression: { type: 'string' },
    lastRotated: timestamp,
    rotationCancelled: { type: 'boolean' },
    deletedDate: timestamp,
    deletionDate: timestamp,
    versions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'stages', 'created'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 64 },
          value: { type: 'string', maxLength: 65_536 },
          stages: { type: 'array', uniqueItems: true, maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 256 } },
          created: timestamp,
        },
      },
    },
  },
} as const;

const plan = {
  type: 'object',
  required: ['id', 'name', 'apiStages'],
  properties: {
    id,
    name: { type: 'string' },
    description: { type: 'string' },
    productCode: { type: 'string' },
    apiStages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['apiId', 'stage', 'throttle'],
        properties: { apiId: { type: 'string' }, stage: { type: 'string' }, throttle: { type: 'object', additionalProperties: throttle } },
      },
    },
    throttle,
    quota: {
      type: 'object',
      required: ['limit', 'offset', 'period'],
      properties: { limit: { type: 'integer', minimum: 0 }, offset: { type: 'integer', minimum: 0 }, period: { type: 'string', enum: ['DAY', 'WEEK', 'MONTH'] } },
    },
    tags: stringMap,
  },
} as const;

const b64url = { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } as const;

/** A local Cognito user: the password only as its scrypt salt (16 bytes) and hash (32 bytes). */
const cognitoUser = {
  type: 'object',
  required: ['sub', 'email', 'salt', 'hash', 'confirmed', 'groups'],
  additionalProperties: false,
  properties: {
    sub: { type: 'string', pattern: '^[0-9a-f-]{36}$' },
    email: { type: 'string', minLength: 3, maxLength: 256 },
    salt: { type: 'string', pattern: '^[A-Za-z0-9+/]{22}==$' },
    hash: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' },
    confirmed: { type: 'boolean' },
    code: { type: 'string', pattern: '^\\d{6}$' },
    groups: { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 128 } },
  },
} as const;

/** The local Cognito's signing key: an RSA private key as a JWK. */
const signingKey = {
  type: 'object',
  required: ['kid', 'privateJwk'],
  additionalProperties: false,
  properties: {
    kid: { type: 'string', minLength: 1, maxLength: 128 },
    privateJwk: {
      type: 'object',
      required: ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'],
      properties: { kty: { type: 'string', const: 'RSA' }, n: b64url, e: b64url, d: b64url, p: b64url, q: b64url, dp: b64url, dq: b64url, qi: b64url },
    },
  },
} as const;

export const STATE_SCHEMA = {
  type: 'object',
  required: ['version', 'keys'],
  properties: {
    version: { type: 'integer', const: STATE_VERSION },
    savedAt: { type: 'string' },
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'value', 'enabled', 'createdDate', 'lastUpdatedDate'],
        properties: {
          id,
          name: { type: 'string', maxLength: 1024 },
          description: { type: 'string' },
          value: keyValue,
          enabled: { type: 'boolean' },
          createdDate: timestamp,
          lastUpdatedDate: timestamp,
          customerId: { type: 'string' },
          stageKeys: { type: 'array', items: { type: 'string' } },
          tags: stringMap,
        },
      },
    },
    templateKeyIds: { type: 'array', items: id },
    plans: { type: 'array', items: plan },
    /** planId → the template's plan when saved (to tell a control-plane change from a template change). */
    templatePlans: { type: 'object', additionalProperties: { type: 'string' } },
    planKeys: { type: 'object', additionalProperties: { type: 'array', items: id } },
    usage: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          propertyNames: { pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          additionalProperties: { type: 'integer', minimum: 0 },
        },
      },
    },
    /** The custom resources CloudFormation created: the properties of their last event, their ids and Data. */
    customResources: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['type', 'serviceToken', 'properties', 'physicalResourceId', 'data'],
        additionalProperties: false,
        properties: {
          type: { type: 'string', minLength: 1 },
          stackId: { type: 'string', minLength: 1 },
          serviceToken: { type: 'string', minLength: 1 },
          properties: { type: 'object' },
          physicalResourceId: { type: 'string', minLength: 1 },
          data: { type: 'object' },
        },
      },
    },
    /** The local Secrets Manager's secrets with their versions (rotated values survive a restart). */
    secrets: { type: 'array', items: secret },
    /** Each scheduled job's last run by name (schedules continue across restarts). */
    schedules: { type: 'object', additionalProperties: timestamp },
    /** The local Cognito's users by user pool id, and its signing key. */
    cognito: {
      type: 'object',
      required: ['pools'],
      additionalProperties: false,
      properties: { signingKey, pools: { type: 'object', additionalProperties: { type: 'array', items: cognitoUser } } },
    },
    template: {
      type: 'object',
      properties: {
        keyValues: { type: 'object', additionalProperties: keyValue },
        secrets: stringMap,
        physicalIds: { type: 'object', additionalProperties: id },
      },
    },
  },
} as const;
