/*
 * Runs the slowest suites first, so that no long suite starts last and runs alone on one worker.
 *
 * Jest's own sequencer does this from its cache of the last run's durations; on a fresh clone (CI,
 * a new worktree) that cache is empty and it falls back to file size, which put the longest suites
 * anywhere. Here a suite without a cached duration takes the one measured for it in
 * suite-durations.json (regenerate: `npx jest --json --outputFile=/tmp/jest.json`, then
 * `node scripts/suite-durations.js /tmp/jest.json`). A suite in neither runs first, as Jest
 * does with a new suite.
 */
const path = require('path');
const Sequencer = require('@jest/test-sequencer').default;
const durations = require('./suite-durations.json');

class SlowestFirst extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const seconds = durations[path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/')];
    return seconds == null ? undefined : seconds * 1000;
  }
}

module.exports = SlowestFirst;
