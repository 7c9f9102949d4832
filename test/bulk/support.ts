import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, AppProps, Stack } from 'aws-cdk-lib';
import { ClientSetEntry, KeyProtectedApi, Tier } from '../../lib';
import { exampleClients } from '../../examples/bulk/bulk-stack';

export interface BulkFixture {
  readonly app: App;
  readonly stack: Stack;
  readonly api: KeyProtectedApi;
  readonly free: Tier;
  readonly pro: Tier;
  readonly enterprise: Tier;
}

/** A stack with an API (two routes) and three tiers, ready for a client set. */
export function bulkFixture(stackName = 'Bulk', appProps: AppProps = {}): BulkFixture {
  const app = new App(appProps);
  const stack = new Stack(app, stackName);
  const api = new KeyProtectedApi(stack, 'Api');
  const integration = new apigw.MockIntegration({ requestTemplates: { 'application/json': '{"statusCode": 200}' }, integrationResponses: [{ statusCode: '200' }] });
  api.addRoute('GET /items', integration, { methodOptions: { methodResponses: [{ statusCode: '200' }] } });
  api.addRoute('GET /health', integration, { apiKeyRequired: false, methodOptions: { methodResponses: [{ statusCode: '200' }] } });
  const free = api.addTier('Free', { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 100, period: apigw.Period.DAY } });
  const pro = api.addTier('Pro', { throttle: { rateLimit: 10, burstLimit: 20 } });
  const enterprise = api.addTier('Enterprise', { throttle: { rateLimit: 100, burstLimit: 200 } });
  return { app, stack, api, free, pro, enterprise };
}

/** `n` deterministic clients: the bulk example's. */
export function generatedClients(n: number): ClientSetEntry[] {
  return exampleClients(n);
}
