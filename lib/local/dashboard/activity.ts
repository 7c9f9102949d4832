/**
 * What the dashboard remembers of the data plane's traffic: the latest requests in a
 * fixed-size ring (memory stays bounded however long the gateway runs) and, per key id,
 * the counts behind the top lists (requests, 429s, 403s), as CloudWatch Contributor
 * Insights ranks the access log by `apiKeyId`.
 */
import { RequestRecord } from '../apigateway/data-plane';

/** How many of the latest requests the feed keeps (and the page shows). */
export const FEED_CAPACITY = 50;

/** Counts of one contributor (a key id, or `''` for requests without one). */
export interface KeyCounts {
  requests: number;
  throttled: number;
  forbidden: number;
}

export type TopListMetric = keyof KeyCounts;

export interface Contributor {
  /** The key id; `''` for requests that carried no valid key (public routes, missing or invalid keys). */
  readonly apiKeyId: string;
  readonly count: number;
}

/** A ring buffer: keeps the last `capacity` items, overwriting the oldest. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private filled = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
  }

  get size(): number {
    return this.filled;
  }

  /** Up to `limit` items, newest first. */
  latest(limit = this.capacity): T[] {
    const out: T[] = [];
    for (let i = 1; i <= Math.min(limit, this.filled); i++) out.push(this.items[(this.next - i + this.capacity) % this.capacity] as T);
    return out;
  }
}

export class RequestActivity {
  readonly feed: Ring<RequestRecord>;
  /** Counts since the gateway started, by key id (bounded by the keys that ever existed: at most API Gateway's 10,000 per region plus `''`). */
  private readonly byKey = new Map<string, KeyCounts>();
  private total = 0;

  constructor(feedCapacity = FEED_CAPACITY) {
    this.feed = new Ring(feedCapacity);
  }

  record(r: RequestRecord): void {
    this.feed.push(r);
    this.total++;
    const id = r.apiKeyId ?? '';
    let c = this.byKey.get(id);
    if (!c) {
      c = { requests: 0, throttled: 0, forbidden: 0 };
      this.byKey.set(id, c);
    }
    c.requests++;
    if (r.status === 429) c.throttled++;
    if (r.status === 403) c.forbidden++;
  }

  /** Requests seen since the gateway started. */
  get requests(): number {
    return this.total;
  }

  /** The `limit` largest contributors of a metric (ties by key id, zeros left out). */
  top(metric: TopListMetric, limit = 10): Contributor[] {
    return [...this.byKey.entries()]
      .filter(([, c]) => c[metric] > 0)
      .map(([apiKeyId, c]) => ({ apiKeyId, count: c[metric] }))
      .sort((a, b) => b.count - a.count || a.apiKeyId.localeCompare(b.apiKeyId))
      .slice(0, limit);
  }
}
