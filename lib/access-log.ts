import * as apigw from 'aws-cdk-lib/aws-apigateway';

/**
 * One JSON object per request. It carries the API key id and the error message and
 * response type, so a 403 or 429 in the logs says which client hit it and why.
 * `$context.error.messageString` is already quoted by API Gateway, so it is not quoted here.
 * Fields a caller controls and API Gateway doesn't escape (the user agent) are left out, so
 * every line stays valid JSON.
 */
export function keygateAccessLogFormat(): apigw.AccessLogFormat {
  const quoted: Record<string, string> = {
    requestId: '$context.requestId',
    extendedRequestId: '$context.extendedRequestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    apiKeyId: '$context.identity.apiKeyId',
    stage: '$context.stage',
    httpMethod: '$context.httpMethod',
    resourcePath: '$context.resourcePath',
    path: '$context.path',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationStatus: '$context.integration.status',
    integrationLatency: '$context.integration.latency',
    errorResponseType: '$context.error.responseType',
  };
  const fields = Object.entries(quoted).map(([name, value]) => `"${name}":"${value}"`);
  fields.push('"errorMessage":$context.error.messageString');
  return apigw.AccessLogFormat.custom(`{${fields.join(',')}}`);
}

/**
 * keygate's access log format, for stages you define yourself (keygate's own stages use it).
 */
export class KeygateAccessLogFormat {
  /**
   * One JSON object per request, with the API key id, the error message and the response
   * type, so a 403 or 429 in the logs says which client hit it and why.
   */
  public static json(): apigw.AccessLogFormat {
    return keygateAccessLogFormat();
  }

  private constructor() {}
}
