import { SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import { Command, InvalidArgumentError, Option } from 'commander';
import * as fs from 'fs';
import * as readline from 'readline';
import { ConnectionOptions, createClients, OpsClients } from './client';
import { explainError, OpsError, UsageError } from './errors';
import { importKeys } from '../sdk/import-keys';
import { deleteKey, KeyInfo, listKeys, refuseManagedChange, setKeyEnabled, showKey } from './keys';
import { managedKeyReason } from '../shared/managed';
import { resolveKey } from './resolve';
import { cleanUpRetiredKeys } from './retired';
import { parseDuration, retireKey, RetireResult, rotateKey, RotateResult } from './rotate';
import { burstForUrl, runSmoke, SmokeKey, smokeKeyFromRef, smokeKeyFromValue } from './smoke';
import { usageReport, usageToCsv } from './usage';
import { registerUnusedKeysCommand } from './unused-command';
import { registerUsageExportCommand } from './usage-export-command';

interface CommonOptions extends ConnectionOptions {
  readonly json?: boolean;
}

const HIDDEN = '(hidden: pass --show-value)';

/** Adds --region, --profile, --endpoint and --json to a command. */
function common(cmd: Command): Command {
  return cmd
    .option('--region <region>', 'AWS region (default: AWS_REGION, or us-east-1 for a local --endpoint)')
    .option('--profile <profile>', 'AWS profile from ~/.aws/config')
    .option('--endpoint <url>', 'API Gateway endpoint, e.g. the local gateway\'s controlPlane URL')
    .option('--json', 'print machine-readable JSON only on stdout');
}

function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, wordWrap: true });
}

function printJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0.');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Runs one command: builds the clients (lazily), maps errors to a message that says what to
 * do and to exit codes (1 failure, 2 bad usage/input), and releases the clients.
 */
async function run(opts: CommonOptions, body: (connect: () => OpsClients) => Promise<number | void>): Promise<void> {
  let clients: OpsClients | undefined;
  const connect = (): OpsClients => {
    clients ??= createClients({ region: opts.region, profile: opts.profile, endpoint: opts.endpoint });
    return clients;
  };
  try {
    const code = await body(connect);
    process.exitCode = code ?? 0;
  } catch (err) {
    const e: OpsError = explainError(err, { region: clients?.region ?? opts.region, endpoint: opts.endpoint });
    if (opts.json) printJson({ error: e.message, details: e.details, exitCode: e.exitCode });
    console.error(`keygate: ${e.message}`);
    for (const d of e.details) console.error(`  ${d}`);
    process.exitCode = e.exitCode;
  } finally {
    clients?.destroy();
  }
}

function keyRowTags(tags: Record<string, string>): string {
  return Object.entries(tags).map(([k, v]) => `${k}=${v}`).join('\n');
}

