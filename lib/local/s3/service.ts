/**
 * A small slice of Amazon S3 for the app's jobs (the usage export) and for users reading their
 * results with the real `@aws-sdk/client-s3` (`forcePathStyle: true`, the gateway's URL as the
 * endpoint): PutObject, GetObject, HeadObject, ListObjectsV2 and DeleteObject, REST-XML,
 * path-style (`/bucket/key`). The app's buckets (AWS::S3::Bucket) exist from the start. With a
 * state folder the objects are files at `<folder>/<bucket>/<key>` (so DuckDB or any tool can
 * read them where they are) and their metadata sits in `<folder>/.index.json`.
 */
import { IncomingHttpHeaders } from 'http';
import { LocalService, signedFor } from '../services';
import { LocalServiceResponse, xmlText } from '../service-error';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface S3Request {
  readonly method: string;
  /** The raw path, `/bucket/key…` (percent-encoded). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** S3's answers: the response type every local service shares (bodies may be bytes; HEAD sends a Content-Length without a body). */
export type S3Response = LocalServiceResponse;

interface ObjectMeta {
  readonly etag: string;
  readonly size: number;
  readonly lastModified: number;
  readonly contentType?: string;
  readonly contentEncoding?: string;
}

export interface LocalS3Options {
  readonly clock: () => number;
  /** Keeps the objects in this folder across restarts. Default: in memory only. */
  readonly dir?: string;
  /**
   * The assembly's file assets, as CDK's bootstrap bucket serves them once deployed (e.g. a
   * client set's manifest, which its reconciler reads): GetObject of a bucket that isn't one of
   * the app's looks the key up here. Default: none.
   */
  readonly assets?: (key: string) => Buffer | undefined;
}

class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_KEYS = 1000;

/** A header's single value. */
function header(headers: S3Request['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The payload of an `aws-chunked` upload (what the SDK sends for streamed bodies): chunks of
 * `hex-size[;chunk-signature=…]\r\n<data>\r\n`, a zero-size chunk, then optional trailers.
 */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) throw new S3Error(400, 'IncompleteBody', 'The aws-chunked body ended before its last chunk');
    const size = parseInt(body.subarray(at, eol).toString('latin1').split(';')[0], 16);
    if (!Number.isFinite(size) || size < 0) throw new S3Error(400, 'InvalidRequest', 'Malformed aws-chunked chunk header');
    if (size === 0) return Buffer.concat(parts);
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

export class LocalS3 {
  /** Whether a request is for this slice: signed for the `s3` service (the one dispatch point for the gateway). */
  static accepts(headers: IncomingHttpHeaders): boolean {
    return signedFor(headers, 's3');
  }

  private readonly buckets = new Map<string, Map<string, ObjectMeta>>();
  private readonly bodies = new Map<string, Buffer>();
  private assets?: (key: string) => Buffer | undefined;

  constructor(bucketNames: readonly string[], private readonly opts: LocalS3Options) {
    for (const name of bucketNames) this.buckets.set(name, new Map());
    this.assets = opts.assets;
    this.load();
  }

  /** This S3 with the buckets of a changed app (--watch): objects kept, new buckets added, the new assembly's assets. */
  withBuckets(bucketNames: readonly string[], assets: (key: string) => Buffer | undefined): LocalS3 {
    for (const name of bucketNames) if (!this.buckets.has(name)) this.buckets.set(name, new Map());
    this.assets = assets;
    return this;
  }

  /** The bucket names. */
  get bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  /** An object's bytes (for tests and tools), undefined when absent. */
  object(bucket: string, key: string): Buffer | undefined {
    return this.buckets.get(bucket)?.has(key) ? this.readBody(bucket, key) : undefined;
  }

  /** The keys of a bucket, sorted. */
  keys(bucket: string, prefix = ''): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Writes an object (the service's PutObject, and the local Firehose's deliveries). */
  put(bucket: string, key: string, body: Buffer, contentType?: string, contentEncoding?: string): ObjectMeta {
    const objects = this.bucketOf(bucket);
    checkKey(key);
    const meta: ObjectMeta = { etag: `"${createHash('md5').update(body).digest('hex')}"`, size: body.length, lastModified: this.opts.clock(), contentType, contentEncoding };
    if (this.opts.dir) {
      const file = this.fileOf(bucket, key);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, body);
    } else this.bodies.set(`${bucket}/${key}`, body);
    objects.set(key, meta);
    this.saveIndex();
    return meta;
  }

  /** This slice as a service of the gateway's registry (REST-XML, path-style, signed for `s3`). */
  asService(): LocalService {
    return {
      name: 's3',
      accepts: (req) => LocalS3.accepts(req.headers),
      handle: (req) => this.handle({ method: req.method, path: req.path, query: new URLSearchParams(req.query), headers: req.headers, body: req.body }),
    };
  }

  handle(req: S3Request): S3Response {
    try {
      return this.route(req);
    } catch (e) {
      if (e instanceof S3Error) return errorXml(e.status, e.code, e.message, req.method === 'HEAD');
      return errorXml(500, 'InternalError', (e as Error).message, req.method === 'HEAD');
    }
  }

  private route(req: S3Request): S3Response {
    const rest = req.path.replace(/^\/+/, '');
    const slash = rest.indexOf('/');
    const bucket = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
    const key = slash < 0 ? '' : decodeURIComponent(rest.slice(slash + 1));
    if (!bucket) throw new S3Error(400, 'InvalidRequest', 'keygate local serves path-style requests only (/bucket/key): set forcePathStyle: true');
    if (!key) {
      if (req.method === 'GET' && req.query.get('list-type') === '2') return this.list(bucket, req.query);
      if (req.method === 'HEAD') { this.bucketOf(bucket); return { status: 200, headers: {}, body: '' }; }
      throw new S3Error(501, 'NotImplemented', `keygate local's S3 serves PutObject, GetObject, HeadObject, ListObjectsV2 and DeleteObject; not ${req.method} on a bucket`);
    }
    switch (req.method) {
      case 'PUT': return this.putObject(bucket, key, req);
      case 'GET': return this.getObject(bucket, key, false);
      case 'HEAD': return this.getObject(bucket, key, true);
      case 'DELETE': return this.deleteObject(bucket, key);
      default: throw new S3Error(405, 'MethodNotAllowed', `The specified method is not allowed against this resource: ${req.method}`);
    }
  }

  private putObject(bucket: string, key: string, req: S3Request): S3Response {
    if (header(req.headers, 'x-amz-copy-source')) throw new S3Error(501, 'NotImplemented', 'CopyObject is not served by keygate local');
    if (req.query.has('uploadId') || req.query.has('partNumber')) throw new S3Error(501, 'NotImplemented', 'multipart uploads are not served by keygate local');
    const sha = header(req.headers, 'x-amz-content-sha256') ?? '';
    const encodings = (header(req.headers, 'content-encoding') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const chunked = sha.startsWith('STREAMING-') || encodings.includes('aws-chunked');
    const body = chunked ? decodeAwsChunked(req.body) : req.body;
    const storedEncoding = encodings.filter((e) => e !== 'aws-chunked').join(',') || undefined;
    const meta = this.put(bucket, key, body, header(req.headers, 'content-type'), storedEncoding);
    return { status: 200, headers: { etag: meta.etag }, body: '' };
  }

  private getObject(bucket: string, key: string, head: boolean): S3Response {
    const asset = this.buckets.has(bucket) ? undefined : this.assets?.(key);
    if (asset) return { status: 200, headers: { 'content-type': 'application/octet-stream', etag: `"${key}"` }, body: head ? '' : asset, contentLength: asset.length };
    const meta = this.bucketOf(bucket).get(key);
    if (!meta) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    const headers: Record<string, string> = {
      etag: meta.etag, 'last-modified': new Date(meta.lastModified).toUTCString(), 'content-type': meta.contentType ?? 'binary/octet-stream',
      ...(meta.contentEncoding ? { 'content-encoding': meta.contentEncoding } : {}),
    };
    if (head) return { status: 200, headers, body: '', contentLength: meta.size };
    return { status: 200, headers, body: this.readBody(bucket, key) };
  }

  private deleteObject(bucket: string, key: string): S3Response {
    const objects = this.bucketOf(bucket);
    if (objects.delete(key)) {
      if (this.opts.dir) fs.rmSync(this.fileOf(bucket, key), { force: true });
      else this.bodies.delete(`${bucket}/${key}`);
      this.saveIndex();
    }
    return { status: 204, headers: {}, body: '' };
  }

  private list(bucket: string, q: URLSearchParams): S3Response {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(MAX_KEYS, Math.max(0, Number(q.get('max-keys') ?? MAX_KEYS) || 0));
    const after = q.get('continuation-token') ? Buffer.from(q.get('continuation-token') ?? '', 'base64url').toString('utf8') : (q.get('start-after') ?? '');
    const objects = this.bucketOf(bucket);
    const contents: string[] = [];
    const prefixes = new Set<string>();
    let last = '';
    let truncated = false;
    for (const key of this.keys(bucket, prefix)) {
      if (key <= after) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? key.slice(0, cut + delimiter.length) : undefined;
      if (common !== undefined && prefixes.has(common)) continue;
      if (contents.length + prefixes.size >= maxKeys) { truncated = true; break; }
      last = key;
      if (common !== undefined) { prefixes.add(common); continue; }
      const m = objects.get(key) as ObjectMeta;
      contents.push(`<Contents><Key>${xmlText(key)}</Key><LastModified>${new Date(m.lastModified).toISOString()}</LastModified><ETag>${xmlText(m.etag)}</ETag><Size>${m.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
    }
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${XMLNS}"><Name>${xmlText(bucket)}</Name><Prefix>${xmlText(prefix)}</Prefix>`
      + `<KeyCount>${contents.length + prefixes.size}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>${delimiter ? `<Delimiter>${xmlText(delimiter)}</Delimiter>` : ''}<IsTruncated>${truncated}</IsTruncated>`
      + (truncated ? `<NextContinuationToken>${Buffer.from(last, 'utf8').toString('base64url')}</NextContinuationToken>` : '')
      + contents.join('') + [...prefixes].map((p) => `<CommonPrefixes><Prefix>${xmlText(p)}</Prefix></CommonPrefixes>`).join('') + '</ListBucketResult>';
    return { status: 200, headers: { 'content-type': 'application/xml' }, body };
  }

  private bucketOf(bucket: string): Map<string, ObjectMeta> {
    const objects = this.buckets.get(bucket);
    if (!objects) throw new S3Error(404, 'NoSuchBucket', `The specified bucket does not exist: ${bucket} (keygate local has the app's buckets: ${this.bucketNames.join(', ') || 'none'})`);
    return objects;
  }

  private fileOf(bucket: string, key: string): string {
    return path.join(this.opts.dir as string, bucket, ...key.split('/'));
  }

  private readBody(bucket: string, key: string): Buffer {
    return this.opts.dir ? fs.readFileSync(this.fileOf(bucket, key)) : (this.bodies.get(`${bucket}/${key}`) ?? Buffer.alloc(0));
  }

  private indexFile(): string | undefined {
    return this.opts.dir ? path.join(this.opts.dir, '.index.json') : undefined;
  }

  private load(): void {
    const file = this.indexFile();
    if (!file || !fs.existsSync(file)) return;
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, ObjectMeta>>;
    for (const [bucket, objects] of Object.entries(saved)) {
      const into = this.buckets.get(bucket);
      if (!into) continue;
      for (const [key, meta] of Object.entries(objects)) if (fs.existsSync(this.fileOf(bucket, key))) into.set(key, meta);
    }
  }

  private saveIndex(): void {
    const file = this.indexFile();
    if (!file) return;
    const out: Record<string, Record<string, ObjectMeta>> = {};
    for (const [bucket, objects] of this.buckets) out[bucket] = Object.fromEntries(objects);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(out));
    fs.renameSync(`${file}.tmp`, file);
  }
}

/** Keys that can't be a file path under the bucket's folder are refused (S3 would take them; the local slice keeps files). */
function checkKey(key: string): void {
  const parts = key.split('/');
  if (key.length > 1024 || key.includes('\0') || key.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new S3Error(400, 'InvalidArgument', `keygate local's S3 keeps objects as files and refuses the key ${JSON.stringify(key.slice(0, 100))} (empty, "." or ".." segments, backslashes, NUL)`);
  }
}

function errorXml(status: number, code: string, message: string, head: boolean): S3Response {
  const body = head ? '' : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlText(message)}</Message></Error>`;
  return { status, headers: { 'content-type': 'application/xml', 'x-amz-error-code': code }, body };
}

/** The file assets of the assembly folders, by S3 key (`<hash>.<ext>`: nothing else — no folder, no `..` — is served). */
export function assemblyAssets(assemblyDirs: string[]): (key: string) => Buffer | undefined {
  return (key) => {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)*$/.test(key)) return undefined;
    const file = assemblyDirs.map((dir) => path.join(dir, `asset.${key}`)).find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    return file ? fs.readFileSync(file) : undefined;
  };
}
