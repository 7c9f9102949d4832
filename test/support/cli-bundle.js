/*
 * The tests run `keygate` from a bundle of the current sources, built once per jest run by
 * global-setup.js with the options of `npm run bundle:cli` (scripts/bundle-cli.js): the shape
 * users run (dist/bin/keygate.js), and a child process then starts in well under a second,
 * where ts-node compiled bin/keygate.ts and everything it imports again in every child.
 *
 * One bundle per checkout (worktrees may share node_modules), under node_modules/.cache so that
 * the bundle resolves the AWS SDK from node_modules as dist/bin/keygate.js does (the local
 * gateway hands it to the app's Lambda functions).
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');

function cliBundlePath() {
  const checkout = crypto.createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 16);
  return path.join(REPO_ROOT, 'node_modules', '.cache', 'keygate-test', checkout, 'keygate.js');
}

/** Bundles bin/keygate.ts; written under another name and renamed, so a running suite never sees half a file. */
async function buildCliBundle() {
  const { bundleCli } = require('../../scripts/bundle-cli');
  const file = cliBundlePath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial.js`;
  await bundleCli(partial, { legalComments: 'none', logLevel: 'error' });
  fs.renameSync(partial, file);
  return file;
}

module.exports = { cliBundlePath, buildCliBundle };
