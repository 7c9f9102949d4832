/*
 * The benchmark's three ways to declare the same API: by hand with plain aws-cdk-lib, with
 * keygate single clients, and with a keygate bulk client set. Same routes, stage settings,
 * gateway responses, three usage plans and N clients with the same names and tiers.
 */
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { App, Stack } from 'aws-cdk-lib';

export type BenchKind = 'plain' | 'single' | 'bulk';

/** The example's clients: names and tier names (70 % Free, 25 % Pro, 5 % Enterprise). */
function clientsOf(n: number): Array<{ name: string; tier: string; enabled: boolean }> {
  return Array.from({ length: n }, (_, i) => ({
    name: `customer-${String(i + 1).padStart(5, '0')}`,
    tier: i % 20 === 0 ? 'Enterprise' : i % 4 === 1 ? 'Pro' : 'Free',
    enabled: i % 97 !== 96,
  }));
}

/** Plain aws-cdk-lib: RestApi, UsagePlan, ApiKey and UsagePlanKey written by hand. */
export function plainStack(app: App, n: number): Stack {
  const stack = new Stack(app, 'Bench');
  const accessLogs = new logs.LogGroup(stack, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS });
  const api = new apigw.RestApi(stack, 'Api', {
    restApiName: 'keygate-bulk-example',
    apiKeySourceType: apigw.ApiKeySourceType.HEADER,
    endpointTypes: [apigw.EndpointType.REGIONAL],
    cloudWatchRole: true,
    deployOptions: {
      stageName: 'prod',
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: true,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
    },
  });
  for (const [type, status, message] of [
    [apigw.ResponseType.INVALID_API_KEY, '403', 'Forbidden'],
    [apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, '403', 'Missing Authentication Token'],
    [apigw.ResponseType.THROTTLED, '429', 'Too Many Requests'],
    [apigw.ResponseType.QUOTA_EXCEEDED, '429', 'Limit Exceeded'],
  ] as const) {
    api.addGatewayResponse(`Response${type.responseType}`, {
      type, statusCode: status,
      responseHeaders: { 'Content-Type': "'application/json'" },
      templates: { 'application/json': `{"message":"${message}","requestId":"$context.requestId"}` },
    });
  }
  const ok = (body: string) => new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }],
  });
  const methodResponses = [{ statusCode: '200' }];
  api.root.addResource('health').addMethod('GET', ok('{"status":"ok"}'), { methodResponses });
  const reports = api.root.addResource('reports');
  reports.addMethod('GET', ok('{"reports":[]}'), { apiKeyRequired: true, methodResponses });
  reports.addMethod('POST', ok('{"created":true}'), { apiKeyRequired: true, methodResponses });

  const apiStages = [{ api, stage: api.deploymentStage }];
  const plans: Record<string, apigw.UsagePlan> = {
    Free: new apigw.UsagePlan(stack, 'Free', { name: 'Free', apiStages, throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 1_000, period: apigw.Period.DAY } }),
    Pro: new apigw.UsagePlan(stack, 'Pro', { name: 'Pro', apiStages, throttle: { rateLimit: 20, burstLimit: 40 }, quota: { limit: 100_000, period: apigw.Period.MONTH } }),
    Enterprise: new apigw.UsagePlan(stack, 'Enterprise', { name: 'Enterprise', apiStages, throttle: { rateLimit: 200, burstLimit: 400 } }),
  };
  // CreateUsagePlanKey runs one at a time per region: chain the associations.
  let previous: apigw.CfnUsagePlanKey | undefined;
  for (const client of clientsOf(n)) {
    const key = new apigw.ApiKey(stack, `Key-${client.name}`, { apiKeyName: client.name, enabled: client.enabled });
    const association = new apigw.CfnUsagePlanKey(stack, `Assoc-${client.name}`, {
      keyId: key.keyId, keyType: 'API_KEY', usagePlanId: plans[client.tier].usagePlanId,
    });
    if (previous) association.node.addDependency(previous);
    previous = association;
  }
  return stack;
}

/** keygate with one Client construct per client. */
export function singleStack(app: App, n: number): Stack {
  // Loaded here so that the plain case loads no keygate code.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { addExampleApi } = require('../examples/bulk/bulk-stack') as typeof import('../examples/bulk/bulk-stack');
  const stack = new Stack(app, 'Bench');
  const { api, tiers } = addExampleApi(stack, 'Api');
  const byName = new Map(tiers.map((tier) => [tier.tierName, tier]));
  for (const client of clientsOf(n)) {
    api.addClient(client.name, { tiers: [byName.get(client.tier)!], enabled: client.enabled });
  }
  return stack;
}

/** keygate with one bulk client set (the example app's stack). */
export function bulkStack(app: App, n: number): Stack {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { BulkStack } = require('../examples/bulk/bulk-stack') as typeof import('../examples/bulk/bulk-stack');
  return new BulkStack(app, 'Bench', { clients: n });
}

export const STACKS: Record<BenchKind, (app: App, n: number) => Stack> = { plain: plainStack, single: singleStack, bulk: bulkStack };
