/**
 * An in-memory API Gateway (keys, usage plans, usage) behind aws-sdk-client-mock, for tests
 * that need state across calls (rotation re-runs, import). Failures can be injected per command.
 */
import {
  APIGatewayClient, ApiKey, ConflictException, CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand,
  GetApiKeyCommand, GetApiKeysCommand, GetUsageCommand, GetUsagePlanKeysCommand, GetUsagePlansCommand, ImportApiKeysCommand,
  NotFoundException, TagResourceCommand, TooManyRequestsException, UpdateApiKeyCommand, UsagePlan,
} from '@aws-sdk/client-api-gateway';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { parseKeyFile } from '../../lib/sdk/import-keys';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

type Failure = { command: string; error: () => Error; times: number };

export class FakeApiGateway {
  readonly keys = new Map<string, ApiKey>();
  readonly plans = new Map<string, UsagePlan>();
  readonly planKeys = new Map<string, Set<string>>();
  /** planId → keyId → daily [used, remaining]. */
  readonly usage = new Map<string, Map<string, number[][]>>();
  readonly secrets = new Map<string, string>();
  readonly calls: string[] = [];
  pageSize = 2;
  private seq = 0;
  private failures: Failure[] = [];
  readonly apigwMock: AwsClientStub<APIGatewayClient>;
  readonly secretsMock: AwsClientStub<SecretsManagerClient>;

  constructor() {
    this.apigwMock = mockClient(APIGatewayClient);
    this.secretsMock = mockClient(SecretsManagerClient);
    this.install();
  }

  restore(): void {
    this.apigwMock.restore();
    this.secretsMock.restore();
  }

  /** The next `times` calls of `command` (e.g. 'CreateApiKey') fail. */
  failNext(command: string, times = 1, error: () => Error = () => new TooManyRequestsException({ message: 'Too Many Requests', $metadata: { httpStatusCode: 429 } })): void {
    this.failures.push({ command, error, times });
  }

  addPlan(plan: UsagePlan): UsagePlan {
    this.plans.set(plan.id ?? '', plan);
    this.planKeys.set(plan.id ?? '', new Set());
    return plan;
  }

  addKey(key: ApiKey, planIds: string[] = []): ApiKey {
    const k: ApiKey = { enabled: true, createdDate: new Date('2026-01-01T00:00:00Z'), tags: {}, ...key, id: key.id ?? this.nextId() };
    this.keys.set(k.id ?? '', k);
    for (const p of planIds) this.planKeys.get(p)?.add(k.id ?? '');
    return k;
  }

  plansOf(keyId: string): string[] {
    return [...this.planKeys.entries()].filter(([, ks]) => ks.has(keyId)).map(([p]) => p).sort();
  }

  private nextId(): string {
    return `k${String(++this.seq).padStart(9, '0')}`;
  }

  private gate(command: string): void {
    this.calls.push(command);
    const f = this.failures.find((x) => x.command === command && x.times > 0);
    if (f) {
      f.times--;
      throw f.error();
    }
  }

  private page<T>(all: T[], position: string | undefined, limit: number | undefined): { items: T[]; position?: string } {
    const start = position ? Number(position) : 0;
    const size = Math.min(limit ?? 25, this.pageSize);
    const items = all.slice(start, start + size);
    return { items, ...(start + size < all.length ? { position: String(start + size) } : {}) };
  }

  private notFound(what: string): NotFoundException {
    return new NotFoundException({ message: `Invalid ${what} identifier specified`, $metadata: { httpStatusCode: 404 } });
  }

  private view(k: ApiKey, withValue: boolean | undefined): ApiKey {
    const copy = { ...k, tags: { ...(k.tags ?? {}) } };
    if (!withValue) delete copy.value;
    return copy;
  }

