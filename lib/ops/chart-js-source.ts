import * as fs from 'fs';
import * as path from 'path';

/**
 * The text of chart.js's browser build, inlined into the HTML usage chart so the file opens
 * offline and needs nothing beside it. chart.js is a build-time dependency: the CLI bundle
 * (scripts/bundle-cli.js) replaces this module with the text itself.
 */
export function chartJsSource(): string {
  // The package's "exports" hide dist/; its main entry lives in the same folder.
  return fs.readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}
