/**
 * keygate's layers, by where the code runs (CONTRIBUTING.md, "Layers"). `npm test` runs
 * `npm run lint:deps`; a violation fails the run and names its rule.
 */
const CONSTRUCTS = '^lib/(index|api|api-contract|tier|client|route|validation|association|errors|registry|gateway-responses)\\.ts$|^lib/(common|monitoring|lifecycle|bulk|usage|portal)/';
const SDK_PACKAGES = '^@aws-sdk/|^@smithy/';
const CDK_PACKAGES = '^aws-cdk-lib|^constructs$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle anywhere in lib/: a cycle hides which piece depends on which.',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'shared-is-pure',
      severity: 'error',
      comment: 'lib/shared holds facts every layer reads: it imports nothing else of lib/, no AWS SDK and no aws-cdk-lib.',
      from: { path: '^lib/shared/' },
      to: { pathNot: ['^lib/shared/', '^(node:)?(crypto|fs|path|util)$'] },
    },
    {
      name: 'sdk-layer-imports-only-shared',
      severity: 'error',
      comment: 'lib/sdk (the AWS SDK layer of the CLI and the deployed Lambdas) imports only lib/shared and the AWS SDK.',
      from: { path: '^lib/sdk/' },
      to: { path: ['^lib/', CDK_PACKAGES], pathNot: ['^lib/(sdk|shared)/'] },
    },
    {
      name: 'handlers-import-sdk-and-shared',
      severity: 'error',
      comment: 'Deployed Lambda code (lib/handlers) imports only the SDK layer and the shared facts: never the CLI, the local gateway or aws-cdk-lib.',
      from: { path: '^lib/handlers/' },
      to: { path: ['^lib/', CDK_PACKAGES], pathNot: ['^lib/(handlers|sdk|shared)/'] },
    },
    {
      name: 'ops-imports-sdk-and-shared',
      severity: 'error',
      comment: 'The ops CLI (lib/ops) builds on the SDK layer and the shared facts, not on constructs, handlers or the local gateway.',
      from: { path: '^lib/ops/' },
      to: { path: '^lib/', pathNot: ['^lib/(ops|sdk|shared)/'] },
    },
    {
      name: 'local-imports-only-shared',
      severity: 'error',
      comment: 'The local gateway (lib/local) runs the Lambdas from their bundled assets, as AWS would: it imports only lib/shared of the rest of lib/, and no AWS SDK.',
      from: { path: '^lib/local/' },
      to: { path: ['^lib/', SDK_PACKAGES], pathNot: ['^lib/(local|shared)/'] },
    },
    {
      name: 'constructs-stay-at-synth',
      severity: 'error',
      comment: 'Constructs run at synth: they import constructs, lib/shared and aws-cdk-lib, never the SDK layer, the handlers, the CLI, the local gateway or the AWS SDK.',
      from: { path: CONSTRUCTS },
      to: { path: ['^lib/(sdk|handlers|ops|local)/', SDK_PACKAGES] },
    },
    {
      name: 'features-take-the-api-contract',
      severity: 'error',
      comment: 'Constructs other than the API itself depend on IKeyProtectedApi (lib/api-contract.ts), never on lib/api.ts.',
      from: { path: CONSTRUCTS, pathNot: '^lib/(api|index)\\.ts$' },
      to: { path: '^lib/api\\.ts$' },
    },
    {
      name: 'local-services-apart',
      severity: 'error',
      comment: 'One folder per emulated service in lib/local: a service imports the local core and lib/shared, not another service (the core wires them together).',
      from: { path: '^lib/local/(secrets-manager|sns|cloudwatch|events|marketplace-metering)/' },
      to: { path: '^lib/local/(apigateway|secrets-manager|sns|cloudwatch|lambda|events|dashboard|marketplace-metering)/', pathNot: '^lib/local/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^lib/.*\\.d\\.ts$' },
  },
};
