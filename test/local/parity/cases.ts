/**
 * Parity cases: one control-plane call made with the real `@aws-sdk/client-api-gateway`
 * against keygate local, the answer API Gateway gives to the same call, and where that answer
 * comes from. Sources, by kind:
 * - LS: LocalStack's AWS-recorded snapshots, tests/aws/services/apigateway/test_apigateway_api.snapshot.json
 *   (responses captured from real AWS; named by test id and snapshot key);
 * - MOTO: moto's tests/test_apigateway/test_apigateway.py (assertions written against AWS's answers);
 * - REF: the Amazon API Gateway REST API reference (docs.aws.amazon.com/apigateway/latest/api/…);
 * - ISSUE9: the comparison against answers recorded from real AWS that opened keygate issue 9.
 * Anything keygate deliberately answers differently is in the README's "Differences from AWS".
 */
import {
  APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanCommand, CreateUsagePlanKeyCommand, DeleteUsagePlanCommand,
  GetApiKeyCommand, GetApiKeysCommand, GetMethodCommand, GetResourcesCommand, GetRestApiCommand, GetRestApisCommand,
  GetUsagePlanCommand, GetUsagePlanKeysCommand, GetUsagePlansCommand, UpdateApiKeyCommand, UpdateUsagePlanCommand,
} from '@aws-sdk/client-api-gateway';

/** The field must be absent from the answer. */
export const ABSENT = Symbol('absent');
/** The field must be present, any value. */
export const PRESENT = Symbol('present');

export interface ParityContext {
  readonly client: APIGatewayClient;
  readonly apiId: string;
  readonly stage: string;
  /** Plan ids by name (free, premium). */
  readonly planId: (name: string) => Promise<string>;
  /** Id of the resource with this path. */
  readonly resourceId: (path: string) => Promise<string>;
}

export interface Expected {
  /** HTTP status of the answer. */
  readonly status: number;
  /** For errors: the SDK's exception name and the message. */
  readonly error?: { readonly name: string; readonly message: string | RegExp };
  /** For successes: fields compared one by one (dotted paths; ABSENT / PRESENT / a value / a RegExp). */
  readonly fields?: Record<string, unknown>;
}

export interface ParityCase {
  readonly id: string;
  readonly source: string;
  /** Makes the call; returns the SDK's output. */
  readonly call: (ctx: ParityContext) => Promise<unknown>;
  readonly aws: Expected;
}

const LS = 'LS tests/aws/services/apigateway/test_apigateway_api.snapshot.json';
const MOTO = 'MOTO tests/test_apigateway/test_apigateway.py';
/** LocalStack's provider, whose messages its AWS-validated snapshot tests hold to AWS's answers. */
const LSP = 'LS localstack/services/apigateway/provider.py';