  private install(): void {
    const m = this.apigwMock;
    m.on(GetApiKeyCommand).callsFake((i: { apiKey: string; includeValue?: boolean }) => {
      this.gate('GetApiKey');
      const k = this.keys.get(i.apiKey);
      if (!k) throw this.notFound('API Key');
      return this.view(k, i.includeValue);
    });
    m.on(GetApiKeysCommand).callsFake((i: { position?: string; limit?: number; includeValues?: boolean; nameQuery?: string }) => {
      this.gate('GetApiKeys');
      const all = [...this.keys.values()].filter((k) => !i.nameQuery || (k.name ?? '').startsWith(i.nameQuery)).map((k) => this.view(k, i.includeValues));
      return this.page(all, i.position, i.limit);
    });
    m.on(CreateApiKeyCommand).callsFake((i: ApiKey) => {
      this.gate('CreateApiKey');
      return this.view(this.addKey({ ...i, id: undefined, value: i.value ?? `generated${this.seq}abcdefghijklmnop` }), true);
    });
    m.on(UpdateApiKeyCommand).callsFake((i: { apiKey: string; patchOperations: { op: string; path: string; value: string }[] }) => {
      this.gate('UpdateApiKey');
      const k = this.keys.get(i.apiKey);
      if (!k) throw this.notFound('API Key');
      for (const op of i.patchOperations) {
        if (op.path === '/enabled') k.enabled = op.value === 'true';
        if (op.path === '/name') k.name = op.value;
        if (op.path === '/description') k.description = op.value;
      }
      return this.view(k, false);
    });
    m.on(DeleteApiKeyCommand).callsFake((i: { apiKey: string }) => {
      this.gate('DeleteApiKey');
      if (!this.keys.delete(i.apiKey)) throw this.notFound('API Key');
      for (const ks of this.planKeys.values()) ks.delete(i.apiKey);
      return {};
    });
    m.on(TagResourceCommand).callsFake((i: { resourceArn: string; tags: Record<string, string> }) => {
      this.gate('TagResource');
      const id = /\/apikeys\/(.+)$/.exec(i.resourceArn)?.[1] ?? '';
      const k = this.keys.get(id);
      if (!k) throw this.notFound('resource');
      k.tags = { ...(k.tags ?? {}), ...i.tags };
      return {};
    });
    m.on(GetUsagePlansCommand).callsFake((i: { position?: string; limit?: number; keyId?: string }) => {
      this.gate('GetUsagePlans');
      const all = [...this.plans.values()].filter((p) => !i.keyId || this.planKeys.get(p.id ?? '')?.has(i.keyId));
      return this.page(all, i.position, i.limit);
    });
    m.on(GetUsagePlanKeysCommand).callsFake((i: { usagePlanId: string; position?: string; limit?: number }) => {
      this.gate('GetUsagePlanKeys');
      const ids = [...(this.planKeys.get(i.usagePlanId) ?? [])];
      const all = ids.map((id) => this.keys.get(id)).filter((k): k is ApiKey => !!k).map((k) => ({ id: k.id, name: k.name, type: 'API_KEY', value: k.value }));
      return this.page(all, i.position, i.limit);
    });
    m.on(CreateUsagePlanKeyCommand).callsFake((i: { usagePlanId: string; keyId: string }) => {
      this.gate('CreateUsagePlanKey');
      const ks = this.planKeys.get(i.usagePlanId);
      if (!ks) throw this.notFound('Usage Plan');
      if (ks.has(i.keyId)) throw new ConflictException({ message: 'Usage Plan Key already exists', $metadata: { httpStatusCode: 409 } });
      ks.add(i.keyId);
      const k = this.keys.get(i.keyId);
      return { id: i.keyId, name: k?.name, type: 'API_KEY' };
    });
    m.on(ImportApiKeysCommand).callsFake((i: { body: Uint8Array; failOnWarnings?: boolean }) => {
      this.gate('ImportApiKeys');
      const file = parseKeyFile(new TextDecoder().decode(i.body));
      const ids: string[] = [];
      for (const r of file.rows) {
        const existing = [...this.keys.values()].find((k) => k.value === r.key);
        const k = existing ?? this.addKey({ name: r.name, value: r.key });
        Object.assign(k, { name: r.name, description: r.description, enabled: !/^false$/i.test(r.enabled) });
        for (const p of r.plans) this.planKeys.get(p)?.add(k.id ?? '');
        ids.push(k.id ?? '');
      }
      return { ids, warnings: [] };
    });
    m.on(GetUsageCommand).callsFake((i: { usagePlanId: string; keyId?: string; startDate: string; endDate: string; position?: string; limit?: number }) => {
      this.gate('GetUsage');
      const byKey = this.usage.get(i.usagePlanId) ?? new Map<string, number[][]>();
      const entries = [...byKey.entries()].filter(([k]) => !i.keyId || k === i.keyId);
      const pg = this.page(entries, i.position, i.limit);
      return { usagePlanId: i.usagePlanId, startDate: i.startDate, endDate: i.endDate, items: Object.fromEntries(pg.items), ...(pg.position ? { position: pg.position } : {}) };
    });
    this.secretsMock.on(GetSecretValueCommand).callsFake((i: { SecretId: string }) => {
      this.gate('GetSecretValue');
      const s = this.secrets.get(i.SecretId);
      if (s === undefined) throw Object.assign(new Error('Secrets Manager can\'t find the specified secret.'), { name: 'ResourceNotFoundException' });
      return { ARN: i.SecretId, SecretString: s };
    });
    this.secretsMock.on(PutSecretValueCommand).callsFake((i: { SecretId: string; SecretString: string }) => {
      this.gate('PutSecretValue');
      this.secrets.set(i.SecretId, i.SecretString);
      return { ARN: i.SecretId };
    });
  }
}

export function newClients(): { apigw: APIGatewayClient; secrets: SecretsManagerClient } {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  return { apigw: new APIGatewayClient({ region: 'eu-west-1', credentials }), secrets: new SecretsManagerClient({ region: 'eu-west-1', credentials }) };
}
