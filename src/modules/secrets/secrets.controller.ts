import { Body, Controller, Delete, Get, Header, Headers, Param, Post, Put, Query } from '@nestjs/common';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { HttpReply, type ReplyControl } from '../../common/http/reply.decorator.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { VaultAccess } from '../projects/vault-access.service.js';
import {
  BulkDeleteResultDto,
  BulkDeleteSecretsDto,
  BulkSetResultDto,
  BulkSetSecretsDto,
  DeleteSecretResultDto,
  ListKeysDto,
  ListSecretsQueryDto,
  PullSecretsDto,
  RollbackResultDto,
  RollbackSecretDto,
  SecretHistoryDto,
  SetSecretDto,
  SetSecretResultDto,
} from './secrets.dto.js';
import { SecretsService } from './secrets.service.js';

/** Secret routes take the org's slug (spec 003). */
const BY_SLUG = { param: 'orgSlug', by: 'slug' } as const;
/** Responses that carry values must not be stored by any cache. */
const NO_STORE = ['Cache-Control', 'no-store'] as const;

@ApiTags('Secrets')
@Controller('secrets/:orgSlug/:project')
export class SecretsController {
  constructor(
    private readonly secrets: SecretsService,
    private readonly access: VaultAccess,
  ) {}

  @Get(':env')
  @Header(...NO_STORE)
  @Route({ permission: Permission.SecretsRead, org: BY_SLUG, summary: 'Pull the decrypted secrets of an environment', response: PullSecretsDto })
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'The ETag of an earlier pull with the same query: 304 (no body, still audited) while nothing changed',
  })
  @ApiResponse({ status: 304, description: 'Not modified since the pull whose ETag was sent (no body)' })
  async pullSecrets(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Query() query: ListSecretsQueryDto,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @HttpReply() reply: ReplyControl,
  ): Promise<PullSecretsDto | undefined> {
    const target = await this.access.environment(org, project, env, actor, 'read');
    const { etag, body } = await this.secrets.pull(target, query, actor, meta, ifNoneMatch);
    reply.header('etag', etag);
    if (body) return body;
    reply.status(304);
    return undefined;
  }

  @Get(':env/keys')
  @Route({ permission: Permission.SecretsRead, org: BY_SLUG, summary: 'List the keys of an environment (no values)', response: ListKeysDto })
  async listKeys(
    @Ctx() { actor, org }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Query() query: ListSecretsQueryDto,
  ): Promise<ListKeysDto> {
    const target = await this.access.environment(org, project, env, actor, 'read');
    return this.secrets.listKeys(target, query);
  }

  @Put(':env')
  @Route({ permission: Permission.SecretsWrite, org: BY_SLUG, summary: 'Set a secret (version 1, or the next version)', response: SetSecretResultDto })
  async setSecret(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Body() dto: SetSecretDto,
  ): Promise<SetSecretResultDto> {
    const target = await this.access.environment(org, project, env, actor, 'write');
    return this.secrets.set(target, dto, actor, meta);
  }

  @Post(':env/bulk')
  @Route({ permission: Permission.SecretsWrite, org: BY_SLUG, summary: 'Set many secrets at once, atomically', response: BulkSetResultDto })
  async bulkSetSecrets(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Body() dto: BulkSetSecretsDto,
  ): Promise<BulkSetResultDto> {
    const target = await this.access.environment(org, project, env, actor, 'write');
    return this.secrets.bulkSet(target, dto.secrets, actor, meta);
  }

  @Get(':env/versions/:key')
  @Header(...NO_STORE)
  @Route({ permission: Permission.SecretsRead, org: BY_SLUG, summary: 'Every version of a secret: value, who wrote it, when', response: SecretHistoryDto })
  async secretHistory(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Param('key') key: string,
  ): Promise<SecretHistoryDto> {
    const target = await this.access.environment(org, project, env, actor, 'read');
    return this.secrets.history(target, key, actor, meta);
  }

  @Post(':env/rollback')
  @Route({
    permission: Permission.SecretsWrite,
    org: BY_SLUG,
    summary: 'Roll a secret back: an earlier version’s value becomes a new version',
    response: RollbackResultDto,
  })
  async rollbackSecret(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Body() dto: RollbackSecretDto,
  ): Promise<RollbackResultDto> {
    // Rolling back reveals nothing, but it writes a value the caller chooses by version: read it too.
    const target = await this.access.environment(org, project, env, actor, 'read');
    return this.secrets.rollback(target, dto, actor, meta);
  }

  @Post(':env/bulk-delete')
  @Route({
    permission: Permission.SecretsBulkDelete,
    org: BY_SLUG,
    summary: 'Delete many secrets at once, atomically (owner/admin)',
    response: BulkDeleteResultDto,
  })
  async bulkDeleteSecrets(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Body() dto: BulkDeleteSecretsDto,
  ): Promise<BulkDeleteResultDto> {
    const target = await this.access.environment(org, project, env, actor, 'write');
    return this.secrets.bulkRemove(target, dto.keys, actor, meta);
  }

  @Delete(':env/:key')
  @Route({
    permission: Permission.SecretsWrite,
    org: BY_SLUG,
    summary: 'Soft-delete a secret (gone from pulls; history kept)',
    response: DeleteSecretResultDto,
  })
  async deleteSecret(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Param('key') key: string,
  ): Promise<DeleteSecretResultDto> {
    const target = await this.access.environment(org, project, env, actor, 'write');
    return this.secrets.remove(target, key, actor, meta);
  }
}
