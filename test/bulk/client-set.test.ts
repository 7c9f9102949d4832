import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { App, Stack } from 'aws-cdk-lib';
import { ClientSet, ClientSetEntry, ClientSetSource, KeyProtectedApi } from '../../lib';
import { BulkStack } from '../../examples/bulk/bulk-stack';
import { bulkFixture, generatedClients } from './support';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-bulk-test-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

function manifestOf(set: ClientSet): { clients: Array<Record<string, unknown>> } {
  const outdir = set.node.root instanceof Object ? (set.node.root as unknown as { outdir: string }).outdir : '';
  return JSON.parse(fs.readFileSync(path.join(outdir, set.manifest.assetPath), 'utf-8'));
}

/** The default setId: 12 hex characters of a hash of `<stack name>/<path inside the stack>`. */
function setIdOf(stackAndPath: string): string {
  return createHash('sha256').update(stackAndPath).digest('hex').slice(0, 12);
}

describe('ClientSet resources', () => {
  test('one custom resource, the manifest as an asset, plan ids by tier key, no ApiKey resource', () => {
    const f = bulkFixture();
    const set = f.api.addClientSet('Customers', { clients: generatedClients(30) });
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('Custom::KeygateClientSet', 1);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 0);
    template.hasResourceProperties('Custom::KeygateClientSet', {
      SetId: setIdOf('Bulk/Api/Clients/Customers'),
      ManifestKey: Match.stringLikeRegexp('^[0-9a-f]{64}\\.json$'),
      Tiers: {
        t0: { Ref: Match.stringLikeRegexp('^ApiEnterprise') },
        t1: { Ref: Match.stringLikeRegexp('^ApiPro') },
        t2: { Ref: Match.stringLikeRegexp('^ApiFree') },
      },
      BatchSize: '500',
      ServiceTimeout: '3600',
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.isComplete', Runtime: 'nodejs24.x', Timeout: 600 });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.onEvent', Runtime: 'nodejs24.x' });
    // Keys: API Gateway's key ARNs allow no narrower scope (key ids exist only at run time).
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([
        Match.objectLike({ Action: ['apigateway:GET', 'apigateway:POST'], Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('::/apikeys$')])] } }),
        Match.objectLike({ Action: ['apigateway:PATCH', 'apigateway:DELETE'], Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('::/apikeys/\\*$')])] } }),
      ]) },
    });
    // The deployment's own manifest object and its tiers' plans only, in a policy named after them.
    const deployment = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => /DeploymentAccess/.test(id));
    expect(deployment).toHaveLength(1);
    const statements = (deployment[0][1] as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument.Statement;
    expect(JSON.stringify(statements.find((st) => st.Action === 's3:GetObject')?.Resource)).toContain(`/${set.manifest.s3ObjectKey}`);
    expect(JSON.stringify(statements)).not.toMatch(/\*\.json|usageplans\/\*/);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    expect(set).toMatchObject({ clientCount: 30, keyCount: 30, setId: setIdOf('Bulk/Api/Clients/Customers') });
    const manifest = manifestOf(set);
    expect(manifest.clients[0]).toEqual({ name: 'customer-00001', tiers: ['t0'], description: 'Customer account 1' });
    expect(manifest.clients).toHaveLength(30);
  });

  test('the number of resources does not depend on the number of clients', () => {
    const small = bulkFixture();
    small.api.addClientSet('Customers', { clients: generatedClients(10) });
    const large = bulkFixture();
    large.api.addClientSet('Customers', { clients: generatedClients(2000) });
    const count = (t: Template) => Object.keys(t.toJSON().Resources).length;
    expect(count(Template.fromStack(large.stack))).toBe(count(Template.fromStack(small.stack)));
  });

  test('the manifest holds names, tiers, flags and generations, never a value; defaults are left out', () => {
    const f = bulkFixture();
    const set = f.api.addClientSet('Customers', {
      clients: [
        { name: 'acme', tiers: [f.pro], enabled: false, description: 'Acme Corp', tags: { team: 'sales' }, generations: [2, 1] },
        { name: 'globex', tierNames: ['Free'] },
      ],
    });
    Template.fromStack(f.stack);
    expect(manifestOf(set)).toEqual({
      version: 1,
      clients: [
        { name: 'acme', tiers: ['t0'], enabled: false, description: 'Acme Corp', tags: { team: 'sales' }, generations: [1, 2] },
        { name: 'globex', tiers: ['t1'] },
      ],
    });
    expect(set.keyCount).toBe(3);
  });

  test('side by side with single clients: the set starts after every UsagePlanKey of the stack', () => {
    const f = bulkFixture();
    f.api.addClient('Single', { tiers: [f.pro] });
    f.api.addClientSet('Customers', { clients: generatedClients(5) });
    f.api.addClient('Later', { tiers: [f.free] });
    const template = Template.fromStack(f.stack);
    const keys = Object.keys(template.findResources('AWS::ApiGateway::UsagePlanKey'));
    expect(keys).toHaveLength(2);
    const [set] = Object.values(template.findResources('Custom::KeygateClientSet')) as Array<{ DependsOn: string[] }>;
    expect(set.DependsOn).toEqual(expect.arrayContaining(keys));
  });

  test('two sets in a stack share one reconciler and run one after the other', () => {
    const f = bulkFixture();
    f.api.addClientSet('A', { clients: [{ name: 'a', tierNames: ['Free'] }] });
    f.api.addClientSet('B', { clients: [{ name: 'b', tierNames: ['Free'] }] });
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('Custom::KeygateClientSet', 2);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const sets = template.findResources('Custom::KeygateClientSet') as Record<string, { DependsOn?: string[] }>;
    const [a, b] = Object.keys(sets);
    expect(sets[b].DependsOn).toContain(a);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown }> } } }).Properties.PolicyDocument.Statement);
    // Each set reads its own manifest object only.
    expect(statements.filter((st) => st.Action === 's3:GetObject')).toHaveLength(2);
  });

  test('a new manifest gets a new access policy: the old one stays until CloudFormation\'s cleanup, so a rollback can read the old manifest', () => {
    const logicalIdsOf = (clients: ClientSetEntry[]) => {
      const f = bulkFixture();
      f.api.addClientSet('A', { clients });
      return Object.keys(Template.fromStack(f.stack).findResources('AWS::IAM::Policy')).filter((id) => /DeploymentAccess/.test(id));
    };
    const first = logicalIdsOf([{ name: 'a', tierNames: ['Free'] }]);
    expect(logicalIdsOf([{ name: 'a', tierNames: ['Free'] }])).toEqual(first);
    expect(logicalIdsOf([{ name: 'a', tierNames: ['Pro'] }])).not.toEqual(first);
  });

  test('two client sets with one setId in an app fail synth', () => {
    const f = bulkFixture();
    f.api.addClientSet('A', { clients: [{ name: 'a', tierNames: ['Free'] }], setId: 'shared' });
    const other = new Stack(f.app, 'Other');
    const api = new KeyProtectedApi(other, 'Api');
    api.addRoute('GET /x', new apigw.MockIntegration());
    api.addTier('Free');
    expect(() => api.addClientSet('B', { clients: [{ name: 'b', tierNames: ['Free'] }], setId: 'shared' })).toThrow(/Other\/Api\/Clients\/B\] setId: is the setId of Bulk\/Api\/Clients\/A already; two client sets with one id would change and delete each other's keys \(got 'shared'\)|setId of Bulk\/Api\/Clients\/A already/);
  });

  test('adoptExistingKeys is passed to the reconciler (default false)', () => {
    const f = bulkFixture();
    f.api.addClientSet('A', { clients: [{ name: 'a', tierNames: ['Free'] }], setId: 'moved', adoptExistingKeys: true });
    f.api.addClientSet('B', { clients: [{ name: 'b', tierNames: ['Free'] }] });
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('Custom::KeygateClientSet', { SetId: 'moved', AdoptExistingKeys: 'true', TotalTimeoutSeconds: '3600' });
    template.hasResourceProperties('Custom::KeygateClientSet', { SetId: setIdOf('Bulk/Api/Clients/B'), AdoptExistingKeys: 'false' });
  });

  test('names: a generation suffix past 1,024 characters, and quote characters, are refused at synth', () => {
    const f = bulkFixture();
    expect(() => f.api.addClientSet('A', { clients: [{ name: 'x'.repeat(1020), tierNames: ['Free'], generations: [1, 2] }] }))
      .toThrow(/with its generation suffix the key name 'x{20}…-gen2' is 1025 characters; API Gateway allows 1024/);
    expect(() => f.api.addClientSet('B', { clients: [{ name: 'it"s', tierNames: ['Free'] }] }))
      .toThrow(/clients\[0\]: name: must not hold quote or control characters: ImportApiKeys' CSV does not round-trip them/);
    expect(() => f.api.addClientSet('C', { clients: [{ name: 'ok', tierNames: ['Free'], description: "o'clock" }] }))
      .toThrow(/clients\[0\]: description: must not hold quote or control characters/);
  });

  test('a description that would not fit beside the set\'s marker in API Gateway\'s description limit is refused at synth', () => {
    // GIVEN
    const f = bulkFixture();
    // WHEN / THEN: setId "s" makes a 68-character marker at most, leaving 56 of the 125 characters
    expect(() => f.api.addClientSet('D', { setId: 's', clients: [{ name: 'ok', tierNames: ['Free'], description: 'd'.repeat(57) }] }))
      .toThrow(/\[Bulk\/Api\/Clients\/D\] clients\[0\]: description: is 57 characters; with the set's marker \(68 characters for setId "s"\) API Gateway allows 56: shorten it or the setId \(got 57\)/);
    expect(() => f.api.addClientSet('E', { setId: 't', clients: [{ name: 'fits', tierNames: ['Free'], description: 'd'.repeat(56) }] })).not.toThrow();
  });

  test('clients from a CSV file', () => {
    const f = bulkFixture();
    const csv = file('ok.csv', 'Name,Tiers,Enabled,Description,Tags,Generations\nacme,Pro,TRUE,"Acme, Inc.",team=sales;tier=b,"1,2"\nglobex,Free,false,,,\n');
    const set = f.api.addClientSet('Customers', { source: ClientSetSource.fromCsvFile(csv) });
    Template.fromStack(f.stack);
    expect(manifestOf(set).clients).toEqual([
      { name: 'acme', tiers: ['t0'], description: 'Acme, Inc.', tags: { team: 'sales', tier: 'b' }, generations: [1, 2] },
      { name: 'globex', tiers: ['t1'], enabled: false },
    ]);
  });

  test('clients from a JSON file, together with clients from code', () => {
    const f = bulkFixture();
    const json = file('ok.json', JSON.stringify({ clients: [{ name: 'acme', tiers: ['Pro'], enabled: false }] }, null, 2));
    const set = f.api.addClientSet('Customers', { clients: [{ name: 'globex', tiers: [f.free] }], source: ClientSetSource.fromJsonFile(json) });
    Template.fromStack(f.stack);
    expect(set.clientCount).toBe(2);
  });

  test('an explicit setId', () => {
    const f = bulkFixture();
    f.api.addClientSet('Customers', { setId: 'prod-customers', clients: generatedClients(1) });
    Template.fromStack(f.stack).hasResourceProperties('Custom::KeygateClientSet', { SetId: 'prod-customers' });
  });
});

