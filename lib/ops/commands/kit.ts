/**
 * What every command of the ops CLI is built with: the connection options (--region,
 * --profile, --endpoint, --json), output helpers, and {@link run}, which maps errors to a
 * message and an exit code.
 */
import Table from 'cli-table3';
import { Command, InvalidArgumentError } from 'commander';
import * as readline from 'readline';
import { ConnectionOptions, createClients, OpsClients } from '../client';
import { explainError, OpsError, UsageError } from '../errors';

export interface CommonOptions extends ConnectionOptions {
  readonly json?: boolean;
}

export const HIDDEN = '(hidden: pass --show-value)';

/** What --override-managed lets a command change. */
export const OVERRIDE_MANAGED = 'a key that a CloudFormation stack, a client set, a rotation schedule or a developer portal manages (for emergencies: it drifts from its owner)';

/** Adds --region, --profile, --endpoint and --json to a command. */
export function common(cmd: Command): Command {
  return cmd
    .option('--region <region>', 'AWS region (default: AWS_REGION, or us-east-1 for a local --endpoint)')
    .option('--profile <profile>', 'AWS profile from ~/.aws/config')
    .option('--endpoint <url>', 'API Gateway endpoint, e.g. the local gateway\'s controlPlane URL')
    .option('--json', 'print machine-readable JSON only on stdout');
}

export function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, wordWrap: true });
}

export function printJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

export function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0.');
  return n;
}

/** A whole number ≥ 1 (a size or a count that 0 would make meaningless). */
export function atLeastOne(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1.');
  return n;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Runs one command: builds the clients (lazily), maps errors to a message that says what to
 * do and to exit codes (1 failure, 2 bad usage/input), and releases the clients.
 */
export async function run(opts: CommonOptions, body: (connect: () => OpsClients) => Promise<number | void>): Promise<void> {
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

export function keyRowTags(tags: Record<string, string>): string {
  return Object.entries(tags).map(([k, v]) => `${k}=${v}`).join('\n');
}

/** Asks a yes/no question on stderr (the answer is read from stdin). */
export async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * Asks before deleting `what` unless --yes: false (after saying so) when the answer is no;
 * without a terminal to ask on, a UsageError.
 */
export async function confirmDeletion(yes: boolean | undefined, what: string, question: string): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new UsageError(`Not deleting ${what} without confirmation: pass --yes.`);
  if (await confirm(question)) return true;
  console.error('not deleted');
  return false;
}
