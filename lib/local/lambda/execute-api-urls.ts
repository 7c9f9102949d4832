/**
 * Lambda environment values that hold an API's AWS stage URL
 * (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}…`) are pointed at the local
 * gateway's stage URL once it listens, so a function that hands out its API's address (the
 * developer portal's reference page) gives one that works locally.
 */
import { Model } from '../apigateway/model';

export function pointExecuteApiUrlsAtGateway(model: Model, base: string): void {
  const re = /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com\/([^/]+)(\/.*)?$/;
  for (const fn of model.functions.values()) {
    for (const [name, value] of Object.entries(fn.environment)) {
      const m = re.exec(value);
      if (m && model.apis.get(m[1])?.stages.has(m[2])) fn.environment[name] = `${base}/restapis/${m[1]}/${m[2]}/_user_request_${m[3] ?? '/'}`;
    }
  }
}
