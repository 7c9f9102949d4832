import * as apigw from 'aws-cdk-lib/aws-apigateway';

/**
 * keygate's JSON bodies for the responses a key-protected API gives most often. `message`
 * keeps API Gateway's own text, so clients that match on it keep working; `error` names
 * the response type, `detail` says what to do and `requestId` ties the answer to the
 * access log line.
 */
export function defaultGatewayResponses(apiKeySource: apigw.ApiKeySourceType): apigw.GatewayResponseOptions[] {
  const keyHint = apiKeySource === apigw.ApiKeySourceType.AUTHORIZER
    ? 'The authorizer returned no usageIdentifierKey, or a key that is unknown, disabled or in no usage plan for this stage.'
    : 'Send a valid, enabled API key in the x-api-key header; the key must be in a usage plan for this stage.';
  return [
    response(apigw.ResponseType.INVALID_API_KEY, '403', 'Forbidden', keyHint),
    response(apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, '403', 'Missing Authentication Token',
      'No route matches this method and path.'),
    response(apigw.ResponseType.THROTTLED, '429', 'Too Many Requests',
      'Request rate above the throttle of your usage plan or of this stage. Retry with exponential backoff.', { 'Retry-After': "'1'" }),
    response(apigw.ResponseType.QUOTA_EXCEEDED, '429', 'Limit Exceeded',
      'The request quota of your usage plan is used up for the current period.'),
  ];
}

function response(type: apigw.ResponseType, statusCode: string, message: string, detail: string,
  extraHeaders: Record<string, string> = {}): apigw.GatewayResponseOptions {
  const body = `{"message":"${message}","error":"${type.responseType}","detail":"${detail}","requestId":"$context.requestId"}`;
  return {
    type,
    statusCode,
    responseHeaders: { 'Content-Type': "'application/json'", ...extraHeaders },
    templates: { 'application/json': body },
  };
}
