/**
 * The AWS services the local gateway emulates beside the APIs' stages, by how each recognises
 * its requests: every service registers itself (a test on the request: an `X-Amz-Target`
 * prefix, the SigV4 service name, a path) with its handler, and the gateway asks the registry
 * which one answers. The first service that accepts a request, in registration order, serves it.
 */
import { IncomingHttpHeaders } from 'http';
import { LocalServiceResponse } from './service-error';

/** A request for an emulated service, as the gateway read it. */
export interface LocalServiceRequest {
  readonly method: string;
  /** Raw path, without the query. */
  readonly path: string;
  /** Raw query string, without `?`. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One emulated service: how it recognises its requests, and how it answers them. */
export interface LocalService {
  readonly name: string;
  accepts(req: LocalServiceRequest): boolean;
  handle(req: LocalServiceRequest): LocalServiceResponse | Promise<LocalServiceResponse>;
}

/** Whether a request is SigV4-signed for `service` (the `Credential=…/date/region/SERVICE/aws4_request` scope): the REST and query protocols' dispatch. */
export function signedFor(headers: IncomingHttpHeaders, service: string): boolean {
  const auth = headers.authorization;
  return typeof auth === 'string' && /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)?.[1] === service;
}

/** The `X-Amz-Target` header of a request, if it starts with `prefix` (the JSON protocols' dispatch). */
export function amzTarget(req: LocalServiceRequest, prefix: string): string | undefined {
  const target = req.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith(prefix) ? target : undefined;
}

export class ServiceRegistry {
  private readonly services: LocalService[] = [];

  register(service: LocalService): this {
    this.services.push(service);
    return this;
  }

  /** The service that answers a request, if any. */
  find(req: LocalServiceRequest): LocalService | undefined {
    return this.services.find((s) => s.accepts(req));
  }
}
