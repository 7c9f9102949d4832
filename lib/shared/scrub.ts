/** Key values cut out of messages that leave keygate (CLI errors, CloudFormation responses, logs). */

/**
 * Key values look like this (keygate's are 40; API Gateway accepts 20–128 alphanumeric
 * characters), unless they are part of an ARN: a secret's ARN names the secret a refusal
 * points to (`…:secret:ApiClientsglobexSecret0411421F-…`), and cutting it would make it useless.
 * Likewise a CloudFormation logical id after the words "logical id" (from the key's
 * `aws:cloudformation:logical-id` tag, set by CloudFormation: never a key value).
 */
const VALUE_LIKE_OUTSIDE_ARNS = /(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:[^\s`'",;()]+|logical id [A-Za-z0-9]{1,255}\b)|[A-Za-z0-9]{20,128}/g;

/**
 * A message with key values cut out: the given `values` (wherever they are), and anything
 * outside an ARN that looks like one. Used on every error that leaves the CLI or the
 * reconciler (csv-parse quotes the record, ImportApiKeys quotes rows of the file).
 */
export function scrubKeyValues(message: string, values: readonly string[] = []): string {
  let out = message;
  for (const value of values) if (value) out = out.split(value).join('[value]');
  return out.replace(VALUE_LIKE_OUTSIDE_ARNS, (_match: string, kept: string | undefined) => kept ?? '[value]');
}
