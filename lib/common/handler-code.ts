import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The code of one of keygate's pre-bundled Lambda handlers (see handlers.json and
 * scripts/bundle-handlers.js). The bundle ships in the package under assets/handlers, so a
 * user's synth needs neither esbuild nor Docker.
 */
export function bundledHandlerCode(name: string): lambda.Code {
  const dir = path.join(packageRoot(), 'assets', 'handlers', name);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(`keygate: the bundled Lambda handler "${name}" is missing at ${dir}; run "npm run build" in the keygate package`);
  }
  return lambda.Code.fromAsset(dir);
}

/** The folder of keygate's package.json: lib/ in a checkout, dist/lib/ once compiled. */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'handlers.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`keygate: cannot find the package root above ${__dirname}`);
  }
}
