/*
 * Preloaded into integ-runner (NODE_OPTIONS=--require, see the integ scripts in package.json).
 *
 * @aws-cdk/integ-runner 2.197.10, the newest release, bundles a toolkit that reads cloud
 * assemblies up to schema 53, while aws-cdk-lib 2.276 writes schema 55, so every run stops with
 * "AssemblyVersionMismatch". The aws-cdk CLI 2.1148 reads 55. This hook lets integ-runner's
 * bundled manifest check accept the schema major of the @aws-cdk/cloud-assembly-schema that this
 * repository's aws-cdk-lib installs; nothing else changes. It fails loudly if integ-runner's
 * code no longer has the line it patches: then check whether the hook is still needed.
 */
const Module = require('module');
const path = require('path');

const INTEG_RUNNER = `${path.sep}@aws-cdk${path.sep}integ-runner${path.sep}lib${path.sep}`;
const CHECK = 'const maxSupported = semver.major(parseVersion(_Manifest.version()));';
const schemaMajor = Number(require(require.resolve('@aws-cdk/cloud-assembly-schema/package.json', { paths: [require.resolve('aws-cdk-lib')] })).version.split('.')[0]);

const compile = Module.prototype._compile;
Module.prototype._compile = function compileWithSchemaMajor(content, filename) {
  if (filename.includes(INTEG_RUNNER) && content.includes('Maximum schema version supported')) {
    if (!content.includes(CHECK)) throw new Error(`integ-runner-schema: ${filename} no longer contains the schema check this hook patches`);
    content = content.replace(CHECK, `const maxSupported = Math.max(semver.major(parseVersion(_Manifest.version())), ${schemaMajor});`);
  }
  return compile.call(this, content, filename);
};
