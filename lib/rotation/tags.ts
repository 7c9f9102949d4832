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