function printKey(k: KeyInfo, showValue: boolean): void {
  const t = table(['field', 'value']);
  t.push(
    ['name', k.name], ['id', k.id], ['enabled', String(k.enabled)], ['value', showValue ? (k.value ?? '') : HIDDEN],
    ['description', k.description ?? ''], ['customer id', k.customerId ?? ''], ['created', k.createdDate ?? ''], ['updated', k.lastUpdatedDate ?? ''],
    ['plans', k.plans.map((p) => `${p.name} (${p.id})`).join('\n')], ['stages', k.stages.join('\n')], ['tags', keyRowTags(k.tags)],
  );
  const managed = managedKeyReason(k);
  if (managed) t.push(['managed', managed]);
  console.log(t.toString());
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function printRotation(r: RotateResult, json: boolean): void {
  if (json) return printJson(r);
  const t = table(['step', 'status', 'detail']);
  for (const s of r.steps) t.push([s.step, s.status, s.detail ?? '']);
  console.log(t.toString());
  console.log(`successor: ${r.successor.name} ${r.successor.id}`);
  if (r.successor.value !== undefined) console.log(`value: ${r.successor.value}`);
  else console.log(r.secretArn ? `value: written to ${r.secretArn}` : `value: ${HIDDEN}, or \`keygate keys show ${r.successor.id} --show-value\``);
  console.log(`predecessor ${r.predecessor.name} (${r.predecessor.id}) keeps working until it is retired: \`keygate keys retire ${r.predecessor.name || r.predecessor.id}\` after ${r.retireAfter}`);
}

function printRetire(r: RetireResult, json: boolean): void {
  if (json) return printJson(r);
  const t = table(['step', 'status', 'detail']);
  for (const s of r.steps) t.push([s.step, s.status, s.detail ?? '']);
  console.log(t.toString());
  console.log(`retired ${r.predecessor.name} (${r.predecessor.id})${r.successor ? `; ${r.successor.name} (${r.successor.id}) remains` : ''}`);
}

/** Registers `keygate keys …`, `keygate usage` and `keygate smoke`. */
export function registerOpsCommands(program: Command): void {
  // The SDK warns on every run that future versions need Node 22; keygate supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const keys = program.command('keys').description('Manage the API keys of a deployed API (list, show, import, rotate, retire, enable, disable, delete).');

  common(keys.command('list'))
    .description('List all API keys with their plans, stages and tags.')
    .option('--plan <plan>', 'only keys in this usage plan (name or id)')
    .option('--name <pattern>', 'only names matching this glob (* and ?); without wildcards a prefix')
    .action((opts: CommonOptions & { plan?: string; name?: string }) => run(opts, async (connect) => {
      const list = await listKeys(connect().apigw, { plan: opts.plan, name: opts.name });
      if (opts.json) return printJson(list);
      const t = table(['name', 'id', 'enabled', 'created', 'plans', 'stages', 'tags', 'managed by']);
      for (const k of list) {
        const tags = Object.fromEntries(Object.entries(k.tags).filter(([name]) => !name.startsWith('aws:cloudformation:')));
        const stack = k.tags['aws:cloudformation:stack-name'];
        const managedBy = stack ? `stack ${stack}` : (managedKeyReason(k)?.replace(/^it belongs to (the keygate )?/, '') ?? '');
        t.push([k.name, k.id, String(k.enabled), (k.createdDate ?? '').slice(0, 10), k.plans.map((p) => p.name).join('\n'), k.stages.join('\n'), keyRowTags(tags), managedBy]);
      }
      console.log(t.toString());
      console.error(`${list.length} key${list.length === 1 ? '' : 's'}`);
    }));

  common(keys.command('show'))
    .description('Show one key. Its value only with --show-value.')
    .argument('<key>', 'key name or id')
    .option('--show-value', 'include the key value')
    .action((ref: string, opts: CommonOptions & { showValue?: boolean }) => run(opts, async (connect) => {
      const k = await showKey(connect().apigw, ref, { showValue: opts.showValue });
      if (opts.json) return printJson(k);
      printKey(k, opts.showValue === true);
    }));

  common(keys.command('import'))
    .description('Import keys from an API Gateway key file (CSV: Name, Key, Description, Enabled, UsagePlanIds). The whole file is validated first; any problem → nothing imported, exit 2.')
    .argument('<file>', 'CSV file')
    .option('--plan <plan>', 'add every key to this usage plan (name or id); repeatable', collect, [])
    .option('--dry-run', 'validate and show what would be imported, write nothing')
    .addOption(new Option('--batch-size <n>', 'keys per ImportApiKeys call').argParser(positiveInt).default(100))
    .action((file: string, opts: CommonOptions & { plan: string[]; dryRun?: boolean; batchSize: number }) => run(opts, async (connect) => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
      }
      let bar: SingleBar | undefined;
      const result = await importKeys(connect().apigw, text, {
        plans: opts.plan,
        dryRun: opts.dryRun,
        batchSize: Math.max(1, opts.batchSize),
        onStart: (total) => {
          if (total > opts.batchSize && process.stderr.isTTY) {
            bar = new SingleBar({ stream: process.stderr, format: 'importing [{bar}] {value}/{total} keys' });
            bar.start(total, 0);
          }
        },
        onProgress: (done) => bar?.update(done),
      }).finally(() => bar?.stop());
      if (opts.json) return printJson(result);
      if (result.dryRun) {
        const t = table(['line', 'name', 'plans']);
        for (const r of result.planned) t.push([r.line, r.name, r.planNames.join(', ')]);
        console.log(t.toString());
        console.log(`dry run: ${result.planned.length} key(s) would be imported, ${result.skipped.length} already present; nothing written.`);
        return;
      }
      if (result.imported.length > 0) {
        const t = table(['line', 'name', 'id']);
        for (const r of result.imported) t.push([r.line, r.name, r.id ?? '']);
        console.log(t.toString());
      }
      for (const w of result.warnings) console.error(`warning: ${w}`);
      console.log(`imported ${result.imported.length} key(s)${result.skipped.length ? `, ${result.skipped.length} already present (skipped)` : ''}.`);
    }));

  common(keys.command('rotate'))
    .description('Create the successor of a key (same plans, tags, enabled state) and keep the old one working for the overlap. Safe to re-run.')
    .argument('<key>', 'key name or id')
    .option('--overlap <duration>', 'how long the old key keeps working (e.g. 7d, 36h)', '7d')
    .option('--show-value', 'print the new value')
    .option('--finish', 'retire the predecessor instead (same as `keys retire`)')
    .option('--force', 'with --finish: retire before the overlap ends')
    .action((ref: string, opts: CommonOptions & { overlap: string; showValue?: boolean; finish?: boolean; force?: boolean }) => run(opts, async (connect) => {
      if (opts.finish) {
        const c = connect();
        return printRetire(await retireKey(c.apigw, ref, { force: opts.force, secrets: c.secrets }), opts.json === true);
      }
      const overlapMs = parseDuration(opts.overlap);
      const c = connect();
      printRotation(await rotateKey(c.apigw, ref, { overlapMs, showValue: opts.showValue, secrets: c.secrets }), opts.json === true);
    }));

  common(keys.command('retire'))
    .description('After the overlap: disable, then delete the predecessor of a rotation (name the old key or its successor).')
    .argument('<key>', 'key name or id')
    .option('--force', 'retire before the overlap ends')
    .action((ref: string, opts: CommonOptions & { force?: boolean }) => run(opts, async (connect) => {
      const c = connect();
      printRetire(await retireKey(c.apigw, ref, { force: opts.force, secrets: c.secrets }), opts.json === true);
    }));

  for (const enabled of [false, true]) {
    common(keys.command(enabled ? 'enable' : 'disable'))
      .description(enabled ? 'Enable a key.' : 'Disable a key (requests with it get 403).')
      .argument('<key>', 'key name or id')
      .option('--override-managed', 'change a key that a CloudFormation stack, a client set or a rotation schedule manages (it drifts from the code)')
      .action((ref: string, opts: CommonOptions & { overrideManaged?: boolean }) => run(opts, async (connect) => {
        const k = await setKeyEnabled(connect().apigw, ref, enabled, { overrideManaged: opts.overrideManaged });
        const managed = managedKeyReason(k);
        if (managed) console.error(`warning: ${managed}; this change drifts from the code until it is made there.`);
        if (opts.json) return printJson(k);
        console.log(`${k.name} (${k.id}) ${k.changed ? 'is now' : 'was already'} ${enabled ? 'enabled' : 'disabled'}.`);
      }));
  }

  registerUnusedKeysCommand(common(keys.command('unused')), { run, table, printJson });

  common(keys.command('delete'))
    .description('Delete a key (asks first unless --yes).')
    .argument('<key>', 'key name or id')
    .option('-y, --yes', 'do not ask')
    .option('--override-managed', 'delete a key that a CloudFormation stack, a client set or a rotation schedule manages (it drifts from the code)')
    .action((ref: string, opts: CommonOptions & { yes?: boolean; overrideManaged?: boolean }) => run(opts, async (connect) => {
      const client = connect().apigw;
      const key = await resolveKey(client, ref);
      refuseManagedChange(key, 'deleting', { overrideManaged: opts.overrideManaged });
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new UsageError(`Not deleting ${key.name} (${key.id}) without confirmation: pass --yes.`);
        if (!(await confirm(`Delete API key ${key.name} (${key.id})? Its clients will get 403. [y/N] `))) {
          console.error('not deleted');
          return 1;
        }
      }
      const k = await deleteKey(client, key.id ?? ref, { overrideManaged: opts.overrideManaged });
      if (opts.json) return printJson({ deleted: k });
      console.log(`deleted ${k.name} (${k.id})`);
    }));

  common(keys.command('clean-up-retired'))
    .description('Delete the keys a client set retired (clients removed by an update, kept disabled so a rollback could restore them). Its next deploy would delete them too.')
    .requiredOption('--set <setId>', 'the client set id')
    .option('--dry-run', 'list them, delete nothing')
    .option('-y, --yes', 'do not ask')
    .action((opts: CommonOptions & { set: string; dryRun?: boolean; yes?: boolean }) => run(opts, async (connect) => {
      const client = connect().apigw;
      const listed = await cleanUpRetiredKeys(client, opts.set, { dryRun: true });
      if (opts.dryRun || listed.retired.length === 0) {
        if (opts.json) return printJson({ retired: listed.retired, deleted: 0 });
        console.log(`${listed.retired.length} retired keys of ${opts.set}${listed.retired.length ? `: ${listed.retired.map((k) => k.name).join(', ')}` : ''}`);
        return;
      }
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new UsageError(`Not deleting ${listed.retired.length} retired keys without confirmation: pass --yes.`);
        if (!(await confirm(`Delete ${listed.retired.length} retired keys of ${opts.set}? A rollback could no longer restore them. [y/N] `))) {
          console.error('not deleted');
          return 1;
        }
      }
      const bar = opts.json ? undefined : new SingleBar({ stream: process.stderr, format: 'deleting [{bar}] {value}/{total} keys' });
      bar?.start(listed.retired.length, 0);
      const done = await cleanUpRetiredKeys(client, opts.set, { onProgress: (n) => bar?.update(n) });
      bar?.stop();
      if (opts.json) return printJson(done);
      console.log(`deleted ${done.deleted} retired keys of ${opts.set}`);
    }));

  const usage = common(program.command('usage'))
    .description('Daily use of a key (in each of its plans) or of every key of a plan, against the quota.')
    .argument('[key]', 'key name or id')
    .option('--plan <plan>', 'usage plan name or id')
    .option('--from <date>', 'first day (YYYY-MM-DD, UTC; default 6 days before --to)')
    .option('--to <date>', 'last day (YYYY-MM-DD, UTC; default today)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .option('--chart <file.html>', 'also draw daily use against the quota line into a self-contained HTML file (opens offline in any browser)')
    .action((ref: string | undefined, opts: CommonOptions & { plan?: string; from?: string; to?: string; format: string; chart?: string }) => run(opts, async (connect) => {
      if (!ref && !opts.plan) throw new UsageError('Name a key (keygate usage NAME|ID) or a plan (--plan NAME).');
      const report = await usageReport(connect().apigw, { key: ref, plan: opts.plan, from: opts.from, to: opts.to });
      if (opts.chart) {
        // loaded on demand: the inlined chart.js is only needed here
        const { renderUsageChart } = await import('./chart');
        renderUsageChart(report, opts.chart);
      }
      const format = opts.json ? 'json' : opts.format;
      if (format === 'json') printJson({ ...report, ...(opts.chart ? { chart: opts.chart } : {}) });
      else if (format === 'csv') process.stdout.write(usageToCsv(report));
      else {
        const t = table(['date', 'key', 'plan', 'used', 'remaining', 'quota']);
        for (const r of report.rows) t.push([r.date, r.keyName || r.keyId, r.planName, r.used, r.remaining ?? '', r.quotaLimit !== undefined ? `${r.quotaLimit}/${r.quotaPeriod}` : 'none']);
        console.log(t.toString());
        const s = table(['key', 'plan', `used ${report.from}..${report.to}`, 'remaining']);
        for (const r of report.totals) s.push([r.keyName || r.keyId, r.planName, r.used, r.remaining ?? '']);
        console.log(s.toString());
      }
      if (opts.chart && format !== 'json') console.error(`chart written to ${opts.chart}`);
    }));

  registerUsageExportCommand(usage, { run, table, printJson });

  common(program.command('smoke'))
    .description('Check a stage as a client would: no key → 403, unknown key → 403, valid key → 2xx, burst above the plan\'s burst → 429. Exit 1 on any failure.')
    .argument('<url>', 'stage URL (the route is appended), or the full URL')
    .option('--key <key>', 'key name or id (its value is read through the control plane)')
    .option('--key-value-env <var>', 'environment variable holding the key value')
    .option('--route <route>', 'method and path, e.g. \'GET /pets\'')
    .addOption(new Option('--burst <n>', 'burst limit to exceed (default: from the key\'s usage plan)').argParser(positiveInt))
    .option('--no-burst-check', 'skip the burst check (it uses up quota)')
    .addOption(new Option('--max-requests <n>', 'largest burst to fire').argParser(positiveInt).default(2000))
    .action((url: string, opts: CommonOptions & { key?: string; keyValueEnv?: string; route?: string; burst?: number; burstCheck: boolean; maxRequests: number }) => run(opts, async (connect) => {
      if (!opts.key === !opts.keyValueEnv) throw new UsageError('Pass exactly one of --key NAME|ID and --key-value-env VAR.');
      let smokeKey: SmokeKey;
      let lookupNote: string | undefined;
      if (opts.key) {
        smokeKey = await smokeKeyFromRef(connect().apigw, opts.key);
      } else {
        const value = process.env[opts.keyValueEnv ?? ''];
        if (!value) throw new UsageError(`Environment variable ${opts.keyValueEnv} is empty or not set.`);
        smokeKey = { value, plans: [] };
        if (opts.burst === undefined && opts.burstCheck) {
          try {
            smokeKey = await smokeKeyFromValue(connect().apigw, value);
            if (!smokeKey.key) lookupNote = 'no key with this value found through the control plane: pass --burst N';
          } catch (err) {
            lookupNote = `could not look up the key's plan (${explainError(err).message.split('.')[0]}): pass --burst N`;
          }
        }
      }
      const fromPlan = burstForUrl(smokeKey.plans, url);
      const burst = !opts.burstCheck ? undefined : (opts.burst ?? fromPlan.burst);
      const burstNote = !opts.burstCheck ? 'skipped (--no-burst-check)' : opts.burst !== undefined ? `--burst ${opts.burst}` : (lookupNote ?? fromPlan.note);
      const result = await runSmoke({ url, route: opts.route, keyValue: smokeKey.value, burst, burstNote, maxRequests: opts.maxRequests });
      if (opts.json) printJson(result);
      else {
        const t = table(['check', 'expected', 'actual', 'result', 'note']);
        for (const c of result.checks) t.push([c.check, c.expected, c.actual, c.skipped ? 'SKIP' : c.pass ? 'PASS' : 'FAIL', c.detail ?? '']);
        console.log(`${result.method} ${result.url}`);
        console.log(t.toString());
        console.log(result.pass ? 'smoke test passed' : 'smoke test FAILED');
      }
      return result.pass ? 0 : 1;
    }));
}
