#!/usr/bin/env node
/*
 * Runs @aws-cdk/integ-runner on test/integ with the schema hook (scripts/integ-runner-schema.js)
 * preloaded into it and its workers. Extra arguments go to integ-runner:
 *
 *   npm run integ                          # offline: each synthesized app must equal its committed snapshot
 *   npm run integ:update                   # offline: rewrite the snapshots (after changing an example)
 *   npm run integ:deploy                   # deploy, assert with real calls, destroy (needs AWS credentials)
 *   npm run integ:deploy -- --parallel-regions eu-west-1 integ.pet-store.ts
 */
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const hook = path.join(__dirname, 'integ-runner-schema.js');
const bin = require.resolve('@aws-cdk/integ-runner/bin/integ-runner', { paths: [root] });
const nodeOptions = [process.env.NODE_OPTIONS, `--require ${JSON.stringify(hook)}`].filter(Boolean).join(' ');
const args = ['--directory', 'test/integ', '--language', 'typescript', ...process.argv.slice(2)];
const result = spawnSync(process.execPath, [bin, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: nodeOptions, CDK_DISABLE_VERSION_CHECK: 'true' },
});
process.exit(result.status ?? 1);
