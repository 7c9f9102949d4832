/** `keygate smoke URL`: a stage checked as a client would. */
import { Command, Option } from 'commander';
import { OpsClients } from '../client';
import { explainError, UsageError } from '../errors';
import { burstForUrl, pickSmokeRoute, runSmoke, SmokeKey, smokeKeyFromRef, smokeKeyFromValue, SmokeResult } from '../smoke';
import { common, CommonOptions, positiveInt, printJson, run, table } from './kit';

type SmokeCommandOptions = CommonOptions & { key?: string; keyValueEnv?: string; route?: string; burst?: number; burstCheck: boolean; maxRequests: number };

/** Registers `smoke` on the program. */
export function register(program: Command): void {
  common(program.command('smoke'))
    .description('Check a stage as a client would: no key → 403, unknown key → 403, valid key → 2xx, burst above the plan\'s burst → 429. Exit 1 on any failure.')
    .argument('<url>', 'stage URL (the route is appended), or the full URL')
    .option('--key <key>', 'key name or id (its value is read through the control plane)')
    .option('--key-value-env <var>', 'environment variable holding the key value')
    .option('--route <route>', 'method and path, e.g. \'GET /pets\' (default: a GET of the stage that requires an API key)')
    .addOption(new Option('--burst <n>', 'burst limit to exceed (default: from the key\'s usage plan)').argParser(positiveInt))
    .option('--no-burst-check', 'skip the burst check (it uses up quota)')
    .addOption(new Option('--max-requests <n>', 'largest burst to fire').argParser(positiveInt).default(2000))
    .action((url: string, opts: SmokeCommandOptions) => run(opts, (connect) => smoke(connect, url, opts)));
}

async function smoke(connect: () => OpsClients, url: string, opts: SmokeCommandOptions): Promise<number> {
  if (!opts.key === !opts.keyValueEnv) throw new UsageError('Pass exactly one of --key NAME|ID and --key-value-env VAR.');
  const { smokeKey, lookupNote } = await keyToSmokeWith(connect, opts);
  const fromPlan = burstForUrl(smokeKey.plans, url);
  const burst = !opts.burstCheck ? undefined : (opts.burst ?? fromPlan.burst);
  const burstNote = !opts.burstCheck ? 'skipped (--no-burst-check)' : opts.burst !== undefined ? `--burst ${opts.burst}` : (lookupNote ?? fromPlan.note);
  const route = opts.route ?? await pickSmokeRoute(connect().apigw, url);
  const result = await runSmoke({ url, route, keyValue: smokeKey.value, burst, burstNote, maxRequests: opts.maxRequests });
  if (opts.json) printJson(result);
  else printSmoke(result);
  return result.pass ? 0 : 1;
}

/** The key named by --key, or the value in --key-value-env (with its plans when they can be looked up). */
async function keyToSmokeWith(connect: () => OpsClients, opts: SmokeCommandOptions): Promise<{ smokeKey: SmokeKey; lookupNote?: string }> {
  if (opts.key) return { smokeKey: await smokeKeyFromRef(connect().apigw, opts.key) };
  const value = process.env[opts.keyValueEnv ?? ''];
  if (!value) throw new UsageError(`Environment variable ${opts.keyValueEnv} is empty or not set.`);
  if (opts.burst !== undefined || !opts.burstCheck) return { smokeKey: { value, plans: [] } };
  try {
    const smokeKey = await smokeKeyFromValue(connect().apigw, value);
    return { smokeKey, lookupNote: smokeKey.key ? undefined : 'no key with this value found through the control plane: pass --burst N' };
  } catch (err) {
    return { smokeKey: { value, plans: [] }, lookupNote: `could not look up the key's plan (${explainError(err).message.split('.')[0]}): pass --burst N` };
  }
}

function printSmoke(result: SmokeResult): void {
  const t = table(['check', 'expected', 'actual', 'result', 'note']);
  for (const c of result.checks) t.push([c.check, c.expected, c.actual, c.skipped ? 'SKIP' : c.pass ? 'PASS' : 'FAIL', c.detail ?? '']);
  console.log(`${result.method} ${result.url}`);
  console.log(t.toString());
  console.log(result.pass ? 'smoke test passed' : 'smoke test FAILED');
}
