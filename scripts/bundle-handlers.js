#!/usr/bin/env node
/*
 * Bundles every Lambda handler listed in handlers.json into assets/handlers/<name>/index.js,
 * as aws-cdk-lib ships its own custom-resource handlers: built once with the package, so a
 * user's `cdk synth` runs no bundler and no Docker. Runs in `npm run build` and before jest.
 */
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const { handlers } = JSON.parse(fs.readFileSync(path.join(root, 'handlers.json'), 'utf8'));

async function main() {
  for (const [name, entry] of Object.entries(handlers)) {
    const outdir = path.join(root, 'assets', 'handlers', name);
    fs.rmSync(outdir, { recursive: true, force: true });
    await esbuild.build({
      entryPoints: [path.join(root, entry)],
      outfile: path.join(outdir, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      // Lambda's Node.js runtime ships AWS SDK v3; bundling it would pin an old copy.
      external: ['@aws-sdk/*'],
      // The same bytes on every machine: the asset hash is part of committed snapshots.
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
