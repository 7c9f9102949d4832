// Bundles keygate's Lambda handlers before any test synthesizes a stack that ships them, and the
// CLI the tests run as a child process (cli-bundle.js).
const { execFileSync } = require('child_process');
const path = require('path');
const { buildCliBundle } = require('./cli-bundle');

module.exports = async () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'bundle-handlers.js')], { stdio: 'inherit' });
  await buildCliBundle();
};
