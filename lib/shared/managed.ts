// Defined beside the rotation's other tag names, which the rotation Lambda bundles.
import { TAG_ROTATION_SECRET } from './rotation-tags';
import { CLIENT_SET_DESCRIPTION_PREFIX, CLIENT_SET_TAG } from './constants';
import { TAG_PORTAL, TAG_PORTAL_CONSUMER } from './portal';

export { CLIENT_SET_DESCRIPTION_PREFIX, CLIENT_SET_TAG } from './constants';
export { TAG_ROTATION_SECRET } from './rotation-tags';

export type ManagedBy = 'cloudformation' | 'client-set' | 'rotation' | 'portal';

/** What manages the key: a CloudFormation stack, a keygate client set, a secret's rotation schedule, or nothing. */
export function managedBy(key: KeyLike): ManagedBy | undefined {
  const tags = key.tags ?? {};
  if (Object.keys(tags).some((t) => t.startsWith('aws:cloudformation:'))) return 'cloudformation';
  if (tags[TAG_ROTATION_SECRET] !== undefined) return 'rotation';
  if (tags[CLIENT_SET_TAG] !== undefined || (key.description ?? '').startsWith(CLIENT_SET_DESCRIPTION_PREFIX)) return 'client-set';
  if (tags[TAG_PORTAL] !== undefined) return 'portal';
  return undefined;
}

/** The parts of an API key (API Gateway's ApiKey, or any key shape) that say who manages it. */
export interface KeyLike {
  readonly tags?: Record<string, string>;
  readonly description?: string;
}

/** The secret whose rotation schedule owns the key (it creates, retires and deletes it), if any. */
export function rotationSecretOf(key: KeyLike): string | undefined {
  return key.tags?.[TAG_ROTATION_SECRET];
}

/**
 * Why a key is managed by infrastructure as code (a CloudFormation stack, keygate's bulk
 * client set, or a secret's rotation schedule), or undefined when it is not. Such keys must
 * not be changed out of band.
 */
export function managedKeyReason(key: KeyLike): string | undefined {
  const tags = key.tags ?? {};
  const stack = tags['aws:cloudformation:stack-name'];
  const cfn = Object.keys(tags).find((t) => t.startsWith('aws:cloudformation:'));
  if (cfn) {
    const logicalId = tags['aws:cloudformation:logical-id'];
    return `it belongs to the CloudFormation stack ${stack ?? '(unknown)'}${logicalId ? ` (logical id ${logicalId})` : ''}`;
  }
  const secret = rotationSecretOf(key);
  if (secret !== undefined) return `it belongs to the rotation schedule of the secret ${secret}`;
  if (tags[CLIENT_SET_TAG] !== undefined) return `it belongs to the keygate client set ${tags[CLIENT_SET_TAG]}`;
  if ((key.description ?? '').startsWith(CLIENT_SET_DESCRIPTION_PREFIX)) {
    const setId = /^\[keygate:client-set=([^\]\s]*)/.exec(key.description ?? '')?.[1];
    return `it belongs to the keygate client set ${setId ?? '(see its description)'}`;
  }
  if (tags[TAG_PORTAL] !== undefined) {
    return `it belongs to the keygate developer portal ${tags[TAG_PORTAL]} (consumer ${tags[TAG_PORTAL_CONSUMER] ?? 'unknown'}): the consumer rolls or cancels it in the portal`;
  }
  return undefined;
}

/** How to rotate a key that a secret's rotation schedule owns: through Secrets Manager, never out of band. */
export function rotateThroughSecretsManager(secretArn: string): string {
  return `Rotate it with \`aws secretsmanager rotate-secret --secret-id ${secretArn}\` instead: the schedule creates the successor, `
    + 'moves the secret to it and retires this key after the overlap.';
}

/** True when the key is managed by a CloudFormation stack, a keygate client set, a rotation schedule or a developer portal. */
export function isManagedKey(key: KeyLike): boolean {
  return managedKeyReason(key) !== undefined;
}
