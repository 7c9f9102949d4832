/**
 * The gateway's HTTP server on 127.0.0.1: reads a request (at most MAX_BODY_BYTES of body) and
 * hands it to the data plane (a stage's URL), the dashboard, or the registry of emulated AWS
 * services, behind the local-service guard.
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { Model } from '../apigateway/model';
import { DataPlaneHandler, DataPlaneResponse, MAX_BODY_BYTES } from '../apigateway/data-plane';
import { renderGatewayResponse } from '../apigateway/data-plane/gateway-responses';
import { Dashboard } from '../dashboard/dashboard';
import { guardLocalService } from '../request-guard';
import { LocalServiceError, LocalServiceResponse, restJsonError } from '../service-error';
import { LocalServiceRequest, ServiceRegistry } from '../services';
import { parseStagePath } from './info';
import { serveCognito } from '../cognito/serve';
import { LocalCognito } from '../cognito/service';
import { SNS_LINK_PREFIX } from '../sns/delivery';

export interface GatewayServerParts {
  readonly model: Model;
  readonly dataPlane: DataPlaneHandler;
  readonly dashboard: Dashboard;
  readonly services: ServiceRegistry;
  /** The local Cognito: its public operations are unsigned, as on AWS (see cognito/serve.ts). */
  readonly cognito: LocalCognito;
  readonly log: (line: string) => void;
  /** The port the server listens on (for the data plane's default Host). */
  readonly port: () => number;
  /** The local SNS's links (signing certificate, SubscribeURL, UnsubscribeURL): unsigned GETs under SNS_LINK_PREFIX. */
  readonly snsLinks?: { handleLink(path: string, query: string): LocalServiceResponse };
}

const EMPTY = Buffer.alloc(0);

/** A client that went away mid-body: nothing to answer, nothing to log. */
class AbortedUpload extends Error {}

export function createGatewayServer(parts: GatewayServerParts): http.Server {
  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => serve(parts, req, res));
  // `Expect: 100-continue` with a body over the limit: 413 at once, before the client sends it.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      tooLarge(parts.model, req, res);
      return;
    }
    res.writeContinue();
    serve(parts, req, res);
  });
  server.on('clientError', (err: Error, socket) => {
    const code = (err as NodeJS.ErrnoException).code;
    // A client that reset or closed the connection cannot be answered.
    if (code === 'ECONNRESET' || code === 'EPIPE' || !socket.writable) { socket.destroy(); return; }
    const headerOverflow = code === 'HPE_HEADER_OVERFLOW';
    const status = headerOverflow ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = headerOverflow ? '{"message":"Request Header Fields Too Large"}' : '{"message":"Bad Request"}';
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-amzn-requestid: ${randomUUID()}\r\nconnection: close\r\n\r\n${body}`);
  });
  server.keepAliveTimeout = 5_000;
  return server;
}

/** Listens on 127.0.0.1:`port` (0: a free one); the port it got. */
export async function listen(server: http.Server, port: number | undefined): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${port} on 127.0.0.1 is already in use: pass another --port, or --port 0 for a free one`);
    throw e;
  }
  return (server.address() as AddressInfo).port;
}

function serve(parts: GatewayServerParts, req: http.IncomingMessage, res: http.ServerResponse): void {
  handle(parts, req, res).catch((e: unknown) => {
    if (e instanceof AbortedUpload) { res.destroy(); return; }
    parts.log(`keygate local: internal error: ${(e as Error)?.stack ?? String(e)}`);
    if (!res.headersSent) {
      const body = '{"message":"Internal server error"}';
      res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), 'content-length': String(body.length) });
      res.end(body);
    } else res.destroy();
  });
}

function readBody(req: http.IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let complete = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) { over = true; chunks.length = 0; return; }
      if (!over) chunks.push(c);
    });
    req.on('end', () => { complete = true; resolve(over ? 'too-large' : Buffer.concat(chunks)); });
    req.on('error', () => reject(new AbortedUpload()));
    req.on('close', () => { if (!complete) reject(new AbortedUpload()); });
  });
}

/** 413 before or after reading the body: with a length, and the connection closed (the rest of the body is not read). */
function tooLarge(model: Model, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  const stagePath = parseStagePath(url.split('?')[0]);
  let out: LocalServiceResponse;
  if (stagePath) {
    out = renderGatewayResponse(model.apis.get(stagePath.apiId), 'REQUEST_TOO_LARGE', {
      context: { requestId: randomUUID(), apiId: stagePath.apiId, stage: stagePath.stage }, requestHeaders: {}, query: {}, pathParams: {}, stageVariables: {},
    });
  } else {
    out = restJsonError(new LocalServiceError('RequestTooLongException', 'Request Too Long', 413));
  }
  res.writeHead(out.status, { ...out.headers, 'x-amzn-requestid': randomUUID(), 'content-length': String(Buffer.byteLength(out.body)), connection: 'close' });
  res.end(out.body);
  res.once('finish', () => req.destroy());
}

function send(res: http.ServerResponse, method: string, out: DataPlaneResponse): void {
  // An explicit length lets Node send head and body in one write (no chunked encoding).
  out.headers['content-length'] = String(typeof out.body === 'string' ? Buffer.byteLength(out.body) : out.body.length);
  res.writeHead(out.status, out.headers);
  res.end(method === 'HEAD' ? undefined : out.body);
}

async function handle(parts: GatewayServerParts, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) { tooLarge(parts.model, req, res); return; }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const method = req.method ?? 'GET';
  // No body announced (GET, HEAD…): skip the stream entirely.
  const body = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined ? EMPTY : await readBody(req);
  if (body === 'too-large') { tooLarge(parts.model, req, res); return; }
  const stagePath = parseStagePath(path);
  if (stagePath) {
    const out = parts.dataPlane({
      apiId: stagePath.apiId, stage: stagePath.stage, rawPath: stagePath.rest, rawQuery: query, method, headers: req.headers, rawHeaders: req.rawHeaders, body,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1', host: req.headers.host ?? `127.0.0.1:${parts.port()}`,
    });
    send(res, method, out instanceof Promise ? await out : out);
    return;
  }
  if (Dashboard.owns(path)) return parts.dashboard.handle(req, res, path, query);
  const out = parts.snsLinks && (method === 'GET' || method === 'HEAD') && path.startsWith(SNS_LINK_PREFIX)
    ? parts.snsLinks.handleLink(path, query)
    : await serveCognito(parts.cognito, method, path, req.headers, body) ?? await serveAwsService(parts.services, { method, path, query, headers: req.headers, body });
  res.writeHead(out.status, { ...out.headers, 'x-amzn-requestid': randomUUID(), 'content-length': String(out.contentLength ?? Buffer.byteLength(out.body)) });
  res.end(method === 'HEAD' ? undefined : out.body);
}

/** The AWS services (API Gateway's control plane, the Secrets Manager, SNS and CloudWatch slices) answer only loopback, same-site, signed calls. */
async function serveAwsService(services: ServiceRegistry, req: LocalServiceRequest): Promise<LocalServiceResponse> {
  const refusal = guardLocalService(req.headers);
  if (refusal) return restJsonError(new LocalServiceError(refusal.type, refusal.message, refusal.status));
  const service = services.find(req);
  if (!service) return restJsonError(new LocalServiceError('UnknownOperationException', `keygate local serves no AWS service at ${req.method} ${req.path}`, 404));
  return service.handle(req);
}
