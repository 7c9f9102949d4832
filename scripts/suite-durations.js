#!/usr/bin/env node
/*
 * Writes test/support/suite-durations.json (each suite's seconds, slowest first) from a Jest JSON
 * report, for test/support/sequencer.js, which starts the slowest suites first on a fresh clone:
 *
 *   npx jest --json --outputFile=/tmp/jest.json && node scripts/suite-durations.js /tmp/jest.json
 */
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const report = process.argv[2];
if (!report) {
  console.error('usage: node scripts/suite-durations.js JEST_JSON_REPORT');
  process.exit(2);
}
const { testResults } = JSON.parse(fs.readFileSync(report, 'utf8'));
const rows = testResults
  .map((r) => [path.relative(root, r.name).split(path.sep).join('/'), Math.round((r.endTime - r.startTime) / 100) / 10])
  .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
const out = path.join(root, 'test', 'support', 'suite-durations.json');
fs.writeFileSync(out, `${JSON.stringify(Object.fromEntries(rows), null, 2)}\n`);
console.log(`${path.relative(root, out)}: ${rows.length} suites, ${rows.reduce((s, [, t]) => s + t, 0).toFixed(0)} s in all`);
