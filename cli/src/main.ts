/** The bundle's entry (build.mjs → dist/secr.js): oclif's runner and every command. */
export { execute } from '@oclif/core/execute';
export { COMMANDS } from './commands.js';
