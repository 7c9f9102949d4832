/**
 * The example app (bin/app.ts through cdk.json, as `npm start` runs it) synthesized once per
 * content of what it is built from, for the suites that serve it on the local gateway. Its synth
 * (ts-node type-checks bin/app.ts and the library, then cdk-nag) took tens of seconds, and
 * four suites each did it again on the same sources.
 *
 * The assembly is cached in the OS temp dir under a SHA-256 of every file the synth reads
 * (bin, lib, examples, the bundled handlers, cdk.json, tsconfig.json, package.json and its
 * lock file), of the installed aws-cdk-lib, constructs and cdk-nag versions and of the Node.js
 * version: any change to them synthesizes again, and a fresh clone starts with nothing cached. `test/local/cli.test.ts` still runs the
 * uncached synth (`keygate local` without --app).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthesizeApp } from '../../lib/local/synth';
import { REPO_ROOT } from './run-cli';

const SOURCE_DIRS = ['bin', 'lib', 'examples', path.join('assets', 'handlers')];
const SOURCE_FILES = ['cdk.json', 'cdk.context.json', 'tsconfig.json', 'package.json', 'package-lock.json'];
const PACKAGES = ['aws-cdk-lib', 'constructs', 'cdk-nag'];

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** SHA-256 over the example app's inputs: each file's path and bytes, the peers' and Node's versions, CDK_DEFAULT_* (bin/app.ts reads them). */
export function exampleAppSourceHash(): string {
  const hash = createHash('sha256');
  const files = [...SOURCE_DIRS.flatMap((d) => filesUnder(path.join(REPO_ROOT, d))), ...SOURCE_FILES.map((f) => path.join(REPO_ROOT, f))];
  for (const file of files) {
    hash.update(`${path.relative(REPO_ROOT, file)}\0`);
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : '(none)');
    hash.update('\0');
  }
  for (const pkg of PACKAGES) {
    const manifest = require.resolve(`${pkg}/package.json`, { paths: [REPO_ROOT] });
    hash.update(`${pkg}@${(JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version}\0`);
  }
  hash.update(`${process.version}\0${process.env.CDK_DEFAULT_ACCOUNT ?? ''}\0${process.env.CDK_DEFAULT_REGION ?? ''}`);
  return hash.digest('hex');
}

/**
 * The example app's cloud assembly, shared: read it, never write into it or remove it (the
 * local gateway only reads it).
 * Synthesized into a temp folder and renamed into place, so two workers at once each see a
 * whole assembly (the second rename loses and its copy is removed).
 */
export async function exampleAppAssembly(): Promise<string> {
  const cacheRoot = path.join(os.tmpdir(), 'keygate-test-cache');
  const dir = path.join(cacheRoot, `example-app-${exampleAppSourceHash().slice(0, 32)}`);
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  fs.mkdirSync(cacheRoot, { recursive: true });
  const partial = fs.mkdtempSync(path.join(cacheRoot, 'example-app-partial-'));
  try {
    await synthesizeApp({ cwd: REPO_ROOT, outdir: partial });
    fs.renameSync(partial, dir);
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw err;
  }
  return dir;
}
