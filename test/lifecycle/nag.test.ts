import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Expiration, KeyProtectedApi } from '../../lib';
import { mock } from '../support/keygate-fixtures';

interface Violation { readonly ruleName: string; readonly reason?: string; readonly violatingConstructs: { readonly constructPath: string }[] }

test('cdk-nag AwsSolutions: the lifecycle jobs leave no finding; what they acknowledge has a reason', () => {
  // GIVEN an app with all three jobs
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-lifecycle-nag-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Shop');
    const api = new KeyProtectedApi(stack, 'Api');
    api.addRoute('GET /pets', mock());
    const basic = api.addTier('Basic', { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 10, period: apigw.Period.DAY } });
    api.addClient('trial', { tiers: [basic], expires: Expiration.after(Duration.days(14)) });
    api.addKeyHygiene({ disableUnusedAfter: Duration.days(90) });
    api.addQuotaWarnings();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // WHEN
    expect(() => app.synth()).toThrow(/AwsSolutions/);

    // THEN
    const report = (JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; violations: Violation[]; suppressedViolations?: Violation[] }[] })
      .pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    const ours = /^Shop\/(Api\/(KeyHygiene|QuotaWarnings)|KeygateKeyExpiry)\//;
    const findings = (report?.violations ?? []).flatMap((v) => v.violatingConstructs.filter((c) => ours.test(c.constructPath)).map((c) => `${v.ruleName} ${c.constructPath}`));
    expect(findings).toEqual([]);
    const acknowledged = (report?.suppressedViolations ?? []).filter((v) => v.violatingConstructs.some((c) => ours.test(c.constructPath)));
    expect([...new Set(acknowledged.map((v) => v.ruleName))].sort()).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/apikeys/*]',
    ]);
    for (const v of acknowledged) expect(v.reason?.length ?? 0).toBeGreaterThan(40);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
