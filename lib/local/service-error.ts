/**
 * What every emulated AWS service of the local gateway answers with: one response type, one
 * error type, and the error rendering of each AWS protocol the services speak (API Gateway's
 * REST-JSON, Secrets Manager's JSON 1.1, CloudWatch's JSON 1.0 in query-compatible mode, and
 * SNS's query protocol with XML answers).
 */

/** A JSON object of a request or an answer. */
export type Json = Record<string, unknown>;

/** An answer of an emulated service, ready for the wire. */
export interface LocalServiceResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Text for the JSON and XML protocols; bytes for S3's objects. */
  readonly body: string | Buffer;
  /** The Content-Length to send when it isn't the body's (S3's HEAD). */
  readonly contentLength?: number;
}

/** An AWS error of any emulated service: its error code (the exception type), message and HTTP status. */
export class LocalServiceError extends Error {
  /**
   * @param code the AWS error type, e.g. `NotFoundException` (`x-amzn-ErrorType`, `__type` or `<Code>`)
   * @param queryCode the AWS query protocol's code of a query-compatible JSON service (`x-amzn-query-error`), e.g. `InvalidParameterValue`
   */
  constructor(readonly code: string, message: string, readonly status = 400, readonly queryCode?: string) {
    super(message);
    this.name = code;
  }
}

/** API Gateway (REST-JSON): `x-amzn-ErrorType` and `{"message","__type"}`. */
export function restJsonError(e: LocalServiceError): LocalServiceResponse {
  return {
    status: e.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': e.code },
    body: JSON.stringify({ message: e.message, __type: e.code }),
  };
}

/** AWS JSON 1.1 (Secrets Manager): `x-amzn-ErrorType` and `{"__type","message"}`. */
export function awsJsonError(e: LocalServiceError): LocalServiceResponse {
  return {
    status: e.status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': e.code },
    body: JSON.stringify({ __type: e.code, message: e.message }),
  };
}

/** AWS JSON 1.0 in query-compatible mode (CloudWatch): the query code in `x-amzn-query-error`, a namespaced `__type`. */
export function queryCompatibleJsonError(e: LocalServiceError, namespace: string): LocalServiceResponse {
  return {
    status: e.status,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${e.queryCode ?? e.code};Sender` },
    body: JSON.stringify({ __type: `${namespace}#${e.code}`, message: e.message }),
  };
}

/** The AWS query protocol (SNS): an XML `<ErrorResponse>`. */
export function queryXmlError(e: LocalServiceError, xmlns: string, requestId: string): LocalServiceResponse {
  return {
    status: e.status, headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${xmlText(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/** Text escaped for an XML element or attribute. */
export function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
