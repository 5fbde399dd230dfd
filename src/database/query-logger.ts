import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { safeError, statementName } from '../common/logging/safe-error.js';

/**
 * TypeORM's own loggers print query parameters, which hold password hashes, token hashes and
 * ciphertexts. This one logs a statement by its name only (SQL verb and table, see `statementName`),
 * never its text or parameters, and a failure by its SQLSTATE.
 */
export class SafeQueryLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    const { sqlstate, code } = typeof error === 'object' ? safeError(error) : { sqlstate: undefined, code: undefined };
    this.logger.debug({ statement: statementName(query), sqlstate, code }, 'Query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ ms: time, statement: statementName(query) }, 'Slow query');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.log(String(message));
  }
}
