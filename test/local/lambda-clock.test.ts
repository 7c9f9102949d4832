/** The app's Lambda functions run on the gateway's clock (`--clock`): `Date.now()`, `new Date()` and `Date()` follow it. */
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { App, Stack } from 'aws-cdk-lib';
import { startLocalGateway } from '../../lib/local';
import { tmpDir } from './fixtures';

const CLOCK_CODE = `
exports.handler = async () => ({
  statusCode: 200,
  body: JSON.stringify({ now: Date.now(), iso: new Date().toISOString(), text: Date(), parsed: new Date('2020-01-01T00:00:00Z').getTime(), isDate: new Date() instanceof Date }),
});`;

test("a Lambda integration sees the gateway's moved clock, and dates it is given stay as they are", async () => {
  // GIVEN an app whose function reports the time, served on a clock 400 days ahead
  const app = new App({ outdir: path.join(tmpDir('lambda-clock'), 'cdk.out') });
  const stack = new Stack(app, 'ClockStack');
  const api = new apigw.RestApi(stack, 'Api', { deployOptions: { stageName: 'v1' } });
  const fn = new lambda.Function(stack, 'ClockFn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline(CLOCK_CODE) });
  api.root.addResource('now').addMethod('GET', new apigw.LambdaIntegration(fn));
  const ahead = 400 * 86_400_000;
  const gw = await startLocalGateway({ assemblyDir: app.synth().directory, clock: () => Date.now() + ahead, log: () => undefined });
  try {
    // WHEN
    const before = Date.now() + ahead;
    const res = await fetch(`${gw.info.apis[0].stages[0].url}/now`);
    const seen = await res.json() as { now: number; iso: string; text: string; parsed: number; isDate: boolean };
    const after = Date.now() + ahead;

    // THEN
    expect(res.status).toBe(200);
    expect(seen.now).toBeGreaterThanOrEqual(before);
    expect(seen.now).toBeLessThanOrEqual(after);
    expect(Math.abs(Date.parse(seen.iso) - seen.now)).toBeLessThan(1000);
    expect(new Date(seen.text).getUTCFullYear()).toBe(new Date(seen.now).getUTCFullYear());
    expect(seen.parsed).toBe(Date.parse('2020-01-01T00:00:00Z'));
    expect(seen.isDate).toBe(true);
  } finally {
    await gw.close();
  }
});
