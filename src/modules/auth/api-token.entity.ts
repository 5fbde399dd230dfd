/**
 * What a bearer token may be. The `api_tokens` rows themselves are read and written with typed raw
 * SQL in this module (tokens.service.ts), like every table: secr has no TypeORM entities.
 */
export type TokenKind = 'api' | 'cli';
export type TokenAccess = 'read' | 'read_write';
