/** The app the local-gateway benchmark serves: one key-protected MOCK route in a usage plan. */
import { App, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';

import { BENCH_BODY, BENCH_KEY } from './local-constants';

export { BENCH_BODY, BENCH_KEY };

/** Synthesizes the benchmark app into `outdir`. */
export function synthBenchApp(outdir: string): void {
  const app = new App({ outdir });
  const stack = new Stack(app, 'BenchStack');
  const api = new apigw.RestApi(stack, 'Api', { restApiName: 'bench', deployOptions: { stageName: 'prod' } });
  api.root.addResource('pets').addMethod('GET', new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': BENCH_BODY } }],
  }), { apiKeyRequired: true, methodResponses: [{ statusCode: '200' }] });
  // Limits far above what one machine can send, so every request takes the full path (key, plan, buckets, quota count).
  const plan = api.addUsagePlan('Plan', {
    name: 'bench', throttle: { rateLimit: 1_000_000, burstLimit: 1_000_000 }, quota: { limit: 2_000_000_000, period: apigw.Period.MONTH },
    apiStages: [{ api, stage: api.deploymentStage }],
  });
  plan.addApiKey(api.addApiKey('Key', { apiKeyName: 'bench-client', value: BENCH_KEY }));
  app.synth();
}