export const CASES: ParityCase[] = [
  {
    id: 'GetRestApis: endpointConfiguration with ipAddressType, no tags field when there are none',
    source: `${LS} TestApiGatewayApiRestApi::test_list_and_delete_apis "get-rest-api-before-delete"`,
    call: async ({ client, apiId }) => (await client.send(new GetRestApisCommand({}))).items?.find((a) => a.id === apiId),
    aws: { status: 200, fields: { 'endpointConfiguration.types': ['EDGE'], 'endpointConfiguration.ipAddressType': 'ipv4', apiKeySource: 'HEADER', disableExecuteApiEndpoint: false, rootResourceId: PRESENT } },
  },
  {
    id: 'GetRestApi of an unknown id: 404 naming account and id',
    source: `${LS} TestApiGatewayApiRestApi::test_get_api_case_insensitive "get-api-upper-case"`,
    call: ({ client }) => client.send(new GetRestApiCommand({ restApiId: 'NOPE123456' })),
    aws: { status: 404, error: { name: 'NotFoundException', message: /^Invalid API identifier specified \d{12}:NOPE123456$/ } },
  },
  {
    id: 'UpdateApiKey with an op other than replace',
    source: `${LS} TestApiGatewayApiRestApi::test_update_rest_api_compression "unsupported-operation" (the same patch validation on RestApi)`,
    call: async ({ client }) => {
      const k = await client.send(new CreateApiKeyCommand({ name: 'parity-op' }));
      return client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'add', path: '/name', value: 'x' }] }));
    },
    aws: { status: 400, error: { name: 'BadRequestException', message: 'Invalid patch operation specified. Must be one of: [replace]' } },
  },
  {
    id: 'UpdateApiKey with a path that cannot be patched',
    source: `${LS} TestApiGatewayApiRestApi::test_update_rest_api_behaviour "update-rest-api-replace-base-path" (message "Invalid patch path <path>")`,
    call: async ({ client }) => {
      const k = await client.send(new CreateApiKeyCommand({ name: 'parity-path' }));
      return client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'replace', path: '/value', value: 'x' }] }));
    },
    aws: { status: 400, error: { name: 'BadRequestException', message: 'Invalid patch path /value. Must be one of: [/name, /description, /enabled, /customerId]' } },
  },
  {
    id: 'CreateApiKey with a 19-character value',
    source: `${MOTO}::test_api_key_value_min_length`,
    call: ({ client }) => client.send(new CreateApiKeyCommand({ name: 'short', value: '0123456789012345678' })),
    aws: { status: 400, error: { name: 'BadRequestException', message: 'API Key value should be at least 20 characters' } },
  },
  {
    id: 'CreateApiKey with a value that already exists',
    source: `${MOTO}::test_create_api_key_twice`,
    call: async ({ client }) => {
      await client.send(new CreateApiKeyCommand({ name: 'twice-1', value: 'parityTwice0123456789' }));
      return client.send(new CreateApiKeyCommand({ name: 'twice-2', value: 'parityTwice0123456789' }));
    },
    aws: { status: 409, error: { name: 'ConflictException', message: 'API Key already exists' } },
  },
  {
    id: 'GetApiKey of an unknown id',
    source: `${MOTO}::test_get_api_key_unknown_apikey`,
    call: ({ client }) => client.send(new GetApiKeyCommand({ apiKey: 'unknownkey' })),
    aws: { status: 404, error: { name: 'NotFoundException', message: 'Invalid API Key identifier specified' } },
  },
  {
    id: 'GetUsagePlan of an unknown id',
    source: `${MOTO}::test_usage_plans`,
    call: ({ client }) => client.send(new GetUsagePlanCommand({ usagePlanId: 'not_existing' })),
    aws: { status: 404, error: { name: 'NotFoundException', message: 'Invalid Usage Plan ID specified' } },
  },
  {
    id: 'CreateApiKey without a name: no name field, no tags field; GetApiKey includes no value unless asked',
    source: 'ISSUE9 (name "" and tags {} are fields AWS omits); REF ApiKey (value only with includeValue)',
    call: async ({ client }) => {
      const k = await client.send(new CreateApiKeyCommand({}));
      return client.send(new GetApiKeyCommand({ apiKey: k.id }));
    },
    aws: { status: 200, fields: { id: PRESENT, name: ABSENT, tags: ABSENT, value: ABSENT, enabled: false, stageKeys: [] } },
  },
  {
    id: 'CreateApiKey with value "": API Gateway generates a value',
    source: 'ISSUE9 (value: "" accepted by AWS)',
    call: ({ client }) => client.send(new CreateApiKeyCommand({ name: 'empty-value', value: '' })),
    aws: { status: 201, fields: { value: /^[A-Za-z0-9]{40}$/, name: 'empty-value' } },
  },
  {
    id: 'CreateApiKey with a description past the limit',
    source: `ISSUE9 (AWS rejects it; the limit keygate uses, 125 characters, is in README "Differences from AWS"); ISSUE19 + ${LSP} create_api_key (message)`,
    call: ({ client }) => client.send(new CreateApiKeyCommand({ name: 'long-desc', description: 'd'.repeat(126) })),
    aws: { status: 400, error: { name: 'BadRequestException', message: 'Invalid API Key description specified.' } },
  },
  {
    id: 'UpdateApiKey /enabled with a value that is not a boolean: accepted, read as false',
    source: 'ISSUE9 (a non-boolean enabled in a patch is accepted by AWS)',
    call: async ({ client }) => {
      const k = await client.send(new CreateApiKeyCommand({ name: 'enabled-yes', enabled: true }));
      return client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'replace', path: '/enabled', value: 'yes' }] }));
    },
    aws: { status: 200, fields: { enabled: false, name: 'enabled-yes' } },
  },
  {
    id: 'GetApiKeys with limit=-1: accepted',
    source: 'ISSUE9 (limit=-1 accepted by AWS); REF GetApiKeys (limit: default 25, maximum 500)',
    call: ({ client }) => client.send(new GetApiKeysCommand({ limit: -1 })),
    aws: { status: 200, fields: { items: PRESENT } },
  },
  {
    id: 'GetApiKeys lists the newest key first',
    source: 'ISSUE9 (AWS lists keys newest first)',
    call: async ({ client }) => {
      await client.send(new CreateApiKeyCommand({ name: 'order-a' }));
      await new Promise((r) => setTimeout(r, 1100));
      await client.send(new CreateApiKeyCommand({ name: 'order-b' }));
      return { names: (await client.send(new GetApiKeysCommand({ nameQuery: 'order-' }))).items?.map((k) => k.name) };
    },
    aws: { status: 200, fields: { names: ['order-b', 'order-a'] } },
  },
  {
    id: 'GetUsagePlanKeys of an unknown plan: 200 with no items',
    source: 'ISSUE9 (AWS answers 200 with no items)',
    call: ({ client }) => client.send(new GetUsagePlanKeysCommand({ usagePlanId: 'nosuchplan' })),
    aws: { status: 200, fields: { items: [] } },
  },
  {
    id: 'GetUsagePlanKeys lists the newest association first',
    source: 'ISSUE9 (AWS lists plan keys newest first)',
    call: async ({ client, planId }) => {
      const premium = await planId('premium');
      for (const name of ['assoc-a', 'assoc-b']) {
        const k = await client.send(new CreateApiKeyCommand({ name }));
        await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: premium, keyId: k.id, keyType: 'API_KEY' }));
      }
      return { names: (await client.send(new GetUsagePlanKeysCommand({ usagePlanId: premium, nameQuery: 'assoc-' }))).items?.map((k) => k.name) };
    },
    aws: { status: 200, fields: { names: ['assoc-b', 'assoc-a'] } },
  },
  {
    id: 'CreateUsagePlan then GetUsagePlan: the payload comes back unchanged',
    source: `${MOTO}::test_usage_plans ("The payload should remain unchanged")`,
    call: async ({ client, apiId, stage }) => {
      const created = await client.send(new CreateUsagePlanCommand({
        name: 'TEST-PLAN-2', description: 'Description', quota: { limit: 10, period: 'DAY', offset: 0 }, throttle: { rateLimit: 2, burstLimit: 1 },
        apiStages: [{ apiId, stage }], tags: { tag_key: 'tag_value' },
      }));
      return client.send(new GetUsagePlanCommand({ usagePlanId: created.id }));
    },
    aws: {
      status: 200,
      fields: {
        id: PRESENT, name: 'TEST-PLAN-2', description: 'Description', quota: { limit: 10, period: 'DAY', offset: 0 }, throttle: { rateLimit: 2, burstLimit: 1 },
        'apiStages.0.stage': 'v1', tags: { tag_key: 'tag_value' },
      },
    },
  },
  {
    id: 'UpdateUsagePlan: quota, throttle and name patches',
    source: `${MOTO}::test_update_usage_plan`,
    call: async ({ client }) => {
      const created = await client.send(new CreateUsagePlanCommand({ name: 'TEST-PLAN-3', quota: { limit: 10, period: 'DAY', offset: 0 }, throttle: { rateLimit: 2, burstLimit: 1 } }));
      return client.send(new UpdateUsagePlanCommand({
        usagePlanId: created.id,
        patchOperations: [
          { op: 'replace', path: '/quota/limit', value: '1000' }, { op: 'replace', path: '/quota/period', value: 'MONTH' },
          { op: 'replace', path: '/throttle/rateLimit', value: '500' }, { op: 'replace', path: '/throttle/burstLimit', value: '1500' },
          { op: 'replace', path: '/name', value: 'new-name' }, { op: 'replace', path: '/description', value: 'new-description' },
        ],
      }));
    },
    aws: { status: 200, fields: { 'quota.limit': 1000, 'quota.period': 'MONTH', 'throttle.rateLimit': 500, 'throttle.burstLimit': 1500, name: 'new-name', description: 'new-description' } },
  },
  {
    id: 'UpdateUsagePlan: add an API stage, then a per-method throttle on it',
    source: 'REF UpdateUsagePlan + PatchOperation (paths /apiStages and /apiStages/{apiId}:{stage}/throttle/{resourcePath}/{httpMethod}/rateLimit, resource path escaped with ~1)',
    call: async ({ client, apiId, stage }) => {
      const created = await client.send(new CreateUsagePlanCommand({ name: 'per-method', throttle: { rateLimit: 10, burstLimit: 10 } }));
      return client.send(new UpdateUsagePlanCommand({
        usagePlanId: created.id,
        patchOperations: [
          { op: 'add', path: '/apiStages', value: `${apiId}:${stage}` },
          { op: 'replace', path: `/apiStages/${apiId}:${stage}/throttle/~1pets/GET/rateLimit`, value: '3' },
          { op: 'replace', path: `/apiStages/${apiId}:${stage}/throttle/~1pets/GET/burstLimit`, value: '4' },
        ],
      }));
    },
    aws: { status: 200, fields: { 'apiStages.0.stage': 'v1', 'apiStages.0.throttle': { '/pets/GET': { rateLimit: 3, burstLimit: 4 } } } },
  },
  {
    id: 'UpdateUsagePlan with a path that cannot be patched',
    source: `${LS} TestApiGatewayApiRestApi::test_update_rest_api_behaviour (message "Invalid patch path <path>")`,
    call: async ({ client, planId }) => client.send(new UpdateUsagePlanCommand({ usagePlanId: await planId('premium'), patchOperations: [{ op: 'replace', path: '/id', value: 'x' }] })),
    aws: { status: 400, error: { name: 'BadRequestException', message: /^Invalid patch path \/id\. Must be one of: \[\/name, \/description, .*\/apiStages.*\]$/ } },
  },
  {
    id: 'DeleteUsagePlan: 202, then the plan is gone',
    source: `${MOTO}::test_usage_plans`,
    call: async ({ client }) => {
      const created = await client.send(new CreateUsagePlanCommand({ name: 'to-delete' }));
      await client.send(new DeleteUsagePlanCommand({ usagePlanId: created.id }));
      return client.send(new GetUsagePlanCommand({ usagePlanId: created.id }));
    },
    aws: { status: 404, error: { name: 'NotFoundException', message: 'Invalid Usage Plan ID specified' } },
  },
  {
    id: 'GetUsagePlans: a plan CloudFormation created without a name has a generated one',
    source: 'ISSUE9 (AWS generates a name for CloudFormation-made plans)',
    call: async ({ client }) => ({ unnamed: (await client.send(new GetUsagePlansCommand({}))).items?.filter((p) => !p.name).length }),
    aws: { status: 200, fields: { unnamed: 0 } },
  },
  {
    id: 'GetResources: every resource with its path and methods',
    source: 'REF GetResources (Resources: items of Resource {id, parentId, pathPart, path, resourceMethods})',
    call: async ({ client, apiId }) => {
      const items = (await client.send(new GetResourcesCommand({ restApiId: apiId }))).items ?? [];
      const pets = items.find((r) => r.path === '/pets');
      return { root: items.find((r) => r.path === '/')?.pathPart ?? null, petsPart: pets?.pathPart, petsMethods: Object.keys(pets?.resourceMethods ?? {}).sort() };
    },
    aws: { status: 200, fields: { root: null, petsPart: 'pets', petsMethods: ['GET', 'POST'] } },
  },
  {
    id: 'GetMethod: the method with its key requirement and integration',
    source: 'REF GetMethod (Method {httpMethod, authorizationType, apiKeyRequired, methodIntegration})',
    call: async ({ client, apiId, resourceId }) => client.send(new GetMethodCommand({ restApiId: apiId, resourceId: await resourceId('/pets'), httpMethod: 'GET' })),
    aws: { status: 200, fields: { httpMethod: 'GET', authorizationType: 'NONE', apiKeyRequired: true, 'methodIntegration.type': 'MOCK' } },
  },
  {
    id: 'GetMethod of a method the resource does not have',
    source: 'MOTO moto/apigateway/exceptions.py MethodNotFoundException (asserted in test_apigateway.py::test_get_method_unknown_resource_id family)',
    call: async ({ client, apiId, resourceId }) => client.send(new GetMethodCommand({ restApiId: apiId, resourceId: await resourceId('/pets'), httpMethod: 'DELETE' })),
    aws: { status: 404, error: { name: 'NotFoundException', message: 'Invalid Method identifier specified' } },
  },
  {
    id: 'CreateApiKey with a name past 1024 characters',
    source: `ISSUE19 (recorded from AWS); ${LSP} create_api_key`,
    call: ({ client }) => client.send(new CreateApiKeyCommand({ name: 'n'.repeat(1025) })),
    aws: { status: 400, error: { name: 'BadRequestException', message: 'Invalid API Key name, can be at most 1024 characters.' } },
  },
  {
    id: 'CreateApiKey with a value past 128 characters',
    source: `ISSUE19 (recorded from AWS); ${LSP} create_api_key`,
    call: ({ client }) => client.send(new CreateApiKeyCommand({ name: 'long-value', value: 'v'.repeat(129) })),
    aws: { status: 400, error: { name: 'BadRequestException', message: 'API Key value exceeds maximum size of 128 characters' } },
  },
  {
    id: 'UpdateApiKey /name past 1024 characters',
    source: 'ISSUE19 (the same refusal as CreateApiKey\'s, recorded from AWS)',
    call: async ({ client }) => {
      const k = await client.send(new CreateApiKeyCommand({ name: 'parity-longname' }));
      return client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'replace', path: '/name', value: 'n'.repeat(1025) }] }));
    },
    aws: { status: 400, error: { name: 'BadRequestException', message: 'Invalid API Key name, can be at most 1024 characters.' } },
  },
  {
    id: 'UpdateApiKey answers tags: {} for a key without tags',
    source: 'ISSUE19 (UpdateApiKey\'s recorded answer has "tags": {}; GetApiKey\'s has no tags field)',
    call: async ({ client }) => {
      const k = await client.send(new CreateApiKeyCommand({ name: 'parity-tags' }));
      return client.send(new UpdateApiKeyCommand({ apiKey: k.id, patchOperations: [{ op: 'replace', path: '/description', value: 'd' }] }));
    },
    aws: { status: 200, fields: { tags: {}, description: 'd' } },
  },
  {
    id: 'DeleteUsagePlan of a plan that still has API stages: 400',
    source: 'ISSUE19 (recorded from AWS: BadRequestException "Cannot delete Usage Plan <id> because there are API Stages associated with it")',
    call: async ({ client, apiId, stage }) => {
      const created = await client.send(new CreateUsagePlanCommand({ name: 'staged-delete', apiStages: [{ apiId, stage }] }));
      return client.send(new DeleteUsagePlanCommand({ usagePlanId: created.id })).catch((err: { message?: string }) => {
        throw Object.assign(err, { message: err.message?.replace(created.id!, '<id>') });
      });
    },
    aws: { status: 400, error: { name: 'BadRequestException', message: 'Cannot delete Usage Plan <id> because there are API Stages associated with it' } },
  },
  {
    id: 'UpdateUsagePlan removing an API stage that is not apiId:stage',
    source: `${LSP} update_usage_plan ("Invalid API Stage specified")`,
    call: async ({ client, planId }) => client.send(new UpdateUsagePlanCommand({ usagePlanId: await planId('premium'), patchOperations: [{ op: 'remove', path: '/apiStages', value: 'no-colon' }] })),
    aws: { status: 400, error: { name: 'BadRequestException', message: 'Invalid API Stage specified' } },
  },
  {
    id: 'UpdateUsagePlan removing an API stage of an unknown API',
    source: `${LSP} update_usage_plan ("Invalid API Stage {api: …, stage: …} specified for usageplan …")`,
    call: async ({ client, planId }) => {
      const id = await planId('premium');
      return client.send(new UpdateUsagePlanCommand({ usagePlanId: id, patchOperations: [{ op: 'remove', path: '/apiStages', value: 'nope123456:prod' }] })).catch((err: { message?: string }) => {
        throw Object.assign(err, { message: err.message?.replace(id, '<plan>') });
      });
    },
    aws: { status: 404, error: { name: 'NotFoundException', message: 'Invalid API Stage {api: nope123456, stage: prod} specified for usageplan <plan>' } },
  },
  {
    id: 'GetMethod: methodIntegration carries the fields API Gateway fills in',
    source: 'ISSUE19 (recorded GetMethod answer: cacheKeyParameters, cacheNamespace, connectionType, integrationResponses, passthroughBehavior, timeoutInMillis); REF Integration',
    call: async ({ client, apiId, resourceId }) => client.send(new GetMethodCommand({ restApiId: apiId, resourceId: await resourceId('/pets'), httpMethod: 'GET' })),
    aws: {
      status: 200,
      fields: {
        'methodIntegration.cacheKeyParameters': [], 'methodIntegration.cacheNamespace': PRESENT, 'methodIntegration.connectionType': 'INTERNET',
        'methodIntegration.integrationResponses': PRESENT, 'methodIntegration.passthroughBehavior': PRESENT, 'methodIntegration.timeoutInMillis': 29000,
      },
    },
  },
];
