/**
 * The embedded PostgreSQL's own log lines, as they may enter our log. PostgreSQL's error reports quote
 * values: the message (`invalid input syntax for type uuid: "…"`), DETAIL (`Key (email)=(…)`, `Failing
 * row contains (…)`), CONTEXT and STATEMENT. Such lines keep only their severity, indented continuation
 * lines are dropped; start-up, checkpoint and shutdown lines pass as they are.
 */
const QUOTING_SEVERITIES = /\b(ERROR|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION|WARNING|NOTICE|INFO|DEBUG\d?):/;

export function postgresLogLine(line: string): string {
  const severity = QUOTING_SEVERITIES.exec(line)?.[1];
  if (severity) return `${severity}: (text withheld: PostgreSQL's reports may quote values)`;
  // A continuation line of a multi-line report (tab-indented) may arrive on its own.
  return /^\s/.test(line) ? '(text withheld: continuation of a PostgreSQL report)' : line;
}
