import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { PromoteResultDto, PromoteSecretsDto } from './promotion.dto.js';
import { VaultAccess } from '../projects/vault-access.service.js';
import { assertDistinctEnvironments, PromotionService } from './promotion.service.js';

@ApiTags('Promotion')
@Controller('secrets/:orgSlug/:project')
export class PromotionController {
  constructor(
    private readonly promotion: PromotionService,
    private readonly access: VaultAccess,
  ) {}

  @Post('promote')
  @Route({
    permission: Permission.SecretsPromote,
    org: { param: 'orgSlug', by: 'slug' },
    summary: 'Copy secrets from one environment to another (ciphertext copied, never decrypted)',
    response: PromoteResultDto,
  })
  async promoteSecrets(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Body() dto: PromoteSecretsDto,
  ): Promise<PromoteResultDto> {
    assertDistinctEnvironments(dto);
    // Read on the source, write on the target: a developer cannot copy production into a tier they can read.
    const source = await this.access.environment(org, project, dto.fromEnv, actor, 'read');
    const target = await this.access.environment(org, project, dto.toEnv, actor, 'write');
    return this.promotion.promote(actor, source, target, dto, meta);
  }
}
