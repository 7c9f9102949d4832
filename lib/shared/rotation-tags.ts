/**
 * Names shared by the KeyRotation construct (which writes them) and the rotation Lambda
 * (which reads them). Kept free of the AWS SDK so constructs can import them.
 */

/** On a rotating client's secret: the ids of the usage plans its keys belong in, space separated (tag values allow no commas). */
export const SECRET_TAG_USAGE_PLANS = 'keygate:usage-plans';
/** On a rotating client's secret: how long a predecessor keeps working, in seconds. */
export const SECRET_TAG_OVERLAP_SECONDS = 'keygate:rotation-overlap-seconds';
/** On a key the rotation created: the ARN of the secret whose schedule owns it. */
export const TAG_ROTATION_SECRET = 'keygate:rotation-secret';
/** On a key the rotation created: the secret version (ClientRequestToken) whose value it holds. */
export const TAG_SECRET_VERSION = 'keygate:secret-version';
/** Length of the values the rotation generates (API Gateway accepts 20–128 alphanumerics). */
export const ROTATION_KEY_LENGTH = 40;

/*
 * Rotating client sets: the set's reconciler creates one secret per client at deploy time,
 * named `keygate/<setId>/<client>`, and tags it with the set's id and its owner resource so it
 * only ever changes its own secrets. The rotation Lambda reads the same rotation tags as above.
 */

/** First part of the name of every secret a rotating client set creates. */
export const CLIENT_SET_SECRET_NAME_PREFIX = 'keygate/';
/** On a client set's secret: the custom resource that owns it (8 hex characters, like the key markers' owner). */
export const SECRET_TAG_SET_OWNER = 'keygate:client-set-owner';
/** On an adopted client set's secret: the resource it was adopted from, until that resource's Delete confirms the move. */
export const SECRET_TAG_SET_ADOPTED_FROM = 'keygate:client-set-from';
/** On a retired client's secret (removed from its set): the request that retired it. */
export const SECRET_TAG_SET_RETIRED = 'keygate:client-set-retired';
/** Days a deleted client set secret can still be restored (Secrets Manager's shortest recovery window). */
export const CLIENT_SET_SECRET_RECOVERY_DAYS = 7;
/** Characters of a secret name (Secrets Manager's rule; names are at most 512 characters). */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** Longest secret tag value. */
export const MAX_SECRET_TAG_VALUE_LENGTH = 256;

/** `keygate/<setId>/`: the name prefix of a set's secrets (the retire run lists them by it). */
export function clientSetSecretPrefix(setId: string): string {
  return `${CLIENT_SET_SECRET_NAME_PREFIX}${setId}/`;
}

/** The name of the secret that holds the key of `clientName` in the rotating set `setId`. */
export function clientSetSecretName(setId: string, clientName: string): string {
  return `${clientSetSecretPrefix(setId)}${clientName}`;
}
