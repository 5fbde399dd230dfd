#!/usr/bin/env node
/**
 * Builds the CLI into two ES modules: dist/secr.js (oclif, the SDK, openapi-fetch and every command:
 * src/main.ts) and dist/fast-run.cjs (`secr run` and `--version` without oclif: src/fast-run.ts). Start-up then reads one file instead of resolving and compiling ~200 modules, which
 * with Node's compile cache (bin/run.cjs) is most of what made `secr` slow to start (issue 15). Types
 * are checked by `tsc --noEmit` (this build does not check them).
 */
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';

const dir = new URL('.', import.meta.url).pathname;
await rm(`${dir}dist`, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // oclif and its dependencies are CommonJS: give their require() of Node's built-ins a real require.
  banner: { js: "import { createRequire as __secrCreateRequire } from 'node:module'; const require = __secrCreateRequire(import.meta.url);" },
  // oclif requires typescript only to run a plugin from its sources in development (never here).
  external: ['typescript'],
  legalComments: 'none',
  logLevel: 'warning',
};
await Promise.all([
  build({ ...common, entryPoints: [`${dir}src/main.ts`], outfile: `${dir}dist/secr.js` }),
  // `secr run` and `--version` without oclif (bin/run.cjs): only what they use.
  // CommonJS, loaded by the CommonJS bin/run.cjs: no ES module loader to start for the common case.
  build({ ...common, format: 'cjs', banner: {}, entryPoints: [`${dir}src/fast-run.ts`], outfile: `${dir}dist/fast-run.cjs` }),
]);
