import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Annotations, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ClientSet, ClientSetEntry, KeyProtectedApi, Tier } from '../../lib';

/** The example's tiers, by share of clients: 70 % Free, 25 % Pro, 5 % Enterprise. */
export const EXAMPLE_TIERS = ['Free', 'Pro', 'Enterprise'] as const;

/**
 * `count` clients, the same ones every time: `customer-00001`…, in three tiers, every 97th
 * disabled, every 10th with a description.
 */
export function exampleClients(count: number): ClientSetEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `customer-${String(i + 1).padStart(5, '0')}`,
    tierNames: [i % 20 === 0 ? 'Enterprise' : i % 4 === 1 ? 'Pro' : 'Free'],
    ...(i % 97 === 96 ? { enabled: false } : {}),
    ...(i % 10 === 0 ? { description: `Customer account ${i + 1}` } : {}),
  }));
}

/** The routes and tiers the example and the benchmark share. */
export function addExampleApi(scope: Construct, id: string): { api: KeyProtectedApi; tiers: Tier[] } {
  const api = new KeyProtectedApi(scope, id, { restApiName: 'keygate-bulk-example' });
  Annotations.of(api).acknowledgeWarning('keygate:apiKeyOnlyAuthorization', 'example API without user accounts');
  const ok = (body: string) => new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': body } }],
  });
  const methodOptions = { methodResponses: [{ statusCode: '200' }] };
  api.addRoute('GET /health', ok('{"status":"ok"}'), { apiKeyRequired: false, methodOptions });
  api.addRoute('GET /reports', ok('{"reports":[]}'), { methodOptions });
  api.addRoute('POST /reports', ok('{"created":true}'), { methodOptions });
  const tiers = [
    api.addTier('Free', { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 1_000, period: apigw.Period.DAY } }),
    api.addTier('Pro', { throttle: { rateLimit: 20, burstLimit: 40 }, quota: { limit: 100_000, period: apigw.Period.MONTH } }),
    api.addTier('Enterprise', { throttle: { rateLimit: 200, burstLimit: 400 } }),
  ];
  return { api, tiers };
}

export interface BulkStackProps extends StackProps {
  /** Number of clients. 10,000 is API Gateway's limit of keys per account and region. */
  readonly clients: number;
}

/**
 * keygate's bulk example: a reporting API sold to 10,000 customers in three tiers, declared
 * as one client set. The stack has the same few dozen resources for 10 clients or 10,000.
 */
export class BulkStack extends Stack {
  public readonly api: KeyProtectedApi;
  public readonly customers: ClientSet;

  constructor(scope: Construct, id: string, props: BulkStackProps) {
    super(scope, id, props);
    this.api = addExampleApi(this, 'Api').api;
    // 10,000 keys fill the region's key quota, so this example declares no single clients
    // beside the set (they would work side by side on the same tiers otherwise).
    this.customers = this.api.addClientSet('Customers', { clients: exampleClients(props.clients) });

    // cdk-nag AwsSolutions: the choices this example made about its API, each with its reason
    // (keygate acknowledges the findings on the resources it makes itself).
    const acknowledgements: Array<[string, string]> = [
      ['AwsSolutions-APIG2', 'Mock integrations; request validation belongs to the backends.'],
      ['AwsSolutions-APIG3', 'Example stack: throttles and quotas come from usage plans; attach a WAF web ACL in production.'],
      ['AwsSolutions-APIG4', 'Clients are identified by API keys and usage plans; the example has no end-user identities.'],
      ['AwsSolutions-COG4', 'No Cognito user pool in this example: API keys identify the clients.'],
    ];
    for (const [ruleId, reason] of acknowledgements) Validations.of(this).acknowledge({ id: `AwsSolutions::${ruleId}`, reason });
  }
}
