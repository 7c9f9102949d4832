/**
 * A slice of S3 for the app's Lambda functions: GetObject (and HeadObject) of the assembly's
 * file assets, as CDK's bootstrap bucket serves them once deployed (e.g. a client set's
 * manifest, which its reconciler reads). Path-style requests (`/bucket/key`, what the SDK sends
 * to an IP endpoint); any bucket name, since the assets bucket's name depends on the account.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LocalService, LocalServiceRequest } from '../services';
import { LocalServiceResponse } from '../service-error';

/** The SigV4 service name of a signed request (`Credential=…/region/SERVICE/aws4_request`). */
function signedService(req: LocalServiceRequest): string | undefined {
  const auth = req.headers.authorization;
  return typeof auth === 'string' ? /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)?.[1] : undefined;
}

function xmlError(status: number, code: string, message: string): LocalServiceResponse {
  return { status, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>` };
}

/** Serves `asset.<key>` files of the given assembly folders. */
export class LocalS3 {
  constructor(private readonly assemblyDirs: string[]) {}

  asService(): LocalService {
    return {
      name: 's3',
      accepts: (req) => signedService(req) === 's3',
      handle: (req) => this.handle(req),
    };
  }

  private handle(req: LocalServiceRequest): LocalServiceResponse {
    if (req.method !== 'GET' && req.method !== 'HEAD') return xmlError(405, 'MethodNotAllowed', 'keygate local serves S3 GetObject of the app\'s assets only');
    const [, , ...rest] = req.path.split('/');
    const key = decodeURIComponent(rest.join('/'));
    // Asset keys are `<hash>.<ext>`: nothing else (no folder, no ..) is served.
    const file = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)*$/.test(key)
      ? this.assemblyDirs.map((dir) => path.join(dir, `asset.${key}`)).find((f) => fs.existsSync(f) && fs.statSync(f).isFile())
      : undefined;
    if (!file) return xmlError(404, 'NoSuchKey', 'The specified key does not exist.');
    const body = fs.readFileSync(file, 'utf8');
    return { status: 200, headers: { 'content-type': 'application/octet-stream', etag: `"${key}"` }, body: req.method === 'HEAD' ? '' : body };
  }
}
