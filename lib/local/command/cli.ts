import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { expirySummaryLines, parseClockOption } from '../apigateway/data-plane/expiry';
import { LocalGateway, startLocalGateway } from '../gateway';
import { describeSchedule } from '../events/schedules';
import { synthesizeApp } from '../synth';
import { watchApp } from './watch';
import { keyedTryLines } from './try-lines'; // [issue 19 item 14]
import { removeOnFailure } from './start-cleanup'; // [issue 19 item 13]

interface LocalCliOptions {
  readonly app?: string;
  readonly port: number;
  readonly state?: string;
  readonly json?: boolean;
  readonly showValues?: boolean;
  readonly controlPlaneLimits?: boolean;
  readonly clock?: string;
  readonly watch?: boolean;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 0 || n > 65535) throw new InvalidArgumentError(`port must be an integer 0-65535, got "${v}"`);
  return n;
}

function parseClock(v: string): string {
  try {
    parseClockOption(v, Date.now());
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
}

/** The human-readable startup summary (no key values unless showValues). */
export function formatSummary(gw: LocalGateway, assemblyDir: string, statePath?: string, clockOffsetMs = 0): string {
  const info = gw.info;
  const lines: string[] = [];
  lines.push(`keygate local: serving ${assemblyDir}`);
  lines.push(`  control plane (AWS SDK endpoint): ${info.controlPlane}`);
  lines.push(`  dashboard (open in a browser):    ${info.dashboard}`); // [dashboard]
  for (const p of info.portals) lines.push(`  developer portal of ${p.name}: ${p.url}`);
  lines.push(`  state: ${statePath ? path.resolve(statePath) : 'in memory (use --state FILE to keep keys and quotas)'}`);
  lines.push('');
  for (const api of info.apis) {
    lines.push(`API ${api.name} (${api.id}, stack ${api.stack})`);
    const model = gw.model.apis.get(api.id);
    for (const s of api.stages) {
      lines.push(`  stage ${s.name}: ${s.url}`);
    }
    if (model) {
      for (const r of [...model.resources.values()].sort((a, b) => a.path.localeCompare(b.path))) {
        for (const m of r.methods.values()) {
          const flags = [m.apiKeyRequired ? 'API key' : 'public', m.authorizationType !== 'NONE' ? m.authorizationType : '', m.integration.type].filter((x) => x);
          lines.push(`    ${m.httpMethod.padEnd(7)} ${r.path}  [${flags.join(', ')}]${m.integration.unsupportedReason ? '  (cannot run here)' : ''}`);
        }
      }
    }
  }
  lines.push('');
  lines.push(`Keys (${info.keys.length}):`);
  for (const k of info.keys) {
    lines.push(`  ${k.name || '(unnamed)'}  id ${k.id}  ${k.enabled ? 'enabled' : 'DISABLED'}  plans: ${k.usagePlans.join(', ') || '(none)'}${k.value ? `  value ${k.value}` : ''}`);
  }
  lines.push(...expirySummaryLines(info.keys, info.apis.find((a) => a.stages.length > 0)?.stages[0].url, clockOffsetMs));
  const jobs = gw.scheduledJobs;
  if (jobs.length > 0) {
    lines.push('');
    lines.push(`Scheduled jobs (${jobs.length}), run on the gateway's clock (a job whose time has come runs at once, e.g. with --clock +100d):`);
    for (const { job, nextRunAt } of jobs) {
      lines.push(`  ${job.description ?? 'runs a Lambda function'} (${job.name}): ${describeSchedule(job)}, next ${new Date(nextRunAt).toISOString()}`);
    }
    lines.push('  SNS messages and CloudWatch data points they send are logged below, kept in memory and shown on the dashboard.');
  }
  if (gw.s3.bucketNames.length > 0) {
    lines.push('', `S3 buckets (path-style, at the control plane endpoint; docs/usage-and-billing.md): ${gw.s3.bucketNames.join(', ')}`);
    lines.push(`  objects ${statePath ? `kept as files under ${path.resolve(`${statePath}.s3`)}` : 'in memory (use --state FILE to keep them as files)'}`);
  }
  const alarms = gw.alarms.alarms;
  if (alarms.length > 0) {
    lines.push('');
    lines.push(`Alarms (${alarms.length}), evaluated every minute; a state change notifies the alarm's SNS topics (email and SMS subscriptions are printed below):`);
    for (const a of alarms) lines.push(`  ${a.seed.name}: ${a.state}`);
  }
  if (gw.unsupported.length > 0) {
    lines.push('');
    lines.push(`Not emulated (${gw.unsupported.length}):`);
    for (const u of gw.unsupported) lines.push(`  ${u.stack}/${u.logicalId} (${u.type}): ${u.reason}`);
  }
  if (gw.ignored.length > 0) lines.push(`(${gw.ignored.length} resources with no effect on the APIs ignored: IAM, Lambda permissions, …)`);
  // Example calls.
  const api = info.apis.find((a) => a.stages.length > 0);
  if (api) {
    const model = gw.model.apis.get(api.id);
    const stage = api.stages[0];
    const routes = model ? [...model.resources.values()].flatMap((r) => [...r.methods.values()].map((m) => ({ r, m }))) : [];
    const pub = routes.find(({ m }) => !m.apiKeyRequired && m.httpMethod === 'GET' && m.authorizationType === 'NONE' && !m.integration.unsupportedReason);
    const keyed = routes.find(({ m }) => m.apiKeyRequired && (m.httpMethod === 'GET' || m.httpMethod === 'ANY'));
    lines.push('');
    lines.push('Try:');
    if (pub) lines.push(`  curl -i '${stage.url}${pub.r.path === '/' ? '/' : pub.r.path}'`);
    if (keyed) {
      // [issue 19 item 14] lines that work when pasted: KEY is set before curl uses it.
      const key = info.keys.find((k) => k.enabled && !k.expired && k.usagePlans.length > 0);
      lines.push(...keyedTryLines(key, `${stage.url}${keyed.r.path.replace(/\{[^}]+\}/g, '1')}`, info.controlPlane));
    }
  }
  lines.push('');
  lines.push('Press Ctrl+C to stop.');
  return lines.join('\n');
}

const LOCAL_HELP = `
Without --app, the app in ./cdk.json is synthesized first (as "cdk synth" would, offline); --app "COMMAND"
synthesizes the app that command runs (as cdk's --app), --app DIR serves a synthesized cloud assembly.

Data plane:    <stage url>/<route>, e.g. curl -H "x-api-key: KEY" http://127.0.0.1:3000/restapis/<apiId>/<stage>/_user_request_/pets
Control plane: the printed controlPlane URL; use it as the AWS SDK endpoint, e.g.
               new APIGatewayClient({ endpoint: URL, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } })
               aws apigateway get-api-keys --endpoint-url URL
               curl --aws-sigv4 "aws:amz:us-east-1:apigateway" --user x:y URL/restapis
               It answers only loopback Host names, refuses cross-site browser requests, and
               requires a SigV4 Authorization header (any credentials; SDKs and the AWS CLI sign).
               The same endpoint serves slices of Secrets Manager (rotation), SNS (Publish,
               ListTopics, Subscribe…) and CloudWatch (PutMetricData, DescribeAlarms), under the
               same rules.

Scheduled jobs: the app's EventBridge rate(...) and cron(...) rules that invoke its Lambda functions
               (keygate's expiry, hygiene and quota jobs, the rotation retire rule) and Secrets
               Manager rate(...) rotation schedules run on the gateway's clock (with --clock +100d,
               the jobs that are due run at start); a failed run is retried (EventBridge's policy);
               with --state they continue from their last run. What they publish to SNS and
               CloudWatch is logged on stderr (never a key value) and shown on the dashboard.

Alarms:        the app's CloudWatch alarms are evaluated on the gateway's clock; a state change is
               published to their SNS topics and delivered: email and SMS printed on stderr,
               loopback HTTP endpoints get SNS's signed envelope, Lambda subscriptions invoked.

Dashboard:     the printed dashboard URL (loopback only; it carries a token that changes on every start)

--json prints: {"controlPlane": URL, "dashboard": URL, "apis": [{"id", "name", "stack", "stages": [{"name", "url"}]}],
                "keys": [{"id", "name", "enabled", "usagePlans": [names], "value"?}],
                "scheduledJobs": [{"name", "description"?, "every", "nextRunAt"}], "portals": [{"name", "url"}]}`;

/** Registers `keygate local`. */
export function registerLocalCommand(program: Command): void {
  program
    .command('local')
    .description('Serve a synthesized CDK app on 127.0.0.1 with API Gateway\'s API key, usage plan, throttle and quota behaviour, plus an API Gateway control-plane endpoint for the AWS SDK.')
    .option('--app <dir|command>', 'serve this cloud assembly (a cdk.out folder), or synthesize the app this command runs (as cdk\'s --app, e.g. "npx ts-node --prefer-ts-exts examples/partner-api/app.ts"), instead of the cdk.json app of the current directory')
    .option('--port <n>', 'port on 127.0.0.1 (0 picks a free one)', parsePort, 3000)
    .option('--state <file>', 'keep keys, plan associations and quota counters in FILE across restarts (written atomically)')
    .option('--json', 'print one JSON line describing the endpoints, APIs, stages and keys, then serve')
    .option('--show-values', 'include API key values in the output (they are secrets: off by default)')
    .option('--clock <when>', 'time travel: serve as if this long had passed since the app was deployed (+15d, 36h, 90m) or as if it were this ISO 8601 instant; expiring keys, quotas, usage and the scheduled jobs follow the moved clock (jobs that are due run at start)', parseClock)
    .option('--watch', 'watch the cdk.json app\'s sources; on a change, re-synthesize and apply the difference as a stack update (keys, counters and throttle state stay; custom resources get their events)')
    .option('--control-plane-limits', 'emulate API Gateway\'s control-plane rate limits (429 TooManyRequestsException) and one-at-a-time CreateUsagePlanKey (409)')
    .addHelpText('after', LOCAL_HELP)
    .action(runLocal);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `keygate local`: synthesizes (without --app), starts the gateway, prints where it is, and serves until a signal. */
async function runLocal(opts: LocalCliOptions): Promise<void> {
  let assemblyDir: string;
  let synthesized = false;
  // As the CDK CLI's --app: a cloud assembly directory, or the command that runs the app.
  const appCommand = opts.app !== undefined && !isDirectory(opts.app) ? opts.app : undefined;
  if (opts.watch && opts.app && !appCommand) throw new InvalidArgumentError(`--watch re-synthesizes the app: give --app the command that runs it (e.g. --app "npx ts-node app.ts"), not a cloud assembly directory (${opts.app})`);
  if (opts.app && !appCommand) assemblyDir = path.resolve(opts.app);
  else {
    if (!opts.json) process.stderr.write(`keygate local: synthesizing ${appCommand ? `"${appCommand}"` : 'the cdk.json app'}…\n`);
    assemblyDir = await synthesizeApp({ cwd: process.cwd(), app: appCommand });
    synthesized = true;
  }
  const deployedAt = Date.now();
  const clockOffsetMs = opts.clock ? parseClockOption(opts.clock, deployedAt) : 0;
  // [issue 19 item 13] a failed start (port taken, bad app) removes the folder it synthesized.
  const gw = await removeOnFailure(synthesized ? assemblyDir : undefined, () => startLocalGateway({ assemblyDir, port: opts.port, statePath: opts.state, showValues: opts.showValues, controlPlaneLimits: opts.controlPlaneLimits, rotateOnStart: true,
    ...(clockOffsetMs !== 0 ? { clock: () => Date.now() + clockOffsetMs, deployedAt } : {}),
    // Human mode: stages with access logging print their access log lines to stderr.
    accessLog: opts.json ? undefined : (line) => process.stderr.write(`[access] ${line}\n`) }));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    if (!opts.json) process.stderr.write(`\nkeygate local: ${signal}, saving state and stopping\n`);
    gw.close().then(() => {
      if (synthesized) fs.rmSync(assemblyDir, { recursive: true, force: true });
      process.exit(0);
    }, (e: unknown) => {
      process.stderr.write(`keygate local: error while stopping: ${(e as Error).message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (opts.json) process.stdout.write(JSON.stringify(gw.info) + '\n');
  else process.stdout.write(formatSummary(gw, assemblyDir, opts.state, clockOffsetMs) + '\n');
  if (opts.watch) {
    watchApp(gw, { cwd: process.cwd(), app: appCommand, assemblyDir, print: (line) => process.stderr.write(`${line}\n`), onApplied: (dir) => { assemblyDir = dir; } });
  }
  // Keep running until a signal arrives.
  await new Promise<never>(() => undefined);
}
