import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const headings = (text: string) => text.replace(/```[\s\S]*?```/g, '').match(/^#{1,6} .+$/gm) ?? [];

describe('the README is for users', () => {
  test('it opens with a table of contents that links every section', () => {
    const sections = headings(readme).filter((h) => h.startsWith('## ')).map((h) => h.slice(3).trim());
    const toc = readme.slice(readme.indexOf('## Contents'), readme.indexOf('\n## ', readme.indexOf('## Contents') + 3));
    expect(toc).toMatch(/\[[^\]]+\]\(#[^)]+\)/);
    for (const section of sections.filter((s) => s !== 'Contents')) expect(toc).toContain(`[${section}]`);
  });

  test('it stays at most half the 1,277 lines it had before issue 16 (reference detail goes to docs/)', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(639);
  });

  test('no heading is used twice', () => {
    const all = [...headings(readme)].map((h) => h.replace(/^#+ /, ''));
    expect(all.filter((h, i) => all.indexOf(h) !== i)).toEqual([]);
  });

  test('contributor material lives in CONTRIBUTING.md, which shows the layers as a diagram', () => {
    const contributing = fs.readFileSync(path.join(root, 'CONTRIBUTING.md'), 'utf8');
    expect(contributing).toMatch(/```mermaid\s+flowchart/);
    for (const rule of ['no-circular', 'shared-is-pure', 'features-take-the-api-contract', 'local-imports-only-shared']) expect(contributing).toContain(rule);
    expect(headings(readme).map((h) => h.replace(/^#+ /, ''))).not.toEqual(expect.arrayContaining(['Development', 'Packaging and jsii', 'Integration tests', 'Structure']));
  });

  test('every relative link and anchor in README.md, CONTRIBUTING.md and docs/ resolves', () => {
    expect(execFileSync(process.execPath, [path.join(root, 'scripts/check-links.js'), root], { encoding: 'utf8' })).toContain('all relative links resolve');
  });
});
