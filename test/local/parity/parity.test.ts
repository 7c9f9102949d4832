/** The parity suite: every case of ./cases.ts, called with the real SDK against keygate local, compared field by field with AWS's answer. */
import { APIGatewayClient, GetResourcesCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { App, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { LocalGateway, startLocalGateway } from '../../../lib/local';
import { synthPetApp, tmpDir } from '../fixtures';
import { ABSENT, CASES, Expected, ParityContext, PRESENT } from './cases';

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING = '1';

/** The pet app plus a plan CloudFormation creates without a UsagePlanName. */
function synthParityApp(): string {
  const outdir = synthPetApp();
  const extra = tmpDir('parity');
  const app = new App({ outdir: extra });
  const stack = new Stack(app, 'UnnamedPlanStack');
  new apigw.CfnUsagePlan(stack, 'Unnamed', { description: 'no name' });
  app.synth();
  // Copy the extra stack's template next to the pet app's (one assembly, two stacks).
  fs.copyFileSync(path.join(extra, 'UnnamedPlanStack.template.json'), path.join(outdir, 'UnnamedPlanStack.template.json'));
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const extraManifest = JSON.parse(fs.readFileSync(path.join(extra, 'manifest.json'), 'utf8'));
  manifest.artifacts.UnnamedPlanStack = extraManifest.artifacts.UnnamedPlanStack;
  fs.writeFileSync(path.join(outdir, 'manifest.json'), JSON.stringify(manifest));
  return outdir;
}

function at(o: unknown, dotted: string): unknown {
  let v: unknown = o;
  for (const part of dotted.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

interface Answer { status: number; name?: string; message?: string; output?: unknown }

/** Field-by-field differences between keygate's answer and AWS's. */
function differences(answer: Answer, aws: Expected): string[] {
  const out: string[] = [];
  if (answer.status !== aws.status) out.push(`status ${answer.status}, AWS ${aws.status}${answer.message ? ` (${answer.name}: ${answer.message})` : ''}`);
  if (aws.error) {
    if (answer.name !== aws.error.name) out.push(`error ${answer.name}, AWS ${aws.error.name}`);
    const m = aws.error.message;
    if (typeof m === 'string' ? answer.message !== m : !m.test(answer.message ?? '')) out.push(`message ${JSON.stringify(answer.message)}, AWS ${String(m)}`);
  }
  for (const [field, want] of Object.entries(aws.fields ?? {})) {
    const got = at(answer.output, field);
    if (want === ABSENT) { if (got !== undefined) out.push(`${field} is ${JSON.stringify(got)}, AWS omits it`); continue; }
    if (want === PRESENT) { if (got === undefined) out.push(`${field} is missing`); continue; }
    if (want instanceof RegExp) { if (typeof got !== 'string' || !want.test(got)) out.push(`${field} is ${JSON.stringify(got)}, AWS ${String(want)}`); continue; }
    if (!isDeepStrictEqual(got, want)) out.push(`${field} is ${JSON.stringify(got)}, AWS ${JSON.stringify(want)}`);
  }
  return out;
}

describe('parity with API Gateway (real SDK → keygate local)', () => {
  let gw: LocalGateway;
  let client: APIGatewayClient;
  let ctx: ParityContext;

  beforeAll(async () => {
    gw = await startLocalGateway({ assemblyDir: synthParityApp(), port: 0, log: () => undefined });
    client = new APIGatewayClient({ endpoint: gw.info.controlPlane, region: 'us-east-1', credentials: { accessKeyId: 'AKIDPARITY', secretAccessKey: 'x' }, maxAttempts: 1 });
    const api = gw.info.apis.find((a) => a.name === 'pets')!;
    ctx = {
      client, apiId: api.id, stage: api.stages[0].name,
      planId: async (name) => (await client.send(new GetUsagePlansCommand({}))).items!.find((p) => p.name === name)!.id!,
      resourceId: async (path) => (await client.send(new GetResourcesCommand({ restApiId: api.id }))).items!.find((r) => r.path === path)!.id!,
    };
  });
  afterAll(async () => {
    client.destroy();
    await gw.close();
  });

  test.each(CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    let answer: Answer;
    try {
      const output = await c.call(ctx) as { $metadata?: { httpStatusCode?: number } } | undefined;
      answer = { status: output?.$metadata?.httpStatusCode ?? 200, output };
    } catch (e) {
      const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
      answer = { status: err.$metadata?.httpStatusCode ?? 0, name: err.name, message: err.message };
    }
    expect({ source: c.source, differences: differences(answer, c.aws) }).toEqual({ source: c.source, differences: [] });
  });
});
