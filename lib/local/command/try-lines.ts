/**
 * The "Try:" lines of `keygate local`'s start summary for a route that needs an API key:
 * lines that work when pasted into a shell. Without --show-values the key's value is not
 * printed, so the first line sets KEY from the control plane (no jq needed); the AWS CLI
 * alternative carries a region and placeholder credentials, which it needs even locally.
 */
export interface TryKey {
  readonly id: string;
  readonly value?: string;
}

/** The region the local gateway answers for; any works, the AWS CLI needs one. */
export const LOCAL_REGION = 'us-east-1';

/** The AWS CLI command that prints a key's value from the local control plane. */
export function awsGetKeyValueCommand(keyId: string, controlPlane: string): string {
  return `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws apigateway get-api-key --api-key ${keyId} --include-value `
    + `--query value --output text --region ${LOCAL_REGION} --endpoint-url ${controlPlane}`;
}

export function keyedTryLines(key: TryKey | undefined, url: string, controlPlane: string): string[] {
  if (!key) return [`  # no enabled key in a usage plan to call ${url} with: create one (keygate keys import, or the AWS SDK against ${controlPlane})`];
  if (key.value) return [`  curl -i -H "x-api-key: ${key.value}" '${url}'`];
  const endpoint = controlPlane.replace(/\/+$/, '');
  return [
    `  KEY=$(npx keygate keys show ${key.id} --show-value --json --endpoint ${endpoint} | node -p "JSON.parse(require('fs').readFileSync(0, 'utf8')).value")`,
    `  curl -i -H "x-api-key: $KEY" '${url}'`,
    '  # or set KEY with the AWS CLI (the local gateway takes any credentials; the CLI needs some, and a region):',
    `  #   KEY=$(${awsGetKeyValueCommand(key.id, endpoint)})`,
  ];
}
