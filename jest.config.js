/** jest 30 in native ESM mode (NODE_OPTIONS=--experimental-vm-modules, set by `npm test`), TypeScript via swc. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // Sources import with .js suffixes (ESM); jest resolves them to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/cli/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/setup/global-setup.mjs',
  globalTeardown: '<rootDir>/test/setup/global-teardown.mjs',
  // The slowest files first, from jest's cache or, on a fresh clone, a committed list.
  testSequencer: '<rootDir>/test/setup/sequencer.mjs',
  // Three workers on two cores: much of a test file's time is waiting (real boots of the server and of
  // PostgreSQL, retry back-off, time-outs), which a third file's work fills.
  maxWorkers: 3,
  // A worker keeps the modules of every test file it has run (jest in ESM mode leaks them, jestjs/jest#14605:
  // a heap snapshot shows each finished file's environment held through jest-runtime's module objects),
  // ~800 MB of heap and 1.1-1.3 GB resident by the end of a full run. Tearing that
  // down when jest ends the worker took 220-440 ms here under load, and jest force-exits a worker that
  // takes more than 500 ms ("A worker process has failed to exit gracefully"). So a worker whose heap
  // is past this limit after a file is replaced by a fresh one (same JEST_WORKER_ID, so the same app
  // host): about five replacements in a full run, and the last workers exit in 50-260 ms.
  workerIdleMemoryLimit: '384MB',
  testTimeout: 60_000,
  verbose: false,
};
