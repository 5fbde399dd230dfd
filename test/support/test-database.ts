import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEMPLATE_DB = 'secr_template';
export const TEST_PG_ENV = 'SECR_TEST_PG';

function serverUrl(): string {
  const raw = process.env[TEST_PG_ENV];
  if (!raw) throw new Error(`${TEST_PG_ENV} is unset: run the tests with npm test (jest's global setup starts PostgreSQL)`);
  return (JSON.parse(raw) as { url: string }).url;
}

/** URL of `database` on the test cluster. */
export function databaseUrl(database: string): string {
  return serverUrl().replace(new RegExp(`/${TEMPLATE_DB}$`), `/${database}`);
}

/** A fresh, migrated database for one test file. */
export async function createTestDatabase(): Promise<string> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  return databaseUrl(name);
}
