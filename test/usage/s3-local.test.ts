/**
 * The local S3 slice through the real @aws-sdk/client-s3 (path-style): PutObject (plain and
 * streamed aws-chunked), GetObject, HeadObject, ListObjectsV2 (prefix, delimiter, pages),
 * DeleteObject, errors; kept with --state across restarts; behind the local services' guard.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LocalGateway, startLocalGateway } from '../../lib/local';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
jest.setTimeout(60_000);

let workDir: string;
let assemblyDir: string;
let gateway: LocalGateway;
let client: S3Client;
let bucket: string;

const connect = () => new S3Client({ endpoint: gateway.info.controlPlane, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-s3-'));
  const app = new App({ outdir: path.join(workDir, 'cdk.out') });
  new s3.Bucket(new Stack(app, 'Store'), 'Files');
  assemblyDir = app.synth().directory;
  gateway = await startLocalGateway({ assemblyDir, statePath: path.join(workDir, 'state.json'), log: () => undefined });
  client = connect();
  bucket = gateway.s3.bucketNames[0];
});

afterAll(async () => {
  client?.destroy();
  await gateway?.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('put, head, get, list with prefix, delimiter and pages, delete', async () => {
  expect(bucket).toMatch(/^Store-Files/);
  const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'usage/dt=2026-01-01/part-0.json.gz', Body: Buffer.from('hello'), ContentType: 'application/x-ndjson', ContentEncoding: 'gzip' }));
  expect(put.ETag).toBe('"5d41402abc4b2a76b9719d911017c592"');
  // A streamed body: the SDK sends it aws-chunked with a checksum trailer.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'usage/dt=2026-01-02/part-0.json.gz', Body: Readable.from([Buffer.from('wor'), Buffer.from('ld')]), ContentLength: 5 }));
  for (let i = 0; i < 5; i++) await client.send(new PutObjectCommand({ Bucket: bucket, Key: `other/${i}.txt`, Body: `n${i}` }));

  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'usage/dt=2026-01-01/part-0.json.gz' }));
  expect([head.ContentLength, head.ContentType, head.ContentEncoding, head.ETag]).toEqual([5, 'application/x-ndjson', 'gzip', put.ETag]);
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'usage/dt=2026-01-02/part-0.json.gz' }));
  expect(await got.Body!.transformToString()).toBe('world');

  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'usage/', Delimiter: '/' }));
  expect(listed.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['usage/dt=2026-01-01/', 'usage/dt=2026-01-02/']);
  expect(listed.Contents ?? []).toEqual([]);
  const page1 = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'other/', MaxKeys: 3 }));
  expect([page1.Contents?.map((c) => c.Key), page1.IsTruncated, page1.KeyCount]).toEqual([['other/0.txt', 'other/1.txt', 'other/2.txt'], true, 3]);
  const page2 = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'other/', MaxKeys: 3, ContinuationToken: page1.NextContinuationToken }));
  expect([page2.Contents?.map((c) => c.Key), page2.IsTruncated]).toEqual([['other/3.txt', 'other/4.txt'], false]);

  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'other/0.txt' }));
  await expect(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'other/0.txt' }))).rejects.toThrow(NoSuchKey);
  await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'other/0.txt' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  const noBucket = await client.send(new GetObjectCommand({ Bucket: 'nosuchbucket', Key: 'k' })).then(() => ({ name: 'none', message: '' }), (e: S3ServiceException) => e);
  expect([noBucket.name, noBucket.message]).toEqual(['NoSuchBucket', expect.stringMatching(/^The specified bucket does not exist: nosuchbucket/)]);
  const badKey = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/../b', Body: 'x' })).then(() => ({ name: 'none', message: '' }), (e: S3ServiceException) => e);
  expect(badKey.name).toBe('InvalidArgument');
});

test('kept with --state: the objects are files under STATE.s3/<bucket>/<key> and survive a restart', async () => {
  expect(fs.readFileSync(path.join(workDir, 'state.json.s3', bucket, 'usage', 'dt=2026-01-02', 'part-0.json.gz'), 'utf8')).toBe('world');
  client.destroy();
  await gateway.close();
  gateway = await startLocalGateway({ assemblyDir, statePath: path.join(workDir, 'state.json'), log: () => undefined });
  client = connect();
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'usage/dt=2026-01-01/part-0.json.gz' }));
  expect([await got.Body!.transformToString(), got.ContentEncoding]).toEqual(['hello', 'gzip']);
  expect(gateway.s3.keys(bucket)).toEqual(['other/1.txt', 'other/2.txt', 'other/3.txt', 'other/4.txt', 'usage/dt=2026-01-01/part-0.json.gz', 'usage/dt=2026-01-02/part-0.json.gz']);
});

test('behind the guard of the local services: unsigned, foreign Host and cross-site requests are refused', async () => {
  const url = `${gateway.info.controlPlane}/${bucket}/other/1.txt`;
  const sig = 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=' + '0'.repeat(64);
  const unsigned = await fetch(url);
  expect([unsigned.status, await unsigned.text()]).toEqual([403, expect.stringContaining('Missing Authentication Token')]);
  const crossSite = await fetch(url, { headers: { authorization: sig, origin: 'https://evil.example' } });
  expect([crossSite.status, await crossSite.text()]).toEqual([403, expect.stringContaining('refuses cross-site browser requests')]);
  const signed = await fetch(url, { headers: { authorization: sig } });
  expect([signed.status, await signed.text()]).toEqual([200, 'n1']);
  const http = await import('http');
  const foreign = await new Promise<{ status?: number; body: string }>((resolve) => {
    http.get(url, { headers: { host: 'evil.example', authorization: sig } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
  });
  expect(foreign.status).toBe(403);
  expect(foreign.body).toContain('serves only loopback Host names');
});
