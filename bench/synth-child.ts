/*
 * One benchmark measurement in its own process: builds one app, synthesizes it and prints
 * one JSON line (times, peak memory from the OS, template and asset sizes).
 * Usage: node synth-child.js <plain|single|bulk> <N> <outdir>
 */
import * as fs from 'fs';
import * as path from 'path';

const started = process.hrtime.bigint();
const [kind, nText, outdir] = process.argv.slice(2);

function sizeOf(p: string): number {
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.size;
  return fs.readdirSync(p).reduce((sum, name) => sum + sizeOf(path.join(p, name)), 0);
}

function main(): void {
  fs.rmSync(outdir, { recursive: true, force: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { STACKS } = require('./stacks') as typeof import('./stacks');
  const loaded = process.hrtime.bigint();
  const app = new App({ outdir });
  let error: string | undefined;
  try {
    STACKS[kind as keyof typeof STACKS](app, Number(nText));
    app.synth();
  } catch (err) {
    error = (err as Error).message.split('\n')[0].slice(0, 160);
  }
  const done = process.hrtime.bigint();
  const out: Record<string, unknown> = {
    kind, n: Number(nText), ok: error === undefined, error,
    loadMs: Number(loaded - started) / 1e6,
    synthMs: Number(done - loaded) / 1e6,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    // CPU time of the whole process (user + system): less sensitive than wall time to other
    // work on the machine.
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  };
  if (!error) {
    const templateFile = path.join(outdir, 'Bench.template.json');
    const template = JSON.parse(fs.readFileSync(templateFile, 'utf-8')) as { Resources: Record<string, { Type: string }> };
    const types: Record<string, number> = {};
    for (const r of Object.values(template.Resources)) types[r.Type] = (types[r.Type] ?? 0) + 1;
    // The template file as written (and uploaded by cdk deploy).
    out.templateBytes = fs.statSync(templateFile).size;
    out.resources = Object.keys(template.Resources).length;
    out.resourceTypes = types;
    const assets = fs.readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    out.manifestAssetBytes = assets.filter((name) => name.endsWith('.json')).reduce((sum, name) => sum + sizeOf(path.join(outdir, name)), 0);
    out.assetBytes = assets.reduce((sum, name) => sum + sizeOf(path.join(outdir, name)), 0);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main();
