import * as fs from 'fs';
import * as path from 'path';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
  keywords?: string[]; engines?: { node?: string }; jsii: { targets: Record<string, Record<string, unknown>> }; devDependencies: Record<string, string>;
};

describe('package metadata', () => {
  test('jsii declares Python, Java, .NET and Go targets', () => {
    expect(pkg.jsii.targets).toEqual({
      python: { module: 'keygate', distName: 'keygate' },
      java: { package: 'io.github.keygate', maven: { groupId: 'io.github.keygate', artifactId: 'keygate' } },
      dotnet: { namespace: 'Keygate', packageId: 'Keygate' },
      go: { moduleName: 'github.com/keygate/keygate-go' },
    });
    expect(pkg.devDependencies['jsii-pacmak']).toBeDefined();
  });

  test('carries the keywords Construct Hub and CDK libraries use', () => {
    expect(pkg.keywords).toEqual(expect.arrayContaining(['awscdk', 'aws-cdk', 'cdk', 'construct', 'apigateway', 'api-key']));
  });

  test('supports Node.js 22 and 24, and CI runs the tests on both', () => {
    expect(pkg.engines?.node).toBe('>=22');
    const ci = fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/use_node 22\nnpm test\n/);
    expect(ci).toMatch(/use_node 24\nnpx jest\nnpm run integ\n/);
    expect(ci).toMatch(/npm run package:code/);
  });
});
