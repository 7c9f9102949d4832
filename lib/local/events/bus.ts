/**
 * EventBridge's PutEvents on the default bus, for the app's jobs (the usage export's "Usage day
 * exported" events), served for the real `@aws-sdk/client-eventbridge` (JSON 1.1,
 * `X-Amz-Target: AWSEvents.PutEvents`). The events are kept in memory (the newest
 * MAX_KEPT_EVENTS) and logged as one summary line each; no rule on the local bus delivers them.
 */
import { LocalService } from '../services';
import { LocalServiceResponse } from '../service-error';
import { randomUUID } from 'crypto';

/** One event the bus received. */
export interface PutEvent {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
  readonly eventBusName: string;
  /** On the gateway's clock. */
  readonly time: number;
}

/** EventBridge's answers: the response type every local service shares. */
export type EventBusResponse = LocalServiceResponse;

export const MAX_KEPT_EVENTS = 1000;
/** PutEvents' limits: 10 entries a call, 256 KB in all. */
const MAX_ENTRIES = 10;
const MAX_BYTES = 262_144;

function jsonError(status: number, type: string, message: string): EventBusResponse {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type }, body: JSON.stringify({ __type: type, message }) };
}

export class LocalEventBus {
  /** Whether a request is for this slice (the one dispatch point for the gateway). */
  static accepts(headers: Record<string, string | string[] | undefined>): boolean {
    return String(headers['x-amz-target'] ?? '').startsWith('AWSEvents.');
  }

  private readonly kept: PutEvent[] = [];

  constructor(private readonly opts: { readonly clock: () => number; readonly accountId: string; readonly region: string; readonly log?: (line: string) => void }) {}

  /** The events received, oldest first. */
  get events(): readonly PutEvent[] {
    return this.kept;
  }

  /** This slice as a service of the gateway's registry (JSON 1.1, `X-Amz-Target: AWSEvents.*`). */
  asService(): LocalService {
    return {
      name: 'events',
      accepts: (req) => req.method === 'POST' && LocalEventBus.accepts(req.headers),
      handle: (req) => this.handle(String(req.headers['x-amz-target']), req.body),
    };
  }

  handle(target: string, body: Buffer): EventBusResponse {
    if (target !== 'AWSEvents.PutEvents') return jsonError(400, 'UnknownOperationException', `keygate local's EventBridge serves PutEvents only, not ${target.replace(/^AWSEvents\./, '')}`);
    if (body.length > MAX_BYTES) return jsonError(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
    let input: { Entries?: Record<string, unknown>[] };
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as typeof input;
    } catch {
      return jsonError(400, 'SerializationException', 'The request body is not JSON');
    }
    const entries = input.Entries ?? [];
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      return jsonError(400, 'ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`);
    }
    const out = entries.map((e) => this.putOne(e));
    return {
      status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ FailedEntryCount: out.filter((e) => 'ErrorCode' in e).length, Entries: out }),
    };
  }

  private putOne(e: Record<string, unknown>): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    const bus = typeof e.EventBusName === 'string' && e.EventBusName !== '' ? e.EventBusName : 'default';
    const defaultArn = `arn:aws:events:${this.opts.region}:${this.opts.accountId}:event-bus/default`;
    if (bus !== 'default' && bus !== defaultArn) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist (keygate local serves the default bus)` };
    if (typeof e.Source !== 'string' || !e.Source || typeof e.DetailType !== 'string' || !e.DetailType || typeof e.Detail !== 'string') {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source, DetailType and Detail are required' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(e.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    const event: PutEvent = { id: randomUUID(), source: e.Source, detailType: e.DetailType, detail, eventBusName: 'default', time: this.opts.clock() };
    this.kept.push(event);
    if (this.kept.length > MAX_KEPT_EVENTS) this.kept.shift();
    this.opts.log?.(`keygate local: EventBridge event ${event.source} "${event.detailType}"`);
    return { EventId: event.id };
  }
}
