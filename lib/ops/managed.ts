import type { ApiKey } from '@aws-sdk/client-api-gateway';
import { CLIENT_SET_DESCRIPTION_PREFIX, CLIENT_SET_TAG } from '../shared-constants';

export { CLIENT_SET_DESCRIPTION_PREFIX, CLIENT_SET_TAG } from '../shared-constants';

export type ManagedBy = 'cloudformation' | 'client-set';

/** What manages the key: a CloudFormation stack, a keygate client set, or nothing. */
export function managedBy(key: KeyLike): ManagedBy | undefined {
  const tags = key.tags ?? {};
  if (Object.keys(tags).some((t) => t.startsWith('aws:cloudformation:'))) return 'cloudformation';
  if (tags[CLIENT_SET_TAG] !== undefined || (key.description ?? '').startsWith(CLIENT_SET_DESCRIPTION_PREFIX)) return 'client-set';
  return undefined;
}

export type KeyLike = Pick<ApiKey, 'tags' | 'description'>;

/**
 * Why a key is managed by infrastructure as code (a CloudFormation stack or keygate's bulk
 * client set), or undefined when it is not. Such keys must not be changed out of band.
 */
export function managedKeyReason(key: KeyLike): string | undefined {
  const tags = key.tags ?? {};
  const stack = tags['aws:cloudformation:stack-name'];
  const cfn = Object.keys(tags).find((t) => t.startsWith('aws:cloudformation:'));
  if (cfn) {
    const logicalId = tags['aws:cloudformation:logical-id'];
    return `it belongs to the CloudFormation stack ${stack ?? '(unknown)'}${logicalId ? ` (logical id ${logicalId})` : ''}`;
  }
  if (tags[CLIENT_SET_TAG] !== undefined) return `it belongs to the keygate client set ${tags[CLIENT_SET_TAG]}`;
  if ((key.description ?? '').startsWith(CLIENT_SET_DESCRIPTION_PREFIX)) {
    const setId = /^\[keygate:client-set=([^\]\s]*)/.exec(key.description ?? '')?.[1];
    return `it belongs to the keygate client set ${setId ?? '(see its description)'}`;
  }
  return undefined;
}

/** True when the key is managed by a CloudFormation stack or by keygate's bulk client set. */
export function isManagedKey(key: KeyLike): boolean {
  return managedKeyReason(key) !== undefined;
}
