import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Duration, Stack } from 'aws-cdk-lib';
import { ExpectedResult, IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { Construct } from 'constructs';

/*
 * Why a probe: integ-tests-alpha's assertion handler logs every SDK response and every HTTP
 * request it makes, headers included. A key read with awsApiCall('APIGateway', 'getApiKey') or
 * sent with httpApiCall would end up in CloudWatch Logs and in a CloudFormation response. The
 * probe reads the key where keygate keeps it (Secrets Manager, or GetApiKey by id or by name),
 * calls the API with it and returns two booleans, so the value never leaves the function.
 */
const PROBE_SOURCE = `
const { APIGatewayClient, GetApiKeyCommand, GetApiKeysCommand } = require('@aws-sdk/client-api-gateway');
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
async function readKey(e) {
  if (e.secretId) return (await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: e.secretId }))).SecretString;
  const apigw = new APIGatewayClient({});
  if (e.keyId) return (await apigw.send(new GetApiKeyCommand({ apiKey: e.keyId, includeValue: true }))).value;
  const page = await apigw.send(new GetApiKeysCommand({ nameQuery: e.keyName, includeValues: true, limit: 500 }));
  const key = (page.items || []).find((k) => k.name === e.keyName);
  if (!key) throw new Error('no API key named ' + e.keyName);
  return key.value;
}
exports.handler = async (e) => {
  const key = await readKey(e);
  const headers = e.authorizationPrefix ? { authorization: e.authorizationPrefix + key } : { 'x-api-key': key };
  const calls = Array.from({ length: e.requests }, () => fetch(e.url, { headers }).then((r) => r.status, () => 0));
  const statuses = await Promise.all(calls);
  return { succeeded: statuses.includes(200), throttled: statuses.includes(429) };
};
`;

/** Where the probe finds the key of one client. */
export interface KeySource {
  /** A client's secret (KeyValue.secretsManager()). */
  readonly secretId?: string;
  /** The id of the client's API key. */
  readonly keyId?: string;
  /** The name of the API key (a client set's keys). */
  readonly keyName?: string;
}

export interface ProbeCall {
  /** The URL to call with the key. */
  readonly url: string;
  readonly key: KeySource;
  /** How many calls to make at once: 1 for a plain call, more for a burst. */
  readonly requests: number;
  /** Send the key as `Authorization: <prefix><key>` (an authorizer's usageIdentifierKey) instead of x-api-key. */
  readonly authorizationPrefix?: string;
}

/** A Lambda function in the stack under test that calls the API with a client's key. */
export class KeyProbe extends Construct {
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(PROBE_SOURCE),
      timeout: Duration.seconds(30),
      description: 'keygate integ test: calls the API with a client key, returns status flags only',
    });
    // The probe reads keys by id or name: GetApiKey(s) on the region's keys.
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['apigateway:GET'],
      resources: [Stack.of(this).formatArn({ service: 'apigateway', account: '', resource: '/apikeys' }), Stack.of(this).formatArn({ service: 'apigateway', account: '', resource: '/apikeys/*' })],
    }));
  }

  /**
   * Calls the API through the probe and expects `succeeded` (some call answered 200) and
   * `throttled` (some call answered 429), retrying while keys and plans propagate.
   */
  public expect(integ: IntegTest, call: ProbeCall, expected: { succeeded: boolean; throttled: boolean }): IApiCall {
    const invoke = integ.assertions.invokeFunction({
      functionName: this.function.functionName,
      payload: Stack.of(this).toJsonString({ url: call.url, requests: call.requests, authorizationPrefix: call.authorizationPrefix, ...call.key }),
    });
    invoke.expect(ExpectedResult.objectLike({ Payload: Match.serializedJson(expected) }));
    // A new key takes a while to reach API Gateway's data plane.
    invoke.waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(20) });
    return invoke;
  }
}

/** Deploy, assert and destroy without the update workflow (there is no earlier deployment to update). */
export const INTEG_OPTIONS = {
  stackUpdateWorkflow: false,
  cdkCommandOptions: { destroy: { args: { force: true } } },
  diffAssets: false,
};
