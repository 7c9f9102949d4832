// Defined beside the rotation's other tag names, which the rotation Lambda bundles.
import { TAG_ROTATION_SECRET } from './rotation-tags';
import { CLIENT_SET_DESCRIPTION_PREFIX, CLIENT_SET_TAG } from './constants';
import { TAG_PORTAL, TAG_PORTAL_CONSUMER, TAG_PORTAL_EMAIL } from './portal';

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

/**
 * The developer portal that owns the key, if any. Its rules (the key's lifetime, idle keys,
 * the retirement of rolled keys) are applied by the portal's own job, which also records why in
 * the subscription's status; keygate's general expiry and hygiene jobs leave such a key to it.
 */
export function portalOf(key: KeyLike): string | undefined {
  return key.tags?.[TAG_PORTAL];
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
  if (tags[TAG_PORTAL] !== undefined) return `it belongs to the keygate developer portal ${tags[TAG_PORTAL]} (${portalConsumerOf(key)})`;
  return undefined;
}

/** The consumer a portal's key belongs to, for people: `consumer <e-mail>, sub <sub>`. */
function portalConsumerOf(key: KeyLike): string {
  const tags = key.tags ?? {};
  const email = tags[TAG_PORTAL_EMAIL];
  return `consumer ${email ? `${email}, sub ` : ''}${tags[TAG_PORTAL_CONSUMER] ?? 'unknown'}`;
}

/**
 * Who changes a developer portal's key, and where: the consumer in the portal (roll, cancel),
 * an admin on the portal's admin page (disable, re-enable the consumer). The portal keeps the
 * subscription's state in the key's tags, so a change made elsewhere leaves that state wrong.
 */
export function portalKeyAdvice(action: 'rotating' | 'retiring' | 'change'): string {
  const admin = 'an admin disables or re-enables the consumer on the portal\'s admin page (Consumers).';
  if (action === 'rotating') return `The consumer rolls it in the portal (the old key keeps working for the portal's overlap, then the portal retires it) or cancels it there; ${admin}`;
  if (action === 'retiring') return `The portal retires a rolled key's predecessor itself once the overlap ends; the consumer cancels the subscription in the portal; ${admin}`;
  return `The consumer rolls or cancels it in the portal; ${admin}`;
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
