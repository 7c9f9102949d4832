/** A small app with one rotating client and one stack-owned client, for the rotation tests. */
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Client, KeyProtectedApi, KeyRotation, KeyValue } from '../../lib';

export const PERIOD = Duration.days(90);
export const OVERLAP = Duration.days(7);

export interface RotationApp {
  readonly app: App;
  readonly stack: Stack;
  readonly api: KeyProtectedApi;
  readonly rotating: Client;
  readonly fixed: Client;
}

export function rotationApp(outdir?: string): RotationApp {
  const app = new App(outdir ? { outdir } : {});
  const stack = new Stack(app, 'RotationStack');
  const api = new KeyProtectedApi(stack, 'Api', { restApiName: 'rotation-test' });
  api.addRoute('GET /pets', new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': '{"pets":[]}' } }],
  }), { methodOptions: { methodResponses: [{ statusCode: '200' }] } });
  const basic = api.addTier('Basic', { throttle: { rateLimit: 100, burstLimit: 100 } });
  const premium = api.addTier('Premium', { throttle: { rateLimit: 100, burstLimit: 100 } });
  const rotating = api.addClient('globex', {
    tiers: [premium], keyValue: KeyValue.secretsManager(), tags: { team: 'partners' },
    rotation: KeyRotation.every(PERIOD, { overlap: OVERLAP }),
  });
  const fixed = api.addClient('acme', { tiers: [basic] });
  return { app, stack, api, rotating, fixed };
}
