/**
 * What of an error may reach a log (issue #11: no credential in any log, by construction).
 *
 * An error's message and properties may hold anything the failing code touched: a TypeORM
 * `QueryFailedError` carries the statement's parameters (password hashes, token hashes, webhook URLs
 * with their `?token=`), PostgreSQL's message and detail quote values ("Failing row contains (…)",
 * `invalid input syntax for type uuid: "…"`), and a JSON parse error quotes the body. So nothing is
 * copied from an error but a whitelist of fields whose form cannot carry data:
 *
 * - `type`: the class name;
 * - `statement`: the prepared statement's name, or the SQL verb and first table of the statement
 *   (identifiers only: string literals are removed before the table is looked for);
 * - `sqlstate`: PostgreSQL's five-character error code;
 * - `code`: a system or framework error code (`ECONNREFUSED`, `FST_ERR_BAD_URL`, …);
 * - `stack`: the stack frames (code positions), without the message line;
 * - `cause`: the same, for the error's cause.
 */
export interface SafeError {
  type: string;
  statement?: string;
  sqlstate?: string;
  code?: string;
  stack?: string;
  cause?: SafeError;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;
const STATEMENT_NAME = /^[A-Za-z0-9_.:-]{1,63}$/;
const MAX_FRAMES = 15;
const SQL_VERBS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'WITH',
  'VALUES',
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'LOCK',
  'BEGIN',
  'START',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'SET',
  'SHOW',
  'NOTIFY',
  'LISTEN',
  'UNLISTEN',
  'CALL',
  'DO',
  'COPY',
  'ANALYZE',
  'VACUUM',
  'REFRESH',
]);

type ErrorLike = {
  name?: unknown;
  message?: unknown;
  stack?: unknown;
  code?: unknown;
  query?: unknown;
  statement?: unknown;
  driverError?: unknown;
  cause?: unknown;
};

export function safeError(error: unknown, depth = 0): SafeError {
  if (error === null || typeof error !== 'object') return { type: error === null ? 'null' : typeof error };
  const e = error as ErrorLike;
  const driver = (e.driverError && typeof e.driverError === 'object' ? e.driverError : e) as ErrorLike;
  const out: SafeError = { type: typeNameOf(error) };

  const statement = statementOf(e) ?? statementOf(driver);
  if (statement) out.statement = statement;
  const code = typeof driver.code === 'string' ? driver.code : typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && SQLSTATE.test(code) && /\d/.test(code)) out.sqlstate = code;
  else if (code !== undefined && ERROR_CODE.test(code)) out.code = code;

  const frames = stackFrames(e);
  if (frames) out.stack = frames;
  if (e.cause !== undefined && depth < 2) out.cause = safeError(e.cause, depth + 1);
  return out;
}

/** The name PreparedSql gave the statement, or "VERB table" from its SQL text; never a value. */
function statementOf(e: ErrorLike): string | undefined {
  if (typeof e.statement === 'string' && STATEMENT_NAME.test(e.statement)) return e.statement;
  return typeof e.query === 'string' ? statementName(e.query) : undefined;
}

/** `INSERT INTO "users"(…) VALUES ($1, …)` → `INSERT users`: the verb and the first table named. */
export function statementName(sql: string): string {
  // Literals out first ('…', E'…', $tag$…$tag$): what is left of the text is keywords, identifiers and placeholders.
  const text = sql.replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, ' ').replace(/'(?:[^']|'')*'/g, ' ');
  const first = /^\s*\(?\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase();
  const verb = first && SQL_VERBS.has(first) ? first : 'SQL';
  const table = /\b(?:INTO|UPDATE|FROM|JOIN|TABLE)\s+((?:"?[A-Za-z_][A-Za-z0-9_]*"?\.)?"?[A-Za-z_][A-Za-z0-9_]*"?)/i.exec(text)?.[1];
  return table ? `${verb} ${table.replaceAll('"', '')}` : verb;
}

function typeNameOf(error: object): string {
  const name = error.constructor?.name;
  return typeof name === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(name) ? name : 'Object';
}

/**
 * The "at …" lines after the message. When the stack does not contain the current message (it was
 * changed after the stack was captured), nothing is taken: the line boundary of the message is unknown.
 */
function stackFrames(e: ErrorLike): string | undefined {
  if (typeof e.stack !== 'string') return undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  const at = message ? e.stack.indexOf(message) : e.stack.indexOf('\n');
  if (at < 0) return undefined;
  const frames = e.stack
    .slice(at + message.length)
    .split('\n')
    .filter((line) => /^\s+at \S/.test(line))
    .slice(0, MAX_FRAMES)
    .map((line) => line.trim());
  return frames.length ? frames.join('\n') : undefined;
}
