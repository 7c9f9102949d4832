import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BulkStack } from '../examples/bulk/bulk-stack';
import { PartnerApiStack } from '../examples/partner-api/partner-api-stack';
import { PetStoreStack } from '../examples/pet-store/pet-store-stack';
import { mock } from './support/keygate-fixtures';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Expiration, KeyProtectedApi, KeyRotation, KeyValue } from '../lib';

/*
 * cdk-nag v3 is a CDK validation plugin: `app.synth()` writes validation-report.json into the
 * cloud assembly and, in an in-memory app (tests), throws when a plugin reports an error that
 * is not acknowledged with `Validations.of(scope).acknowledge`.
 */

interface Violation { readonly ruleName: string; readonly severity: string; readonly reason?: string; readonly acknowledgedId?: string; readonly acknowledgedAt?: string; readonly violatingConstructs: { readonly constructPath: string }[] }
interface PluginReport { readonly pluginName: string; readonly conclusion: string; readonly violations: Violation[]; readonly suppressedViolations?: Violation[] }

function synthWithNag(build: (app: App) => Stack): { report: PluginReport; synth: () => void; cleanup: () => void } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-nag-'));
  const app = new App({ outdir });
  build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let report: PluginReport | undefined;
  const synth = () => {
    try {
      app.synth();
    } finally {
      const reportFile = path.join(outdir, 'validation-report.json');
      if (fs.existsSync(reportFile)) {
        const json = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { pluginReports: PluginReport[] };
        report = json.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
      }
    }
  };
  return {
    synth,
    get report(): PluginReport {
      if (!report) throw new Error('no AwsSolutions report');
      return report;
    },
    cleanup: () => fs.rmSync(outdir, { recursive: true, force: true }),
  };
}

describe('cdk-nag AwsSolutions', () => {
  test.each([
    ['pet-store', (app: App) => new PetStoreStack(app, 'KeygatePetStore')],
    ['partner-api', (app: App) => new PartnerApiStack(app, 'KeygatePartnerApi')],
    ['bulk', (app: App) => new BulkStack(app, 'KeygateBulk', { clients: 3 })],
    ['bulk with a rotating set', (app: App) => {
      const stack = new BulkStack(app, 'KeygateBulkRotating', { clients: 3 });
      stack.api.addClientSet('Partners', { clients: [{ name: 'acme', tierNames: ['Pro'] }], setId: 'partners', rotation: KeyRotation.every(Duration.days(90)) });
      return stack;
    }],
  ])('the %s example has no unacknowledged errors, and every acknowledgement has a reason', (_name, build) => {
    // GIVEN
    const run = synthWithNag(build);
    try {
      // WHEN
      expect(() => run.synth()).not.toThrow();

      // THEN
      expect(run.report.conclusion).toBe('success');
      expect(run.report.violations.filter((v) => v.severity === 'error')).toEqual([]);
      expect(run.report.suppressedViolations?.length).toBeGreaterThan(0);
      for (const acknowledged of run.report.suppressedViolations ?? []) {
        expect(acknowledged.reason?.length ?? 0).toBeGreaterThan(20);
      }
    } finally {
      run.cleanup();
    }
  });

  /** What the README shows a new user: tiers, a Secrets Manager client, a rotating client, an expiring client, a rotating client set, hygiene, quota warnings, dashboard, alarms, audit trail. */
  function newUserApp(app: App, env?: { account: string; region: string }): Stack {
    const stack = new Stack(app, 'Shop', { env });
    const api = new KeyProtectedApi(stack, 'Api');
    api.addRoute('GET /pets', mock());
    const basic = api.addTier('Basic', { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 10, period: apigw.Period.DAY } });
    const premium = api.addTier('Premium', { throttle: { rateLimit: 10, burstLimit: 20 } });
    api.addClient('acme', { tiers: [basic], keyValue: KeyValue.secretsManager() });
    api.addClient('globex', { tiers: [premium], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(90)) });
    api.addClient('trial', { tiers: [basic], expires: Expiration.after(Duration.days(14)) });
    api.addClientSet('Partners', { clients: [{ name: 'initech', tierNames: ['Premium'] }], setId: 'partners', rotation: KeyRotation.every(Duration.days(30)) });
    api.addKeyHygiene({ disableUnusedAfter: Duration.days(90) });
    api.addQuotaWarnings();
    api.addDashboard();
    api.addAlarms();
    api.addAuditTrail();
    // The user's own choices about the API: no authorizer, no WAF, no request validation.
    for (const rule of ['APIG2', 'APIG3', 'APIG4', 'COG4']) {
      Validations.of(stack).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason: 'The user\'s choice for this API: API keys and usage plans only.' });
    }
    return stack;
  }

  test.each([
    ['an environment-agnostic stack', undefined],
    ['a stack with a fixed account and region', { account: '123456789012', region: 'eu-west-1' }],
  ])('a new user\'s app using every feature is clean in %s, with no acknowledgement of keygate\'s resources by the user', (_name, env) => {
    // GIVEN
    const run = synthWithNag((app) => newUserApp(app, env));
    try {
      // WHEN
      expect(() => run.synth()).not.toThrow();

      // THEN nothing is left, and what the app acknowledged itself is only the API's four rules
      expect(run.report.violations).toEqual([]);
      const byUser = (run.report.suppressedViolations ?? []).filter((v) => v.acknowledgedAt === 'Shop');
      expect([...new Set(byUser.map((v) => v.ruleName))].sort()).toEqual(['AwsSolutions-APIG2', 'AwsSolutions-APIG3', 'AwsSolutions-APIG4', 'AwsSolutions-COG4']);
      for (const v of byUser) for (const c of v.violatingConstructs) expect(c.constructPath).toMatch(/^Shop\/Api\/Api\//);
      // keygate acknowledged the rest on its own resources, with reasons
      const byKeygate = (run.report.suppressedViolations ?? []).filter((v) => v.acknowledgedAt !== 'Shop');
      expect(byKeygate.length).toBeGreaterThanOrEqual(20);
      for (const v of byKeygate) expect([v.ruleName, (v.reason?.length ?? 0) > 40]).toEqual([v.ruleName, true]);
      // SF1 (waiter logging) is fixed, not acknowledged
      expect(byKeygate.map((v) => v.ruleName)).not.toContain('AwsSolutions-SF1');
    } finally {
      run.cleanup();
    }
  });

  test('an API without acknowledgements fails synth with AwsSolutions errors (the check can fail)', () => {
    // GIVEN
    const run = synthWithNag((app) => {
      const stack = new Stack(app, 'Bare');
      const api = new KeyProtectedApi(stack, 'Api');
      api.addRoute('GET /pets', mock());
      api.addTier('Basic');
      return stack;
    });
    try {
      // WHEN / THEN
      expect(() => run.synth()).toThrow(/AwsSolutions-APIG4/);
      expect(run.report.conclusion).toBe('failure');
      // keygate's own defaults satisfy the access-log and logging rules.
      const failed = run.report.violations.map((v) => v.ruleName);
      expect(failed).not.toContain('AwsSolutions-APIG1');
      expect(failed).not.toContain('AwsSolutions-APIG6');
    } finally {
      run.cleanup();
    }
  });
});
