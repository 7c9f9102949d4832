import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Expiration, KeygateFunctionLogs, KeyProtectedApi, KeyRotation, KeyValue } from '../../lib';
import { mock, newStack } from '../support/keygate-fixtures';

/** Every keygate feature that runs a Lambda function: rotation, expiry, hygiene, quota warnings, a (rotating) client set. */
function everyFunction(stack: Stack): void {
  const api = new KeyProtectedApi(stack, 'Api');
  api.addRoute('GET /pets', mock());
  const basic = api.addTier('Basic', { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 10, period: apigw.Period.DAY } });
  api.addClient('globex', { tiers: [basic], keyValue: KeyValue.secretsManager(), rotation: KeyRotation.every(Duration.days(90)) });
  api.addClient('trial', { tiers: [basic], expires: Expiration.after(Duration.days(14)) });
  api.addClientSet('Partners', { clients: [{ name: 'acme', tierNames: ['Basic'] }], setId: 'partners', rotation: KeyRotation.every(Duration.days(30)) });
  api.addKeyHygiene({ disableUnusedAfter: Duration.days(90) });
  api.addQuotaWarnings();
}

/** Each Lambda function's LoggingConfig.LogGroup, resolved to the log group resource it names. */
function logGroupsOfFunctions(template: Template): Record<string, { Properties: { RetentionInDays?: number }; DeletionPolicy?: string } | undefined> {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
  return Object.fromEntries(Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => {
      const ref = (r.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
      return [id, ref ? resources[ref] as never : undefined];
    }));
}

describe('logs of keygate\'s Lambda functions', () => {
  test('every function (keygate\'s and the Provider framework\'s) logs to its own group, kept a year, deleted with the stack', () => {
    // GIVEN
    const { stack } = newStack();

    // WHEN
    everyFunction(stack);

    // THEN
    const template = Template.fromStack(stack);
    const groups = logGroupsOfFunctions(template);
    expect(Object.keys(groups).length).toBeGreaterThanOrEqual(9);
    for (const [fn, group] of Object.entries(groups)) {
      expect([fn, group?.Properties.RetentionInDays, group?.DeletionPolicy]).toEqual([fn, 365, 'Delete']);
    }
    // the waiter state machine logs ALL events (without execution data) to a group of keygate's too
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeygateClientSetProviderWaiterLogs'), 'Arn'] } } }] },
    });
  });

  test('the retention and removal policy are the user\'s to set, also after the constructs were added', () => {
    // GIVEN
    const { stack } = newStack();
    everyFunction(stack);

    // WHEN
    KeygateFunctionLogs.of(stack).retention = logs.RetentionDays.THREE_MONTHS;
    KeygateFunctionLogs.of(stack).removalPolicy = RemovalPolicy.RETAIN;

    // THEN
    for (const [fn, group] of Object.entries(logGroupsOfFunctions(Template.fromStack(stack)))) {
      expect([fn, group?.Properties.RetentionInDays, group?.DeletionPolicy]).toEqual([fn, 90, 'Retain']);
    }
  });
});
