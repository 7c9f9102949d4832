/**
 * aws-cdk-lib's AwsCustomResource (`Custom::AWS`), run as AWS runs it: CloudFormation invokes
 * the construct's singleton Lambda function (its synthesized asset, the handler aws-cdk-lib
 * ships) with the event, the handler makes the declared AWS SDK v3 call and PUTs its answer
 * to the event's ResponseURL. Locally the function runs in the Lambda runner like every
 * function of the app (the SDK pointed at the gateway, any credentials), so the call reaches
 * the gateway's own slice of the service; the ResponseURL's placeholder host is routed to the
 * gateway's loopback listener (runner.ts). Only calls to services the gateway emulates run:
 * an AwsCustomResource that calls another service stays "not emulated", as before.
 */
import { LambdaFunction } from '../apigateway/model';
import { Obj } from './values';

/** The AwsCustomResource provider's SingletonFunction: `AWS` + its uuid (aws-cdk-lib `PROVIDER_FUNCTION_UUID`). */
const PROVIDER_LOGICAL_ID_PREFIX = 'AWS679f53fac002430cb0da5b7982bd2287';

/** The host of the ResponseURL the gateway gives custom resources it invokes directly (routed to loopback in the worker). */
export const LOCAL_RESPONSE_HOST = 'cloudformation-custom-resource-response.keygate.local';

/**
 * The services the gateway answers, by the name AwsCustomResource normalizes (`APIGateway`,
 * `@aws-sdk/client-api-gateway` → `apigateway`, hyphens and case dropped here).
 */
const EMULATED_SERVICES = new Set(['apigateway', 's3', 'sns', 'secretsmanager', 'cloudwatch', 'eventbridge', 'marketplacemetering']);

export function isAwsCustomResourceProvider(fn: LambdaFunction | undefined): boolean {
  return fn !== undefined && fn.logicalId.startsWith(PROVIDER_LOGICAL_ID_PREFIX) && fn.handler === 'index.handler' && fn.codeDir !== undefined;
}

function normalized(service: string): string {
  return service.toLowerCase().replace(/^@aws-sdk\/client-/, '').replace(/[^a-z0-9]/g, '');
}

/**
 * Why an AwsCustomResource cannot run locally (a call to a service the gateway does not
 * emulate), or undefined. Reads the `service` of its Create, Update and Delete calls in the
 * template (JSON strings, possibly joined with tokens).
 */
export function unemulatedCalls(properties: unknown): string | undefined {
  const text = JSON.stringify(properties ?? {});
  const services = [...text.matchAll(/\\"service\\":\\"([^\\"]+)\\"/g)].map((m) => m[1]);
  if (services.length === 0) return 'its calls name no service';
  const other = [...new Set(services.filter((s) => !EMULATED_SERVICES.has(normalized(s))))];
  return other.length ? `it calls ${other.join(', ')}, which keygate local does not emulate` : undefined;
}

/**
 * The event the function gets locally: the properties as declared, but the latest AWS SDK is
 * never installed (`InstallLatestAwsSdk` would run `npm install` on this machine); the SDK
 * Lambda's runtime provides is keygate's own.
 */
export function localEvent(event: Obj & { ResourceProperties: Obj }): Obj {
  const props = event.ResourceProperties;
  return props.InstallLatestAwsSdk === undefined ? event : { ...event, ResourceProperties: { ...props, InstallLatestAwsSdk: 'false' } };
}
