import * as apigw from 'aws-cdk-lib/aws-apigateway';

/**
 * Names of the access-log fields that keygate's metric filters and Contributor Insights rules
 * read. The local gateway writes the same format, so these hold there too.
 */
export const ACCESS_LOG_FIELDS = {
  apiId: 'apiId',
  stage: 'stage',
  apiKeyId: 'apiKeyId',
  ip: 'ip',
  status: 'status',
  errorResponseType: 'errorResponseType',
} as const;

/**
 * keygate's access log format, for stages you define yourself (keygate's own stages use it).
 */
export class KeygateAccessLogFormat {
  /**
   * One JSON object per request. It carries the API key id and the error message and
   * response type, so a 403 or 429 in the logs says which client hit it and why.
   * Every value is quoted: API Gateway writes `-` for a variable that has no value (the error
   * message of a successful request), so an unquoted variable would break the JSON of those
   * lines. The error message is API Gateway's own text (`Forbidden`, `Limit Exceeded`…).
   * Fields a caller controls and API Gateway doesn't escape (the user agent) are left out, so
   * every line stays valid JSON.
   */
  public static json(): apigw.AccessLogFormat {
    const quoted: Record<string, string> = {
      requestId: '$context.requestId',
      extendedRequestId: '$context.extendedRequestId',
      requestTime: '$context.requestTime',
      [ACCESS_LOG_FIELDS.apiId]: '$context.apiId',
      [ACCESS_LOG_FIELDS.ip]: '$context.identity.sourceIp',
      [ACCESS_LOG_FIELDS.apiKeyId]: '$context.identity.apiKeyId',
      [ACCESS_LOG_FIELDS.stage]: '$context.stage',
      httpMethod: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      path: '$context.path',
      protocol: '$context.protocol',
      [ACCESS_LOG_FIELDS.status]: '$context.status',
      responseLength: '$context.responseLength',
      responseLatency: '$context.responseLatency',
      integrationStatus: '$context.integration.status',
      integrationLatency: '$context.integration.latency',
      [ACCESS_LOG_FIELDS.errorResponseType]: '$context.error.responseType',
      errorMessage: '$context.error.message',
    };
    const fields = Object.entries(quoted).map(([name, value]) => `"${name}":"${value}"`);
    return apigw.AccessLogFormat.custom(`{${fields.join(',')}}`);
  }

  private constructor() {}
}
