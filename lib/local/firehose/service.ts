/**
 * The per-request stream as Firehose delivers it, for the app's access-log subscription
 * filters that target a delivery stream writing to one of its buckets: each access-log line
 * of a subscribed stage is buffered per stream and written to the local S3 as Firehose would
 * (gzip when the stream compresses, the `!{timestamp:…}` prefix expanded in UTC, Firehose's
 * object names) when the buffer reaches its size or its interval, whichever first, and
 * whatever is buffered when the gateway stops.
 */
import { randomUUID } from 'crypto';
import { gzipSync } from 'zlib';

/** One subscription filter → delivery stream → bucket, as the model builder found it. */
export interface FirehoseSeed {
  readonly streamName: string;
  /** The stages whose access log the filter reads (keygate's JSON format names apiId and stage). */
  readonly stages: { readonly apiId: string; readonly stage: string }[];
  readonly bucket: string;
  readonly prefix: string;
  readonly bufferMs: number;
  readonly bufferBytes: number;
  readonly gzip: boolean;
}

export interface LocalFirehoseOptions {
  readonly clock: () => number;
  readonly put: (bucket: string, key: string, body: Buffer) => void;
  readonly log?: (line: string) => void;
}

interface Buffered {
  lines: string[];
  bytes: number;
  firstAt: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `!{timestamp:yyyy-MM-dd}` (and the other Java date letters Firehose takes: HH, mm, ss) in UTC. */
export function expandPrefix(prefix: string, at: number): string {
  const d = new Date(at);
  return prefix.replace(/!\{timestamp:([^}]*)\}/g, (_m, fmt: string) => fmt
    .replace('yyyy', String(d.getUTCFullYear())).replace('MM', pad(d.getUTCMonth() + 1)).replace('dd', pad(d.getUTCDate()))
    .replace('HH', pad(d.getUTCHours())).replace('mm', pad(d.getUTCMinutes())).replace('ss', pad(d.getUTCSeconds())));
}

export class LocalFirehose {
  private readonly buffers = new Map<FirehoseSeed, Buffered>();
  /** Records delivered so far (for tests and tools). */
  delivered = 0;

  constructor(readonly seeds: readonly FirehoseSeed[], private readonly opts: LocalFirehoseOptions) {}

  /** Takes one access-log line (routed by its apiId and stage fields); delivers what is due. */
  record(line: string): void {
    let fields: { apiId?: unknown; stage?: unknown };
    try {
      fields = JSON.parse(line) as typeof fields;
    } catch {
      return;
    }
    const now = this.opts.clock();
    for (const seed of this.seeds) {
      if (!seed.stages.some((s) => s.apiId === fields.apiId && s.stage === fields.stage)) continue;
      const b = this.buffers.get(seed) ?? { lines: [], bytes: 0, firstAt: now };
      b.lines.push(line);
      b.bytes += Buffer.byteLength(line) + 1;
      this.buffers.set(seed, b);
    }
    this.flushDue();
  }

  /** Delivers every buffer whose size or interval is reached (on the gateway's clock). */
  flushDue(): void {
    const now = this.opts.clock();
    for (const [seed, b] of this.buffers) {
      if (b.bytes >= seed.bufferBytes || now - b.firstAt >= seed.bufferMs) this.deliver(seed, b, now);
    }
  }

  /** Delivers everything buffered (the gateway stops). */
  flushAll(): void {
    const now = this.opts.clock();
    for (const [seed, b] of this.buffers) this.deliver(seed, b, now);
  }

  private deliver(seed: FirehoseSeed, b: Buffered, now: number): void {
    this.buffers.delete(seed);
    if (b.lines.length === 0) return;
    const d = new Date(now);
    const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
    const key = `${expandPrefix(seed.prefix, now)}${seed.streamName}-1-${stamp}-${randomUUID()}${seed.gzip ? '.gz' : ''}`;
    const body = Buffer.from(b.lines.map((l) => `${l}\n`).join(''), 'utf8');
    try {
      this.opts.put(seed.bucket, key, seed.gzip ? gzipSync(body) : body);
      this.delivered += b.lines.length;
    } catch (e) {
      this.opts.log?.(`keygate local: Firehose ${seed.streamName} could not deliver ${b.lines.length} record(s): ${(e as Error).message}`);
    }
  }
}
