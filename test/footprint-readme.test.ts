/**
 * Issue #19 item 14: the README's footprint figures are written by scripts/footprint.js
 * (`--write-readme`) between markers, and test/package.test.ts compares them with what it
 * measures. Here, the fast part: the markers are in the README, in the script's wording.
 */
import * as fs from 'fs';
import { figuresText, README, readmeFigures, withReadmeFigures } from '../scripts/footprint';

test('README.md holds the footprint figures between markers, in the wording the script writes', () => {
  const figures = readmeFigures(fs.readFileSync(README, 'utf8'));
  expect(figures).toMatch(/^\*\*\d+\.\d\d MB\*\* \(tarball \d+\.\d\d MB\)$/);
});

test('the script\'s figures replace whatever stood between the markers', () => {
  const text = 'you install <!-- footprint -->**3.76 MB** (tarball 0.84 MB)<!-- /footprint -->: the constructs';
  const figures = figuresText(4.0 * 1024 * 1024, 0.91 * 1024 * 1024);
  expect(figures).toBe('**4.00 MB** (tarball 0.91 MB)');
  expect(withReadmeFigures(text, figures)).toBe('you install <!-- footprint -->**4.00 MB** (tarball 0.91 MB)<!-- /footprint -->: the constructs');
  expect(() => readmeFigures('no markers')).toThrow(/README.md has no <!-- footprint --> … <!-- \/footprint --> markers/);
});