describe('ClientSet validation (one rule each; messages name path, property, value)', () => {
  const add = (clients: Parameters<ReturnType<typeof bulkFixture>['api']['addClientSet']>[1]['clients'], f = bulkFixture()) => f.api.addClientSet('Customers', { clients });

  test('blank name', () => {
    expect(() => add([{ name: ' ', tierNames: ['Free'] }])).toThrow(/\[Bulk\/Api\/Clients\/Customers\] clients\[0\]: name: must be 1-1024 characters and not blank \(got " "\)/);
  });
  test('spaces around a name', () => {
    expect(() => add([{ name: 'acme ', tierNames: ['Free'] }])).toThrow(/clients\[0\]: name: must not start or end with spaces .*\(got "acme "\)/);
  });
  test('a name twice in the set', () => {
    expect(() => add([{ name: 'acme', tierNames: ['Free'] }, { name: 'acme', tierNames: ['Pro'] }])).toThrow(/clients\[1\]: name: is declared twice in the set \(also at clients\[0\]\) \(got "acme"\)/);
  });
  test('a bulk client with the name of a single client', () => {
    const f = bulkFixture();
    f.api.addClient('acme', { tiers: [f.free] });
    expect(() => add([{ name: 'acme', tierNames: ['Free'] }], f)).toThrow(/clients\[0\]: name: is used by Bulk\/Api\/Clients\/acme already on the same API/);
  });
  test('a single client with the name of a bulk client', () => {
    const f = bulkFixture();
    add([{ name: 'acme', tierNames: ['Free'] }], f);
    expect(() => f.api.addClient('acme', { tiers: [f.free] })).toThrow(/clientName: is used by Bulk\/Api\/Clients\/Customers already/);
  });
  test('a tier name the API does not have', () => {
    expect(() => add([{ name: 'acme', tierNames: ['Gold'] }])).toThrow(/clients\[0\]: tiers: no tier of that name on Bulk\/Api; its tiers are Free, Pro, Enterprise .*\(got "Gold"\)/);
  });
  test('no tier', () => {
    expect(() => add([{ name: 'acme' }])).toThrow(/clients\[0\]: tiers: a client needs at least one tier/);
  });
  test('two tiers on one stage (at synth, once per tier combination, by line)', () => {
    const f = bulkFixture();
    add([{ name: 'a', tierNames: ['Free', 'Pro'] }, { name: 'b', tierNames: ['Free'] }, { name: 'c', tierNames: ['Pro', 'Free'] }], f);
    expect(() => Template.fromStack(f.stack)).toThrow(/clients\[0\], clients\[2\]: tiers: tiers 'Free' and 'Pro' both cover stage 'prod'/);
  });
  test('more than 10 tiers per key', () => {
    const f = bulkFixture();
    const stages = Array.from({ length: 11 }, (_, i) => f.api.addStage(`s${i}`));
    const tiers = stages.map((stage, i) => f.api.addTier(`T${i}`, { stages: [stage] }));
    f.api.addTier('ProdOnly', { stages: [f.api.defaultStage] });
    add([{ name: 'a', tiers }], f);
    expect(() => Template.fromStack(f.stack)).toThrow(/clients\[0\]: tiers: an API key can be in at most 10 usage plans \(got 11\)/);
  });
  test('generations: whole numbers from 1', () => {
    expect(() => add([{ name: 'acme', tierNames: ['Free'], generations: [0] }])).toThrow(/clients\[0\]: generations: generations are whole numbers from 1 \(got 0\)/);
  });
  test('generations: not twice', () => {
    expect(() => add([{ name: 'acme', tierNames: ['Free'], generations: [2, 2] }])).toThrow(/clients\[0\]: generations: lists a generation twice/);
  });
  test('a generation key name that is another client\'s name', () => {
    expect(() => add([{ name: 'acme', tierNames: ['Free'], generations: [1, 2] }, { name: 'acme-gen2', tierNames: ['Free'] }]))
      .toThrow(/clients\[1\]: generations: key name 'acme-gen2' is also a key name of the client at clients\[0\]/);
  });
  test('tags under aws:', () => {
    expect(() => add([{ name: 'acme', tierNames: ['Free'], tags: { 'aws:x': 'y' } }])).toThrow(/clients\[0\]: tags: tag keys are 1-128 characters and must not start with aws: \(got "aws:x"\)/);
  });
  test('more keys than API Gateway allows per region', () => {
    expect(() => add(generatedClients(5001).map((c) => ({ ...c, generations: [1, 2] })))).toThrow(/set: clients: has 10002 keys; API Gateway allows 10000 API keys per account and region/);
  });
  test('setId', () => {
    const f = bulkFixture();
    expect(() => f.api.addClientSet('C', { setId: 'has space]', clients: [] })).toThrow(/setId: must be 1-128 characters .*\(got "has space\]"\)/);
  });
  test('importBatchSize', () => {
    const f = bulkFixture();
    expect(() => f.api.addClientSet('C', { importBatchSize: 5000, clients: [] })).toThrow(/importBatchSize: must be a whole number from 1 to 1000 \(got 5000\)/);
  });
  test('all problems at once, by line', () => {
    const f = bulkFixture();
    const csv = file('bad.csv', 'Name,Tiers,Enabled\nok,Free,TRUE\n,Free,TRUE\nx,Gold,TRUE\ny,Free,maybe\n');
    expect(() => f.api.addClientSet('C', { source: ClientSetSource.fromCsvFile(csv) })).toThrow(
      /3 problems in the client set:\n.*bad\.csv line 3: name: .*\n.*bad\.csv line 4: tiers: no tier of that name.*\(got "Gold"\)\n.*bad\.csv line 5: enabled: must be TRUE or FALSE \(got "maybe"\)/);
  });
  test('CSV: a key value column is refused', () => {
    const f = bulkFixture();
    const csv = file('values.csv', 'Name,Key,Tiers\nacme,abcdefghijklmnopqrstuvwxyz,Free\n');
    expect(() => f.api.addClientSet('C', { source: ClientSetSource.fromCsvFile(csv) })).toThrow(/values\.csv line 1: header: a client set never declares key values .*\(got "key"\)/);
  });
  test('CSV: unknown column', () => {
    const f = bulkFixture();
    const csv = file('typo.csv', 'Name,Tier\nacme,Free\n');
    expect(() => f.api.addClientSet('C', { source: ClientSetSource.fromCsvFile(csv) })).toThrow(/typo\.csv line 1: header: unknown column; the columns are name, tiers/);
  });
  test('CSV: Name column required', () => {
    const f = bulkFixture();
    const csv = file('noname.csv', 'Tiers\nFree\n');
    expect(() => f.api.addClientSet('C', { source: ClientSetSource.fromCsvFile(csv) })).toThrow(/noname\.csv line 1: header: the Name column is required/);
  });
  test('CSV: a row with more cells than columns', () => {
    const f = bulkFixture();
    const csv = file('cells.csv', 'Name,Tiers\nacme,Free,Pro\n');
    expect(() => f.api.addClientSet('C', { source: ClientSetSource.fromCsvFile(csv) })).toThrow(/cells\.csv line 2: row: has 3 cells for 2 columns; quote a list/);
  });
  test('a file that does not exist', () => {
    const f = bulkFixture();
    expect(() => f.api.addClientSet('C', { source: ClientSetSource.fromCsvFile(path.join(dir, 'missing.csv')) })).toThrow(/missing\.csv: file: can't be read/);
  });
  test('JSON: errors name the line', () => {
    const f = bulkFixture();
    const json = file('bad.json', '[\n  { "name": "a", "tiers": ["Free"] },\n  { "name": "b",\n    "tiers": "Free", "enabled": "yes" }\n]\n');
    expect(() => f.api.addClientSet('C', { source: ClientSetSource.fromJsonFile(json) })).toThrow(/bad\.json line 3 \(clients\[1\]\): enabled: must be true or false \(got "\\"yes\\""\)/);
  });
  test('JSON: not JSON', () => {
    const f = bulkFixture();
    expect(() => f.api.addClientSet('C', { source: ClientSetSource.fromJsonFile(file('broken.json', '{')) })).toThrow(/broken\.json: file: not valid JSON/);
  });
});

describe('ClientSet at 10,000 clients', () => {
  test('synthesizes within CloudFormation limits: constant resources, template well under 1 MB', () => {
    const f = bulkFixture();
    const started = Date.now();
    f.api.addClient('monitor', { tiers: [f.enterprise] });
    const set = f.api.addClientSet('Customers', { clients: generatedClients(10_000) });
    const template = Template.fromStack(f.stack).toJSON();
    const elapsed = Date.now() - started;
    const resources = Object.keys(template.Resources).length;
    const bytes = Buffer.byteLength(JSON.stringify(template));
    expect(set.keyCount).toBe(10_000);
    // A constant count: the API, tiers, the reconciler with the Provider framework and their log groups.
    expect(resources).toBeLessThanOrEqual(45);
    expect(bytes).toBeLessThan(64 * 1024);
    expect(elapsed).toBeLessThan(15_000);
    const manifest = manifestOf(set);
    expect(manifest.clients).toHaveLength(10_000);
    expect(JSON.stringify(template)).not.toMatch(/customer-0/);
    // An apigw import to keep the module's types in use.
    expect(apigw.Period.DAY).toBe('DAY');
  });

  test('the example app (examples/bulk, npm run synth:bulk) at 10,000 clients', () => {
    const app = new App();
    const stack = new BulkStack(app, 'KeygateBulk', { clients: 10_000 });
    const template = Template.fromStack(stack);
    const json = template.toJSON();
    expect(Object.keys(json.Resources).length).toBeLessThanOrEqual(500);
    expect(Buffer.byteLength(JSON.stringify(json))).toBeLessThan(1_000_000);
    template.resourceCountIs('Custom::KeygateClientSet', 1);
    expect(stack.customers.keyCount).toBe(10_000);
    const manifest = manifestOf(stack.customers);
    const tiers = manifest.clients.map((c) => (c.tiers as string[])[0]);
    expect(new Set(tiers).size).toBe(3);
    expect(manifest.clients.filter((c) => c.enabled === false).length).toBe(103);
  });
});
