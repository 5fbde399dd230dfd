/**
 * The embedded PostgreSQL's own log lines, as they may enter our log. PostgreSQL's error reports quote
 * values: the message (`invalid input syntax for type uuid: "…"`), DETAIL (`Key (email)=(…)`, `Failing
 * row contains (…)`), CONTEXT and STATEMENT. Such lines keep only their severity; start-up, checkpoint
 * and shutdown lines pass as they are.
 */
const QUOTING_SEVERITIES = /\b(ERROR|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION|WARNING|NOTICE|INFO|DEBUG\d?):/;

export function postgresLogLine(line: string): string {
  const severity = QUOTING_SEVERITIES.exec(line)?.[1];
  return severity ? `${severity}: (text withheld: PostgreSQL's reports may quote values)` : line;
}
