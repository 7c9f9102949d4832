/*
 * keygate's synth benchmark: `npm run bench` (add `-- --json` for JSON, `-- --reps 5` for
 * more repetitions). Each measurement runs in its own Node.js process, compiled ahead with
 * esbuild, so that neither ts-node nor an earlier run adds to its time or memory. Times are
 * the best of the repetitions (the run least disturbed by other work on the machine), peak
 * memory their median. aws-cdk-lib's built-in CloudFormation validation (a WebAssembly
 * engine, on by default) runs in every synth and is a large share of the time of small apps;
 * `-- --no-cfn-validation` measures without it (CDK_VALIDATION=false).
 *
 * Control-plane calls of a first deploy: for plain aws-cdk-lib and single clients, one
 * create call per AWS::ApiGateway resource that CloudFormation creates; for a bulk set the
 * same for its stack's API Gateway resources plus the calls the reconciler makes, counted by
 * running the real handler (onEvent, then isComplete until complete) against an in-memory
 * API Gateway. The minimum deploy time is what API Gateway's documented rates allow
 * (CreateApiKey and DeleteApiKey 5/s, everything else a shared 10/s; bursts ignored).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { createHandlers } from '../lib/handlers/client-set-reconciler/handler';
import { ClientSetManifest } from '../lib/shared/manifest';
import { newClients } from '../test/ops/fake-apigw';
import { BulkFakeGateway } from '../test/bulk/fake-gateway';
import type { BenchKind } from './stacks';
import { benchUsageExport, formatUsageExportBench } from './usage-export';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = path.resolve(__dirname, '..');
const WORK = path.join(ROOT, 'cdk.out.bench');
const BUILD = path.join(WORK, 'build');

interface Case {
  readonly kind: BenchKind;
  readonly n: number;
}

const CASES: Case[] = [
  { kind: 'plain', n: 10 }, { kind: 'single', n: 10 },
  { kind: 'plain', n: 100 }, { kind: 'single', n: 100 },
  { kind: 'plain', n: 240 }, { kind: 'single', n: 240 },
  { kind: 'plain', n: 1000 }, { kind: 'bulk', n: 1000 },
  { kind: 'bulk', n: 10_000 },
];

interface ChildResult {
  kind: BenchKind;
  n: number;
  ok: boolean;
  error?: string;
  loadMs: number;
  synthMs: number;
  cpuMs: number;
  maxRssBytes: number;
  templateBytes?: number;
  resources?: number;
  resourceTypes?: Record<string, number>;
  assetBytes?: number;
  manifestAssetBytes?: number;
}

interface Row extends ChildResult {
  wallMs: number;
  reps: number;
  ratioWall?: number;
  ratioCpu?: number;
  ratioRss?: number;
  controlPlaneCalls?: number;
  callsByOperation?: Record<string, number>;
  minDeploySeconds?: number;
}

/** Transpiles lib/, examples/bulk/ and the benchmark's child to plain JS, file by file, keeping the layout. */
function compile(): void {
  fs.rmSync(BUILD, { recursive: true, force: true });
  const entryPoints: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts')) entryPoints.push(p);
    }
  };
  for (const dir of ['lib', path.join('examples', 'bulk')]) walk(path.join(ROOT, dir));
  entryPoints.push(...['stacks.ts', 'synth-child.ts'].map((name) => path.join(ROOT, 'bench', name)));
  buildSync({ entryPoints, outdir: BUILD, outbase: ROOT, bundle: false, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' });
}

/** `--no-cfn-validation`: children run with CDK_VALIDATION=false (aws-cdk-lib's built-in template validation off). */
const CFN_VALIDATION = !process.argv.includes('--no-cfn-validation');

function runChild(c: Case, rep: number): ChildResult & { wallMs: number } {
  const outdir = path.join(WORK, `${c.kind}-${c.n}-${rep}`);
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [path.join(BUILD, 'bench', 'synth-child.js'), c.kind, String(c.n), outdir], {
    cwd: ROOT, encoding: 'utf-8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', ...(CFN_VALIDATION ? {} : { CDK_VALIDATION: 'false' }) },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !line.startsWith('{')) {
    throw new Error(`benchmark child ${c.kind} N=${c.n} failed (exit ${child.status}): ${child.stderr.slice(-2000)}`);
  }
  if (rep > 0) fs.rmSync(outdir, { recursive: true, force: true });
  return { ...(JSON.parse(line) as ChildResult), wallMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** What CloudFormation creates through the API Gateway control plane, one call per resource. */
function cloudFormationCalls(types: Record<string, number>): { keyCreates: number; shared: number } {
  let keyCreates = 0;
  let shared = 0;
  for (const [type, count] of Object.entries(types)) {
    if (!type.startsWith('AWS::ApiGateway::')) continue;
    if (type === 'AWS::ApiGateway::ApiKey') keyCreates += count;
    else shared += count;
  }
  return { keyCreates, shared };
}

/** Runs the reconciler's first deploy against an in-memory API Gateway and counts its calls. */
async function reconcilerCalls(outdir: string): Promise<Record<string, number>> {
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'Bench.template.json'), 'utf-8')) as {
    Resources: Record<string, { Type: string; Properties: { SetId: string; ManifestKey: string; Tiers: Record<string, { Ref: string }>; BatchSize: string } }>;
  };
  const resource = Object.values(template.Resources).find((r) => r.Type === 'Custom::KeygateClientSet');
  if (!resource) throw new Error('no client set in the bulk template');
  const fake = new BulkFakeGateway();
  try {
    fake.pageSize = 500;
    const tiers: Record<string, string> = {};
    for (const [key, ref] of Object.entries(resource.Properties.Tiers)) tiers[key] = fake.addPlan({ id: ref.Ref.slice(0, 12), name: ref.Ref }).id ?? '';
    const handlers = createHandlers({
      apigw: newClients().apigw,
      loadManifest: async (_bucket, key) => JSON.parse(fs.readFileSync(path.join(outdir, `asset.${key}`), 'utf-8')) as ClientSetManifest,
      controlPlane: { limiter: null },
      reconcile: { log: () => undefined },
    });
    const event = {
      RequestType: 'Create' as const,
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Bench/00000000-0000-4000-8000-000000000000',
      LogicalResourceId: 'BenchClientSet',
      RequestId: 'bench-first-deploy',
      ResourceProperties: { SetId: resource.Properties.SetId, ManifestBucket: 'assets', ManifestKey: resource.Properties.ManifestKey, Tiers: tiers, BatchSize: resource.Properties.BatchSize },
    };
    const time = { getRemainingTimeInMillis: () => 600_000 };
    await handlers.onEvent(event, time);
    for (let i = 0; !(await handlers.isComplete(event, time)).IsComplete; i++) {
      if (i > 10) throw new Error('the simulated deploy did not complete');
    }
    const calls: Record<string, number> = {};
    for (const op of fake.calls) calls[op] = (calls[op] ?? 0) + 1;
    return calls;
  } finally {
    fake.restore();
  }
}

