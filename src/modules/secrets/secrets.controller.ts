import { Body, Controller, Delete, Get, Header, Headers, Param, Post, Put, Query } from '@nestjs/common';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { BadRequestError, ForbiddenError } from '../../common/errors/domain-error.js';
import { INT4_MAX } from '../../common/pagination/pagination.dto.js';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission, ROLE_RANK } from '../../common/auth/permissions.js';
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
  PullSecretsQueryDto,
  RestoreResultDto,
  RestoreSecretsDto,
  RollbackResultDto,
  RollbackSecretDto,
  SecretHistoryDto,
  SetSecretDto,
  SetSecretResultDto,
} from './secrets.dto.js';
import { SecretRestore } from './secret-restore.service.js';
import { SecretsService } from './secrets.service.js';

/** Secret routes take the org's slug (spec 003). */
const BY_SLUG = { param: 'orgSlug', by: 'slug' } as const;
/** A pull's header naming the environment's version (the change stream's position) it is at least as new as. */
export const ENVIRONMENT_VERSION_HEADER = 'X-Secr-Environment-Version';
/** Responses that carry values must not be stored by any cache. */
const NO_STORE = ['Cache-Control', 'no-store'] as const;

@ApiTags('Secrets')
@Controller('secrets/:orgSlug/:project')
export class SecretsController {
  constructor(
    private readonly secrets: SecretsService,
    private readonly restorer: SecretRestore,
    private readonly access: VaultAccess,
  ) {}

  @Get(':env')
  @Header(...NO_STORE)
  @Route({
    permission: Permission.SecretsRead,
    org: BY_SLUG,
    summary: 'Pull the decrypted secrets of an environment (references resolved unless raw=true)',
    response: PullSecretsDto,
  })
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'The ETag of an earlier pull with the same query: 304 (no body, still audited) while nothing changed',
  })
  @ApiResponse({
    status: 304,
    description: `Not modified since the pull whose ETag was sent (no body). Every pull (200 or 304) answers \`${ENVIRONMENT_VERSION_HEADER}\`: the environment's version (a change stream event id) that the answer is at least as new as, for \`ifEnvironmentVersion\``,
    headers: { [ENVIRONMENT_VERSION_HEADER]: { description: 'The environment’s version', schema: { type: 'string', pattern: '^[0-9]+$' } } },
  })
  async pullSecrets(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Query() query: PullSecretsQueryDto,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @HttpReply() reply: ReplyControl,
  ): Promise<PullSecretsDto | undefined> {
    const target = await this.access.environment(org, project, env, actor, 'read');
    const { etag, environmentVersion, body } = await this.secrets.pull(target, query, actor, meta, ifNoneMatch);
    reply.header('etag', etag);
    reply.header(ENVIRONMENT_VERSION_HEADER, environmentVersion);
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
  @ApiHeader({
    name: 'if-match',
    required: false,
    description: 'Check-and-set: the version the key must be at (`"3"` or `3`; `"0"`: not set), as the body field `expectedVersion`',
  })
  @Route({
    permission: Permission.SecretsWrite,
    org: BY_SLUG,
    summary: 'Set a secret (version 1, or the next version; nothing when the value and description are unchanged)',
    response: SetSecretResultDto,
  })
  async setSecret(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Body() dto: SetSecretDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<SetSecretResultDto> {
    const expectedVersion = expectedVersionOf(ifMatch, dto.expectedVersion);
    const target = await this.access.environment(org, project, env, actor, 'write');
    return this.secrets.set(target, { ...dto, expectedVersion }, actor, meta);
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
    return this.secrets.bulkSet(target, dto.secrets, actor, meta, dto.ifEnvironmentVersion);
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

  @Post(':env/restore')
  @Route({
    permission: Permission.SecretsWrite,
    org: BY_SLUG,
    summary: 'Restore an environment (or some keys) to how it was at an instant, atomically (production tier: owner/admin)',
    response: RestoreResultDto,
  })
  async restoreSecrets(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Param('env') env: string,
    @Body() dto: RestoreSecretsDto,
  ): Promise<RestoreResultDto> {
    // Restoring writes values chosen by time: read access to the tier too (as a rollback).
    const target = await this.access.environment(org, project, env, actor, 'read');
    if (target.environment.tier === 'production' && ROLE_RANK[org.role] < ROLE_RANK.admin) {
      throw new ForbiddenError('Restoring a production-tier environment needs the owner or admin role');
    }
    return this.restorer.restore(target, dto, actor, meta);
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

/** The version an `If-Match` header (a version number, quoted or not) and the body's `expectedVersion` ask for; they must agree. */
function expectedVersionOf(ifMatch: string | undefined, bodyVersion: number | undefined): number | undefined {
  if (ifMatch === undefined) return bodyVersion;
  const match = /^\s*(?:W\/)?"?(\d{1,10})"?\s*$/.exec(ifMatch);
  const version = match ? Number(match[1]) : NaN;
  if (!(version <= INT4_MAX)) throw new BadRequestError('If-Match must be a secret version number, such as "3"');
  if (bodyVersion !== undefined && bodyVersion !== version) throw new BadRequestError('If-Match and expectedVersion name different versions');
  return version;
}
