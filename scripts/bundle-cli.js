#!/usr/bin/env node
/*
 * Bundles the keygate CLI (bin/keygate.ts: local gateway and ops commands) into one file,
 * dist/bin/keygate.js, as the aws-cdk CLI ships itself bundled. What only the CLI needs (the
 * AWS SDK clients, commander, csv-parse, cli-table3, cli-progress, chart.js) lives in
 * devDependencies and travels inside this file, so construct users install none of it and
 * `npx keygate …` still has every feature.
 */
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');

/** chart.js's browser build, inlined as text: the HTML usage chart embeds it. */
const inlineChartJs = {
  name: 'inline-chart-js',
  setup(build) {
    build.onLoad({ filter: /[\\/]lib[\\/]ops[\\/]chart-js-source\.ts$/ }, () => {
      const umd = path.join(path.dirname(require.resolve('chart.js', { paths: [root] })), 'chart.umd.min.js');
      const text = fs.readFileSync(umd, 'utf8');
      return { contents: `export function chartJsSource() { return ${JSON.stringify(text)}; }`, loader: 'js' };
    });
  },
};

/**
 * Bundles the CLI into `outfile`. The tests run the CLI from such a bundle of the current sources
 * (test/support/global-setup.js), built with these same options, as users run dist/bin/keygate.js.
 */
async function bundleCli(outfile = path.join(root, 'dist', 'bin', 'keygate.js'), { legalComments = 'linked', logLevel = 'warning' } = {}) {
  await esbuild.build({
    entryPoints: [path.join(root, 'bin', 'keygate.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    // The CLI never loads aws-cdk-lib or constructs (it runs the user's app in a child process);
    // were it to, they are the user's peers and must not be copied.
    external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
    plugins: [inlineChartJs],
    legalComments,
    logLevel,
  });
  fs.chmodSync(outfile, 0o755);
}

module.exports = { bundleCli };

if (require.main === module) {
  bundleCli().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
