import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Permission } from '../../common/auth/permissions.js';
import { Route } from '../../common/auth/route.decorator.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ValidationFailedError } from '../../common/errors/domain-error.js';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { VaultAccess } from '../projects/vault-access.service.js';
import { ChangeStreams } from './change-streams.service.js';

/** An event id this server issued: a change's sequence number (a bigint). */
const EVENT_ID = /^(0|[1-9][0-9]{0,17})$/;

const STREAM_DESCRIPTION = `Server-Sent Events, until the client disconnects. Every event has \`id\` (the change's position in the
environment's log: send it back as \`Last-Event-ID\` when reconnecting) and JSON \`data\`; no event carries a value.
An event's \`id\` (\`seq\`) is the environment's version once that change committed: the \`ifEnvironmentVersion\` of a bulk import.
\`ready\` {seq}: the stream starts at this position (no Last-Event-ID sent).
\`change\` {seq, type: set|import|rollback|promotion|restore|delete, changes: [{key, version|null}], at}: a committed change.
\`resync\` {seq, reason}: changes were missed that cannot be replayed (reason too_many_changes, changes_pruned: older than the log keeps, or unknown_event_id): pull again.
\`closed\` {reason: credential_revoked|membership_removed|role_changed}: the stream ends and should not be reopened with this credential.
A comment line (\`:\`) every STREAM_HEARTBEAT_MS keeps proxies from closing the connection.`;

@ApiTags('Secrets')
@Controller('secrets/:orgSlug/:project')
export class ChangeStreamController {
  constructor(
    private readonly access: VaultAccess,
    private readonly streams: ChangeStreams,
  ) {}

  @Get(':env/events')
  @Route({
    permission: Permission.SecretsRead,
    org: { param: 'orgSlug', by: 'slug' },
    summary: 'Follow the committed changes of an environment (Server-Sent Events; names and versions, never values)',
  })
  @ApiOkResponse({ description: STREAM_DESCRIPTION, content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Too many open streams for this token or session, or on this server' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The id of the last event received: the changes after it are sent first' })
  async watchChanges(
    @Ctx() { actor, org }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (lastEventId !== undefined && !EVENT_ID.test(lastEventId.trim())) {
      throw new ValidationFailedError([{ field: 'Last-Event-ID', message: 'Last-Event-ID must be an event id this server sent' }]);
    }
    const target = await this.access.environment(org, project, env, actor, 'read');
    await this.streams.open(reply, target, actor, lastEventId?.trim());
  }
}