function fmt(value: number | undefined, digits = 0): string {
  return value === undefined ? '—' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(rows: Row[]): string {
  const head = ['case', 'N', 'resources', 'template KB', 'assets KB', 'wall s', 'CPU s', 'peak MiB', 'vs plain: CPU / wall / mem', 'API GW calls (1st deploy)', 'min deploy s'];
  const body = rows.map((r) => {
    const name = r.kind === 'plain' ? 'plain aws-cdk-lib' : r.kind === 'single' ? 'keygate single clients' : 'keygate bulk client set';
    if (!r.ok) return [name, fmt(r.n), `synth fails: ${(r.error ?? '').replace(/:.*$/, '')}`, '', '', fmt(r.wallMs / 1000, 2), fmt(r.cpuMs / 1000, 2), fmt(r.maxRssBytes / 2 ** 20), '', '', ''];
    return [
      name, fmt(r.n), fmt(r.resources), fmt((r.templateBytes ?? 0) / 1024, 1),
      r.kind === 'bulk' ? `${fmt((r.assetBytes ?? 0) / 1024, 0)} (set ${fmt((r.manifestAssetBytes ?? 0) / 1024, 0)})` : fmt((r.assetBytes ?? 0) / 1024, 0),
      fmt(r.wallMs / 1000, 2), fmt(r.cpuMs / 1000, 2), fmt(r.maxRssBytes / 2 ** 20),
      r.ratioWall === undefined ? '' : `${fmt(r.ratioCpu, 2)}× / ${fmt(r.ratioWall, 2)}× / ${fmt(r.ratioRss, 2)}×`,
      fmt(r.controlPlaneCalls), fmt(r.minDeploySeconds, 1),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i < 1 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const repsAt = args.indexOf('--reps');
  const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 3;
  const say = (text: string) => { if (!json) process.stderr.write(text); };

  fs.mkdirSync(WORK, { recursive: true });
  say('compiling with esbuild… ');
  compile();
  say('done\n');
  // Repetitions interleaved (all cases, then all cases again) so that other load on the
  // machine spreads over every case alike.
  const runs = new Map<Case, Array<ChildResult & { wallMs: number }>>(CASES.map((c) => [c, []]));
  for (let rep = 0; rep < reps; rep++) {
    say(`run ${rep + 1}/${reps}: `);
    for (const c of CASES) {
      runs.get(c)?.push(runChild(c, rep));
      say('.');
    }
    say('\n');
  }
  const rows: Row[] = [];
  for (const c of CASES) {
    const all = runs.get(c) ?? [];
    const first = all[0];
    const row: Row = {
      ...first,
      reps,
      // Times: the best run, the one least disturbed by other work on the machine.
      wallMs: Math.min(...all.map((r) => r.wallMs)),
      synthMs: Math.min(...all.map((r) => r.synthMs)),
      cpuMs: Math.min(...all.map((r) => r.cpuMs)),
      loadMs: Math.min(...all.map((r) => r.loadMs)),
      maxRssBytes: median(all.map((r) => r.maxRssBytes)),
    };
    if (row.ok && row.resourceTypes) {
      const cfn = cloudFormationCalls(row.resourceTypes);
      const byOperation: Record<string, number> = { 'CloudFormation: CreateApiKey': cfn.keyCreates, 'CloudFormation: other API Gateway creates': cfn.shared };
      let shared = cfn.shared;
      if (c.kind === 'bulk') {
        const calls = await reconcilerCalls(path.join(WORK, `${c.kind}-${c.n}-0`));
        for (const [op, count] of Object.entries(calls)) byOperation[`reconciler: ${op}`] = count;
        shared += Object.entries(calls).filter(([op]) => op !== 'DeleteApiKey' && op !== 'CreateApiKey').reduce((s, [, n]) => s + n, 0);
      }
      row.callsByOperation = byOperation;
      row.controlPlaneCalls = Object.values(byOperation).reduce((s, n) => s + n, 0);
      row.minDeploySeconds = Math.max(cfn.keyCreates / 5, shared / 10);
    }
    rows.push(row);
  }
  for (const row of rows) {
    const plain = rows.find((r) => r.kind === 'plain' && r.n === row.n && r.ok);
    if (plain && row.kind !== 'plain') {
      row.ratioWall = row.wallMs / plain.wallMs;
      row.ratioCpu = row.cpuMs / plain.cpuMs;
      row.ratioRss = row.maxRssBytes / plain.maxRssBytes;
    }
  }

  const bulk10k = rows.find((r) => r.kind === 'bulk' && r.n === 10_000);
  const plain1k = rows.find((r) => r.kind === 'plain' && r.n === 1000);
  const singles = rows.filter((r) => r.kind === 'single');
  const targets = [
    { target: 'keygate single clients within 1.1× plain aws-cdk-lib (CPU time)', ok: singles.every((r) => (r.ratioCpu ?? Infinity) <= 1.1), detail: singles.map((r) => `N=${r.n} ${fmt(r.ratioCpu, 2)}×`).join(', ') },
    { target: 'keygate single clients within 1.1× plain aws-cdk-lib (wall time)', ok: singles.every((r) => (r.ratioWall ?? Infinity) <= 1.1), detail: singles.map((r) => `N=${r.n} ${fmt(r.ratioWall, 2)}×`).join(', ') },
    { target: 'keygate single clients within 1.1× plain aws-cdk-lib (peak memory)', ok: singles.every((r) => (r.ratioRss ?? Infinity) <= 1.1), detail: singles.map((r) => `N=${r.n} ${fmt(r.ratioRss, 2)}×`).join(', ') },
    { target: '10,000 bulk clients: synth < 15 s', ok: !!bulk10k && bulk10k.wallMs < 15_000, detail: `${fmt((bulk10k?.wallMs ?? 0) / 1000, 2)} s wall` },
    { target: '10,000 bulk clients: < 1 GiB', ok: !!bulk10k && bulk10k.maxRssBytes < 2 ** 30, detail: `${fmt((bulk10k?.maxRssBytes ?? 0) / 2 ** 20)} MiB peak RSS` },
    { target: '10,000 bulk clients: ≤ 500 resources', ok: !!bulk10k && (bulk10k.resources ?? Infinity) <= 500, detail: `${bulk10k?.resources} resources` },
    { target: '10,000 bulk clients: template < 1 MB', ok: !!bulk10k && (bulk10k.templateBytes ?? Infinity) < 1_000_000, detail: `${fmt((bulk10k?.templateBytes ?? 0) / 1024, 1)} KB` },
    { target: 'plain aws-cdk-lib at N=1,000 fails synth (500-resource cap)', ok: !!plain1k && !plain1k.ok, detail: plain1k?.error ?? '' },
  ];

  const usageExport = await benchUsageExport();
  if (json) {
    process.stdout.write(`${JSON.stringify({ machine: machine(), loadAverage: os.loadavg(), reps, cfnValidation: CFN_VALIDATION, rows, targets, usageExport }, null, 2)}\n`);
  } else {
    process.stdout.write(`\nkeygate synth benchmark — ${machine()}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; times best of ${reps} runs, memory median, each run in its own process; aws-cdk-lib's CloudFormation validation ${CFN_VALIDATION ? 'on (default)' : 'off (CDK_VALIDATION=false)'}\n\n`);
    process.stdout.write(`${table(rows)}\n\n`);
    for (const t of targets) process.stdout.write(`${t.ok ? 'PASS' : 'FAIL'}  ${t.target}: ${t.detail}\n`);
    if (bulk10k?.callsByOperation) {
      process.stdout.write(`\nBulk N=10,000 first deploy, calls by operation: ${Object.entries(bulk10k.callsByOperation).map(([op, n]) => `${op} ${n}`).join(', ')}.\n`);
      process.stdout.write('Deleting 10,000 keys (stack delete) takes 10,000 DeleteApiKey calls: ≥ 2,000 s at 5/s, spread over isComplete polls.\n');
    }
    process.stdout.write(`\n${formatUsageExportBench(usageExport)}\n`);
  }
}

function machine(): string {
  return `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${fmt(os.totalmem() / 2 ** 30)} GiB`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
