#!/usr/bin/env node
/*
 * What a construct user installs with keygate: packs the built package, installs the tarball
 * into a fresh app with an empty npm cache and no network (--offline), links the peers
 * (aws-cdk-lib, constructs) from this repository, and sums the bytes under node_modules
 * beyond those peers. Fails above the limit (5 MB, or --max-mb N).
 *
 *   npm run build && npm run footprint        # prints the figure and the largest packages
 *   npm run footprint -- --write-readme      # also writes the figures into README.md
 *   node scripts/footprint.js --json
 *
 * The README's figures stand between `<!-- footprint -->` and `<!-- /footprint -->`:
 * `--write-readme` writes them, and test/package.test.ts fails when they differ from what
 * this script measures.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const LIMIT_MB = 5;
const MB = 1024 * 1024;

/** The environment without what an outer `npm run`/`npm test` exports, so npm works on the user's app only. */
function cleanEnv(extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, npm_config_update_notifier: 'false', CDK_DISABLE_VERSION_CHECK: 'true', ...extra };
}

function run(command, args, cwd, extraEnv = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: cleanEnv({ INIT_CWD: cwd, ...extraEnv }), timeout: 300_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd} (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Packs keygate (already built) into `work` and installs the tarball into `work/app`, offline,
 * with the empty npm cache `work/npm-cache`; the peers are linked from this repository.
 */
function packAndInstall(work) {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  if (!fs.existsSync(path.join(ROOT, pkg.main))) throw new Error(`${pkg.main} is missing: run "npm run build" first`);
  const cache = path.join(work, 'npm-cache');
  fs.mkdirSync(cache, { recursive: true });
  // --ignore-scripts: the package is built already ("prepare" would build it again).
  const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT));
  const tarball = path.join(work, packed[0].filename);
  const app = path.join(work, 'app');
  fs.mkdirSync(app, { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'user-app', version: '0.0.0', private: true }, null, 2));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', tarball], app, { npm_config_cache: cache });
  const peers = Object.keys(pkg.peerDependencies ?? {});
  for (const peer of peers) {
    const link = path.join(app, 'node_modules', peer);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', peer), link, 'dir');
  }
  return { tarball, files: packed[0].files.map((f) => f.path), packedBytes: packed[0].size, app, peers };
}

function bytesUnder(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) total += bytesUnder(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

/** Bytes under the app's node_modules beyond the peers (linked, not counted), per package. */
function measure(app, peers) {
  const modules = path.join(app, 'node_modules');
  const packages = [];
  for (const entry of fs.readdirSync(modules, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const names = entry.name.startsWith('@') ? fs.readdirSync(path.join(modules, entry.name)).map((n) => `${entry.name}/${n}`) : [entry.name];
    for (const name of names) {
      if (peers.includes(name)) continue;
      packages.push({ name, bytes: bytesUnder(path.join(modules, name)) });
    }
  }
  packages.sort((a, b) => b.bytes - a.bytes);
  return { bytes: packages.reduce((sum, p) => sum + p.bytes, 0), packages };
}

const README = path.join(ROOT, 'README.md');
const FIGURES = /<!-- footprint -->([\s\S]*?)<!-- \/footprint -->/;

/** The README's wording of the figures: installed bytes beyond the peers and the tarball, in MB. */
function figuresText(bytes, packedBytes) {
  return `**${(bytes / MB).toFixed(2)} MB** (tarball ${(packedBytes / MB).toFixed(2)} MB)`;
}

/** The figures written between the markers of `text` (throws when the markers are missing). */
function readmeFigures(text) {
  const m = FIGURES.exec(text);
  if (!m) throw new Error('README.md has no <!-- footprint --> … <!-- /footprint --> markers');
  return m[1];
}

/** `text` with `figures` between the markers. */
function withReadmeFigures(text, figures) {
  readmeFigures(text);
  return text.replace(FIGURES, `<!-- footprint -->${figures}<!-- /footprint -->`);
}

function main() {
  const args = process.argv.slice(2);
  const maxFlag = args.indexOf('--max-mb');
  const limitMb = maxFlag >= 0 ? Number(args[maxFlag + 1]) : LIMIT_MB;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-footprint-'));
  try {
    const installed = packAndInstall(work);
    const result = measure(installed.app, installed.peers);
    const mb = result.bytes / MB;
    if (args.includes('--json')) {
      console.log(JSON.stringify({ bytes: result.bytes, megabytes: Number(mb.toFixed(2)), limitMegabytes: limitMb, packedBytes: installed.packedBytes, packages: result.packages }, null, 2));
    } else {
      console.log(`keygate's runtime footprint beyond ${installed.peers.join(' and ')}: ${mb.toFixed(2)} MB (limit ${limitMb} MB; tarball ${(installed.packedBytes / MB).toFixed(2)} MB)`);
      for (const p of result.packages) console.log(`  ${(p.bytes / MB).toFixed(2).padStart(6)} MB  ${p.name}`);
    }
    if (args.includes('--write-readme')) {
      const figures = figuresText(result.bytes, installed.packedBytes);
      fs.writeFileSync(README, withReadmeFigures(fs.readFileSync(README, 'utf8'), figures));
      console.log(`README.md: ${figures}`);
    }
    if (mb > limitMb) {
      console.error(`footprint: ${mb.toFixed(2)} MB is above the ${limitMb} MB limit`);
      process.exitCode = 1;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { packAndInstall, measure, LIMIT_MB, MB, README, figuresText, readmeFigures, withReadmeFigures };
if (require.main === module) main();
