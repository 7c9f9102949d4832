/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': 'ts-jest',
  },
  // Most suites wait on child processes (synth, the local gateway, Lambda workers): two workers
  // keep both cores busy on this 2-core machine (Jest's default is cores - 1).
  maxWorkers: 2,
  // The slowest suites first, on a fresh clone too (no long suite left to run alone at the end).
  testSequencer: '<rootDir>/test/support/sequencer.js',
  globalSetup: '<rootDir>/test/support/global-setup.js',
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  testTimeout: 60000,
};
