import os from 'node:os';
import path from 'node:path';

/**
 * Where the node processes the tests spawn (the built `secr` CLI, the built server) keep Node's module
 * compile cache (NODE_COMPILE_CACHE): the first spawn compiles the modules, the next ones load their
 * code cache instead. Node checks every cached entry against the source and its own checksum, so a
 * stale or half-written entry is recompiled, never run. One dir per run (jest's global setup makes it in
 * the run's temp dir); outside `npm test`, one shared dir in the temp dir.
 */
export const NODE_COMPILE_CACHE_DIR = process.env.SECR_TEST_COMPILE_CACHE ?? path.join(os.tmpdir(), 'secr-test-node-compile-cache');
