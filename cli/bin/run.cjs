#!/usr/bin/env node
'use strict';
// CommonJS on purpose: the common commands then start without Node's ES module loader.
// Node's on-disk compile cache ($NODE_COMPILE_CACHE, else the OS temp dir): the bundles' byte code is
// reused from the second run on.
require('node:module').enableCompileCache?.();

// `secr run` and `secr --version` start without oclif (src/fast-run.ts); everything else, and any
// `secr run` the fast path does not take (--help, --json, …), goes through oclif (dist/secr.js).
const path = require('node:path');

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === 'run' || (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v'))) {
    const fast = require('../dist/fast-run.cjs');
    const userAgent = fast.userAgent(path.join(__dirname, '..', 'package.json'));
    if (argv[0] !== 'run') return void process.stdout.write(`${userAgent}\n`);
    if (await fast.fastRun(argv.slice(1), userAgent)) return;
  }
  const { execute } = await import('../dist/secr.js');
  await execute({ dir: __filename });
}

main();
