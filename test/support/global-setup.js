// Bundles keygate's Lambda handlers before any test synthesizes a stack that ships them.
const { execFileSync } = require('child_process');
const path = require('path');

module.exports = async () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'bundle-handlers.js')], { stdio: 'inherit' });
};
