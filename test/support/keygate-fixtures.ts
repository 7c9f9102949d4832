import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Stack } from 'aws-cdk-lib';
import { KeyProtectedApi, KeyProtectedApiProps, Tier, TierOptions } from '../../lib';

/** A fresh app and stack with a fixed environment, so templates don't vary by machine. */
export function newStack(id = 'Stack'): { app: App; stack: Stack } {
  const app = new App();
  const stack = new Stack(app, id, { env: { account: '111111111111', region: 'eu-west-1' } });
  return { app, stack };
}

/** A Mock integration that answers 200 with a fixed body. */
export function mock(body = '{"ok":true}'): apigw.MockIntegration {
  return new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }],
  });
}

export interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly api: KeyProtectedApi;
  readonly tier: Tier;
}

/**
 * The smallest valid keygate app: one API with `GET /pets` (key required) and a tier that
 * covers its stage. Tests add what they look at.
 */
export function smallApi(props: KeyProtectedApiProps = {}, tier: TierOptions = { throttle: { rateLimit: 10, burstLimit: 20 } }): Fixture {
  const { app, stack } = newStack();
  const api = new KeyProtectedApi(stack, 'Api', props);
  api.addRoute('GET /pets', mock());
  return { app, stack, api, tier: api.addTier('Basic', tier) };
}
