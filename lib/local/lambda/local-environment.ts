/**
 * Once the gateway listens, every function of the app runs against it, whoever invokes it (an
 * API request, a schedule, a rotation): the AWS SDK's endpoint is the gateway (any
 * credentials: it checks that calls are signed, not by whom) and the SDK is on NODE_PATH, as
 * Lambda's runtime provides it. Environment values that hold an API's AWS stage URL
 * (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}…`) are pointed at the local
 * stage URL, so a function that hands out its API's address (the developer portal's reference
 * page) gives one that works here.
 */
import * as path from 'path';
import { Model } from '../apigateway/model';
import { sdkModulesDir } from './aws-invoker';

const EXECUTE_API_URL = /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com\/([^/]+)(\/.*)?$/;

export function pointLambdasAtGateway(model: Model, base: string): void {
  for (const fn of model.functions.values()) {
    const env = fn.environment;
    for (const [name, value] of Object.entries(env)) {
      const m = EXECUTE_API_URL.exec(value);
      if (m && model.apis.get(m[1])?.stages.has(m[2])) env[name] = `${base}/restapis/${m[1]}/${m[2]}/_user_request_${m[3] ?? '/'}`;
    }
    if (env.AWS_ENDPOINT_URL !== undefined) continue;
    Object.assign(env, {
      AWS_ENDPOINT_URL: base,
      AWS_ACCESS_KEY_ID: 'keygate-local', AWS_SECRET_ACCESS_KEY: 'keygate-local',
      NODE_PATH: [fn.codeDir, sdkModulesDir()].filter(Boolean).join(path.delimiter),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
  }
}
