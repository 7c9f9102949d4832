import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { jsiiProblems } from '../scripts/check-jsii';

/*
 * scripts/check-jsii.js runs in `npm run build` after jsii: it fails for any export of the entry
 * point that jsii silently leaves out of the assembly. Here it reads a small library whose
 * assembly (as jsii would write it) holds only the class.
 */
describe('check-jsii', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-jsii-'));
    fs.writeFileSync(path.join(dir, 'index.ts'), [
      'export class Widget { public static make(): Widget { return new Widget(); } }',
      'export function makeWidget(): Widget { return Widget.make(); }',
      "export const WIDGET_KINDS = ['a', 'b'];",
      'export type WidgetOrName = Widget | string;',
      '/** @internal */',
      'export function internalHelper(): void {}',
      "export * from './more';",
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'more.ts'), 'export function fromAnotherFile(): number { return 1; }\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const assembly = { name: 'lib', types: { 'lib.Widget': { kind: 'class' } } };

  test('names every free function, constant and type alias jsii would drop, wherever it is declared', () => {
    // WHEN
    const problems = jsiiProblems({ entryFile: path.join(dir, 'index.ts'), assembly });
    // THEN
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^makeWidget \(a free function, .*index\.ts\) is exported but not in the jsii assembly: make it a static member of a class/),
      expect.stringMatching(/^WIDGET_KINDS \(a constant, /),
      expect.stringMatching(/^WidgetOrName \(a type alias, /),
      expect.stringMatching(/^fromAnotherFile \(a free function, .*more\.ts\)/),
    ]));
  });

  test('@internal exports and types in the assembly pass', () => {
    const problems = jsiiProblems({ entryFile: path.join(dir, 'index.ts'), assembly });
    expect(problems.join('\n')).not.toMatch(/internalHelper|^Widget /m);
  });

  test('a required type missing from the assembly is named', () => {
    const problems = jsiiProblems({ entryFile: path.join(dir, 'index.ts'), assembly, required: ['Widget', 'Gadget'] });
    expect(problems).toContain('Gadget is missing from the jsii assembly');
    expect(problems.join('\n')).not.toMatch(/Widget is missing/);
  });
});
