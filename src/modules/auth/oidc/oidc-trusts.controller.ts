import { Body, Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Permission } from '../../../common/auth/permissions.js';
import { Route } from '../../../common/auth/route.decorator.js';
import { ParseUuidPipe } from '../../../common/validation/parse-uuid.pipe.js';
import { VaultAccess } from '../../projects/vault-access.service.js';
import { Ctx } from '../request-context.decorators.js';
import type { OrgRequestContext } from '../request-context.js';
import { CreateOidcTrustDto, OidcTrustDto, OidcTrustListDto, UpdateOidcTrustDto } from './oidc.dto.js';
import { OidcTrustsService } from './oidc-trusts.service.js';

/** Keyless CI: which CI OIDC issuers the org trusts, for which pipelines and with what scope (owner/admin). */
@ApiTags('OIDC')
@Controller('orgs')
export class OidcTrustsController {
  constructor(
    private readonly trusts: OidcTrustsService,
    private readonly vault: VaultAccess,
  ) {}

  @Get(':orgId/oidc-trusts')
  @Route({
    permission: Permission.OidcTrustsRead,
    summary: 'List the org’s trust relationships with CI OIDC issuers (owner/admin)',
    response: OidcTrustListDto,
  })
  async listOidcTrusts(@Ctx() { org }: OrgRequestContext): Promise<OidcTrustListDto> {
    return { trusts: await this.trusts.list(org) };
  }

  @Post(':orgId/oidc-trusts')
  @Route({
    permission: Permission.OidcTrustsManage,
    summary: 'Trust a CI OIDC issuer: tokens of matching pipelines exchange for short-lived scoped tokens (owner/admin)',
    status: 201,
    response: OidcTrustDto,
  })
  async createOidcTrust(@Ctx() { actor, org, meta }: OrgRequestContext, @Body() dto: CreateOidcTrustDto): Promise<OidcTrustDto> {
    const project = await this.vault.project(org, dto.project, actor);
    return this.trusts.create(org, project, actor, dto, meta);
  }

  @Get(':orgId/oidc-trusts/:trustId')
  @Route({ permission: Permission.OidcTrustsRead, summary: 'A trust relationship with a CI OIDC issuer (owner/admin)', response: OidcTrustDto })
  getOidcTrust(@Ctx() { org }: OrgRequestContext, @Param('trustId', ParseUuidPipe) trustId: string): Promise<OidcTrustDto> {
    return this.trusts.get(org, trustId);
  }

  @Patch(':orgId/oidc-trusts/:trustId')
  @Route({
    permission: Permission.OidcTrustsManage,
    summary: 'Change a trust relationship’s audience, conditions, environments, access or TTL; not its issuer or project (owner/admin)',
    response: OidcTrustDto,
  })
  updateOidcTrust(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('trustId', ParseUuidPipe) trustId: string,
    @Body() dto: UpdateOidcTrustDto,
  ): Promise<OidcTrustDto> {
    return this.trusts.update(org, actor, trustId, dto, meta);
  }

  @Delete(':orgId/oidc-trusts/:trustId')
  @Route({ permission: Permission.OidcTrustsManage, summary: 'Delete a trust relationship; the tokens it minted stop working (owner/admin)', status: 204 })
  deleteOidcTrust(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('trustId', ParseUuidPipe) trustId: string): Promise<void> {
    return this.trusts.remove(org, actor, trustId, meta);
  }
}
