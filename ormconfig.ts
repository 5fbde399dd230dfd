/**
 * The DataSource for the TypeORM CLI: `npm run migration:run` (and `migration:revert`, `migration:show`)
 * against DATABASE_URL. It loads the compiled code in dist/, which those scripts build first, so that
 * the CLI and the server share one description of the database (src/database/data-source.ts).
 */
import { DataSource } from 'typeorm';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment -- absent before a build, so not an expected error either
// @ts-ignore -- compiled output, present after `npm run build`
import { dataSourceOptions, migrationTimeouts } from './dist/src/database/data-source.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must be set to run migrations from the CLI');

// Migrations may run long: only connecting and lock waits are bounded (as at server start-up).
export default new DataSource(dataSourceOptions({ url, poolSize: 1, timeouts: migrationTimeouts() }));
