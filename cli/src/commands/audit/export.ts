import * as Flags from '@oclif/core/flags';
import { createWriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isRedirect, redirectError, SecrApiError } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { auditFilter, auditFilterFlags } from '../../lib/audit-filter.js';

export interface AuditExportResult {
  org: string;
  format: 'ndjson' | 'csv';
  /** The file written, or null for stdout. */
  output: string | null;
  bytes: number;
}

export default class AuditExport extends BaseCommand<typeof AuditExport, AuditExportResult> {
  static override summary = 'Export the org’s audit log, oldest first, as NDJSON or CSV (owner or admin)';
  static override description =
    'Streams: nothing is held in memory, so any range can be exported. The export itself is an audit event. --timeout bounds the wait for the answer to start, not the transfer.';
  static override examples = [
    '<%= config.bin %> audit export --from 2026-11-01 --to 2026-12-01 > november.ndjson',
    '<%= config.bin %> audit export --format csv --action secret.read --output reads.csv',
  ];
  static override flags = {
    ...orgFlags,
    ...auditFilterFlags,
    format: Flags.string({ char: 'f', description: 'Output format', options: ['ndjson', 'csv'], default: 'ndjson' }),
    output: Flags.string({ char: 'o', description: 'Write to this file instead of stdout' }),
  };

  async run(): Promise<AuditExportResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const format = this.flags.format as 'ndjson' | 'csv';
    const filter = await auditFilter(api, org, this.flags);
    const url = new URL(`${(await this.apiUrl()).replace(/\/+$/, '')}/v1/audit/${org.id}/export`);
    for (const [name, value] of Object.entries({ ...filter, format })) if (value) url.searchParams.set(name, value);
    // The time-out covers the wait for the answer; a long transfer is not cut off.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs() ?? 30_000);
    const { token } = await this.resolveToken();
    let res: Response;
    try {
      // A redirect is not followed: it would carry the token elsewhere.
      res = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'user-agent': this.config.userAgent }, signal: abort.signal, redirect: 'manual' });
    } catch (error) {
      throw new SecrApiError(
        `Cannot export from ${url.origin}: ${(error as Error).name === 'AbortError' ? 'timed out' : (error as Error).message}`,
        0,
        'network_error',
      );
    } finally {
      clearTimeout(timer);
    }
    if (isRedirect(res.status)) throw redirectError(res.status, res.headers.get('location'), url);
    if (!res.ok || !res.body) {
      const body = (await res.json().catch(() => ({}))) as { message?: string; code?: string; requestId?: string };
      throw new SecrApiError(body.message ?? `HTTP ${res.status}`, res.status, body.code ?? 'internal_error', { requestId: body.requestId });
    }
    let bytes = 0;
    const counted = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream).map((chunk: Buffer) => {
      bytes += chunk.length;
      return chunk;
    });
    const output = this.flags.output ?? null;
    // With --json the data goes to the file only (stdout carries the JSON result).
    const sink = output ? createWriteStream(output, { mode: 0o600 }) : this.jsonEnabled() ? devNull() : process.stdout;
    await pipeline(counted, sink, { end: sink !== process.stdout });
    if (output) this.logToStderr(`Exported ${bytes} bytes of ${format.toUpperCase()} from ${org.slug} to ${output}`);
    return { org: org.slug, format, output, bytes };
  }
}

function devNull(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
