import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BulkStack } from '../examples/bulk/bulk-stack';

describe('bulk example', () => {
  // GIVEN / WHEN: the stack as examples/bulk/app.ts builds it, with a few clients and a fixed environment
  const app = new App();
  const stack = new BulkStack(app, 'KeygateBulk', { clients: 3, env: { account: '111111111111', region: 'us-east-1' } });
  const template = Template.fromStack(stack);

  test('snapshot', () => {
    // THEN
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('clients are not single ApiKey resources: the stack stays small', () => {
    // THEN
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 0);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: Match.anyValue() });
  });
});
