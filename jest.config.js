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
  testTimeout: 60_000,
  verbose: false,
};
