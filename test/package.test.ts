import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { figuresText, LIMIT_MB, MB, measure, packAndInstall, readmeFigures } from '../scripts/footprint';

/*
 * What a user does: build, pack, install the tarball into a fresh CDK app, import the
 * constructs from 'keygate', compile and synthesize, run the CLI. Offline and with an empty npm
 * cache (scripts/footprint.js): keygate has no runtime dependency to fetch (csv-parse travels
 * inside the tarball, the CLI is one bundled file) and the peers (aws-cdk-lib, constructs) are
 * linked from this repository, so the test needs neither the network nor what the cache holds.
 */

const ROOT = path.resolve(__dirname, '..');

interface PackageJson {
  name: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
  bundledDependencies?: string[];
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/**
 * The environment without what an outer `npm test` exports (npm_config_local_prefix,
 * npm_package_*, …), so that npm in the user's app works on that app and nothing else.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || keep.has(key)));
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...cleanEnv(), INIT_CWD: cwd, npm_config_update_notifier: 'false', CDK_DISABLE_VERSION_CHECK: 'true', ...env },
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd} (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

const USER_APP = `import { App, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { KeyProtectedApi, KeyValue, KeygateError, KeygateErrors } from 'keygate';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'UserStack');
const api = new KeyProtectedApi(stack, 'Api');
api.addRoute('GET /hello', new apigw.MockIntegration());
api.addRoute('GET /health', new apigw.MockIntegration(), { apiKeyRequired: false });
const tier = api.addTier('Basic', { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 100, period: apigw.Period.DAY } });
api.addClient('alice', { tiers: [tier], keyValue: KeyValue.secretsManager() });
api.addClient('bob', { tiers: [tier] });

// Validation errors reach the user as keygate's error class.
try {
  api.addTier('Broken', { stages: [] });
} catch (e) {
  if (!(e instanceof KeygateError) || !KeygateErrors.isKeygateError(e)) throw e;
  console.log('KeygateError: ' + e.message);
}
app.synth();
`;

describe('the npm package', () => {
  const pkg = readJson<PackageJson>(path.join(ROOT, 'package.json'));

  test('package.json: main, types, bin, files and peer dependencies', () => {
    expect(pkg.name).toBe('keygate');
    expect(pkg.main).toBe('dist/lib/index.js');
    expect(pkg.types).toBe('dist/lib/index.d.ts');
    expect(pkg.bin).toEqual({ keygate: 'dist/bin/keygate.js' });
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/lib/**/*.js', 'dist/lib/**/*.d.ts', 'dist/bin/keygate.js']));
    // One copy of aws-cdk-lib and constructs in the user's app: peers, not dependencies.
    expect(Object.keys(pkg.peerDependencies ?? {}).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(pkg.dependencies ?? {}).not.toHaveProperty('aws-cdk-lib');
    expect(pkg.dependencies ?? {}).not.toHaveProperty('constructs');
    expect(pkg.devDependencies).toHaveProperty('aws-cdk-lib');
    expect(pkg.devDependencies).toHaveProperty('constructs');
  });

  test('dependencies: nothing beyond the peers but csv-parse, bundled inside the tarball', () => {
    // Construct users install no AWS SDK, CLI library, chart library, native canvas or bundler:
    // the CLI and the Lambda handlers are bundled at build time.
    expect(pkg.dependencies ?? {}).toEqual({ 'csv-parse': expect.any(String) });
    expect(pkg.bundledDependencies).toEqual(['csv-parse']);
  });

  test('build, pack, install offline with an empty npm cache into a fresh CDK app, synthesize, run the CLI', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-package-'));
    const apiMd = fs.readFileSync(path.join(ROOT, 'API.md'), 'utf8');
    try {
      // GIVEN: a built keygate (jsii, jsii-docgen, the bundled CLI and handlers)
      run('npm', ['run', 'build', '--silent'], ROOT);
      const assembly = readJson<{ name: string; types: Record<string, { kind: string }> }>(path.join(ROOT, '.jsii'));
      for (const type of ['KeyProtectedApi', 'Tier', 'Client', 'ClientSet', 'KeyValue']) expect(assembly.types).toHaveProperty([`keygate.${type}`, 'kind'], 'class');
      // API.md is generated: the committed copy must be what jsii-docgen writes today.
      expect(fs.readFileSync(path.join(ROOT, 'API.md'), 'utf8') === apiMd).toBe(true);

      // WHEN: a user creates an app and installs keygate with its peers
      const installed = packAndInstall(work);
      const files = installed.files;
      expect(files).toEqual(expect.arrayContaining(['package.json', '.jsii', 'API.md', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/bin/keygate.js',
        'assets/handlers/client-set-reconciler/index.js']));
      // No sources, tests, examples, the example app, the CLI's or local gateway's modules (they are in the bundle).
      expect(files.filter((f) => /^(test|examples|bin|lib)\//.test(f) || /^dist\/(examples|lib\/(local|ops)\/)/.test(f) || f === 'dist/bin/app.js')).toEqual([]);
      expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
      const app = installed.app;
      fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, skipLibCheck: true, outDir: 'out', types: [] },
        files: ['app.ts'],
      }, null, 2));
      fs.writeFileSync(path.join(app, 'app.ts'), USER_APP);
      run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app);
      const output = run(process.execPath, ['out/app.js'], app);

      // THEN: the runtime footprint beyond the peers is within the README's limit
      const footprint = measure(app, installed.peers);
      expect(footprint.bytes).toBeLessThanOrEqual(LIMIT_MB * MB);
      // THEN: the README states what was measured (fix: npm run footprint -- --write-readme)
      expect(readmeFigures(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'))).toBe(figuresText(footprint.bytes, installed.packedBytes));
      expect(footprint.packages.map((p) => p.name)).toEqual(['keygate']);
      expect(fs.readdirSync(path.join(app, 'node_modules', 'keygate', 'node_modules'))).toEqual(['csv-parse']);

      // THEN: the constructs synthesize
      const installedPkg = readJson<PackageJson>(path.join(app, 'node_modules', 'keygate', 'package.json'));
      expect(installedPkg.name).toBe('keygate');
      expect(output).toMatch(/KeygateError: \[UserStack\/Api\/Broken\] stages: a tier must cover at least one stage/);
      const template = readJson<{ Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }>(path.join(app, 'cdk.out', 'UserStack.template.json'));
      const byType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
      expect(byType('AWS::ApiGateway::RestApi')).toHaveLength(1);
      expect(byType('AWS::ApiGateway::Method').map((m) => m.Properties.ApiKeyRequired).sort()).toEqual([false, true]);
      expect(byType('AWS::ApiGateway::UsagePlan')).toHaveLength(1);
      expect(byType('AWS::ApiGateway::ApiKey')).toHaveLength(2);
      expect(byType('AWS::ApiGateway::UsagePlanKey')).toHaveLength(2);
      expect(byType('AWS::SecretsManager::Secret')).toHaveLength(1);

      // THEN: the CLI runs from the user's app with none of keygate's devDependencies installed
      const bin = path.join(app, 'node_modules', '.bin', 'keygate');
      expect(fs.readFileSync(path.join(app, 'node_modules', 'keygate', 'dist', 'bin', 'keygate.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
      expect(run(bin, ['--help'], app)).toMatch(/Commands:[^]*local[^]*keys[^]*usage[^]*smoke/);
      expect(run(bin, ['usage', '--help'], app)).toMatch(/--chart-html <file\.html>/);
      expect(run(bin, ['keys', 'import', '--help'], app)).toMatch(/Usage: keygate keys import/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 240_000);
});
