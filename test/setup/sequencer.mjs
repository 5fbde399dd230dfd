import Sequencer from '@jest/test-sequencer';
import path from 'node:path';

/**
 * Seconds each slow test file took in a full run on a loaded 2-core machine (rounded; the order is
 * what matters). The slowest files start first, so that no worker is left running one long file alone
 * at the end (jest's fallback without a cache, the biggest file first, put boot-resilience, 60 s, last).
 * The list decides, not the durations jest cached in the previous run on this machine: those follow
 * the machine's load and a time-out (see sort). This list: a full run on 2 December 2026 at a load
 * average of ~20 (other runs shared the machine); secrets-concurrency's figure includes a 60 s time-out
 * of one test under that load (fixed since). Files not listed took less than ~20 s in it. Update the
 * numbers when a file becomes much slower or faster.
 */
export const RECORDED_SECONDS = {
  'test/bad-input.e2e-spec.ts': 191,
  'test/python-sdk/python-sdk.e2e-spec.ts': 170,
  'test/dashboard/dashboard.e2e-spec.ts': 150,
  'test/dashboard/dashboard-pages.e2e-spec.ts': 90,
  'test/kms-rewrap.e2e-spec.ts': 80,
  'test/boot-resilience.e2e-spec.ts': 60,
  'test/cli/cli-first-run.e2e-spec.ts': 40,
  'test/role-matrix.e2e-spec.ts': 159,
  'test/secrets-concurrency.e2e-spec.ts': 147,
  'test/mail.e2e-spec.ts': 72,
  'test/embedded-postgres.e2e-spec.ts': 49,
  'test/promotion.e2e-spec.ts': 47,
  'test/auth.e2e-spec.ts': 45,
  'test/key-rotation.e2e-spec.ts': 39,
  'test/cli/cli-run.e2e-spec.ts': 36,
  'test/cli/cli-run-flags.e2e-spec.ts': 35,
  'test/cli/cli-workflow.e2e-spec.ts': 34,
  'test/cli/cli-commands.e2e-spec.ts': 31,
  'test/database-outage.e2e-spec.ts': 29,
  'test/server-process.e2e-spec.ts': 29,
  'test/kms-gcp.e2e-spec.ts': 28,
  'test/readme-claims/instances.e2e-spec.ts': 28,
  'test/audit-chain.e2e-spec.ts': 40,
  'test/registration.e2e-spec.ts': 28,
  'test/webhook-resilience.e2e-spec.ts': 26,
  'test/login-limits.e2e-spec.ts': 26,
  'test/account-tokens.e2e-spec.ts': 20,
  'test/cli/cli-oidc.e2e-spec.ts': 45,
  'test/oidc.e2e-spec.ts': 20,
  'test/change-log-limits.e2e-spec.ts': 30,
};
/** A test file with neither a cached nor a recorded duration: an e2e file boots an app (a few seconds), a unit spec less. */
const UNLISTED_E2E_SECONDS = 10;
const UNLISTED_SPEC_SECONDS = 1;
/**
 * The most a cached duration can weigh: files not in the list took less than ~20 s in a full run, so one
 * that the cache says took longer was slowed by something else (a loaded machine, a time-out).
 */
const CACHED_SECONDS_CAP = 20;

/**
 * The committed list decides the order of the files it names; jest's cache of the previous run only
 * places the others, and only a duration from a run where the file passed, capped. Jest's own order
 * (failed files first, then the longest cached durations) fed on itself here: a file that timed out
 * under load was cached with its time-out, and started first next time, beside the heaviest files,
 * where it timed out again.
 */
export default class SlowestFirstSequencer extends (Sequencer.default ?? Sequencer) {
  sort(tests) {
    const seconds = (test) => {
      const relative = path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/');
      if (RECORDED_SECONDS[relative] !== undefined) return RECORDED_SECONDS[relative];
      const cached = this.time(test); // ms, from jest's cache of the previous run on this machine
      if (cached != null && !this.hasFailed(test)) return Math.min(cached / 1000, CACHED_SECONDS_CAP);
      return relative.endsWith('.e2e-spec.ts') ? UNLISTED_E2E_SECONDS : UNLISTED_SPEC_SECONDS;
    };
    const keyed = tests.map((test) => ({ test, seconds: seconds(test) }));
    // The slowest first; ties by path, so that the order does not depend on the previous run.
    keyed.sort((a, b) => b.seconds - a.seconds || (a.test.path < b.test.path ? -1 : 1));
    return keyed.map(({ test }) => test);
  }
}
