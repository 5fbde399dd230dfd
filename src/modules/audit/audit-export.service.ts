import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { AuditEventDto, AuditExportQueryDto } from './audit.dto.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

/** Rows per statement of an export: the most an export holds in memory at once (with the stream's buffer). */
const EXPORT_BATCH = 1_000;

const CSV_COLUMNS = ['seq', 'id', 'createdAt', 'action', 'actorUserId', 'actorEmail', 'actorTokenId', 'ip', 'userAgent', 'requestId', 'metadata'] as const;

type ExportedEvent = AuditEventDto & { seq: string };

/**
 * Exports an org's audit log, oldest first, as NDJSON or CSV (for SIEM ingestion). Nothing is loaded
 * whole: rows are read by position in batches, each batch only when the client has taken the previous
 * one (the stream is pulled: `Readable.from` reads the generator on demand, so a slow reader pauses the
 * reads). The range is fixed when the export starts (the chain's head then), so rows added during a long
 * export are not in it, and none is repeated or skipped.
 */
@Injectable()
export class AuditExport {
  constructor(
    private readonly repo: AuditRepository,
    private readonly audit: AuditService,
  ) {}

  async stream(orgId: string, query: AuditExportQueryDto): Promise<Readable> {
    const { format = 'ndjson', ...filter } = query;
    const head = await this.repo.head(orgId);
    return Readable.from(this.lines(orgId, filter, head.seq, format === 'csv'), { objectMode: false, highWaterMark: 256 * 1024 });
  }

  private async *lines(orgId: string, filter: Omit<AuditExportQueryDto, 'format'>, upTo: string, csv: boolean): AsyncGenerator<string> {
    if (csv) yield `${CSV_COLUMNS.join(',')}\r\n`;
    let above = '0';
    for (;;) {
      const rows = (await this.repo.page(orgId, filter, { above }, EXPORT_BATCH)).filter((r) => BigInt(r.seq) <= BigInt(upTo));
      if (!rows.length) return;
      const events = await this.audit.events(rows);
      yield events.map((e, i) => (csv ? csvLine({ seq: rows[i].seq, ...e }) : `${JSON.stringify({ seq: rows[i].seq, ...e })}\n`)).join('');
      above = rows[rows.length - 1].seq;
      if (rows.length < EXPORT_BATCH) return;
    }
  }
}

function csvLine(event: ExportedEvent): string {
  return `${CSV_COLUMNS.map((column) => csvCell(event[column])).join(',')}\r\n`;
}

/** RFC 4180 quoting; a cell that a spreadsheet would run as a formula gets a leading apostrophe. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
