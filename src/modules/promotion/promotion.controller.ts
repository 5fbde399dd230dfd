import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Actor, OrgContext, RequestMeta } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { CurrentActor, CurrentOrg, ReqMeta } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { PromoteResultDto, PromoteSecretsDto } from './promotion.dto.js';
import { PromotionService } from './promotion.service.js';

@ApiTags('Promotion')
@Controller('secrets/:orgSlug/:project')
export class PromotionController {
  constructor(private readonly promotion: PromotionService) {}

  @Post('promote')
  @Route({
    permission: Permission.SecretsPromote,
    org: { param: 'orgSlug', by: 'slug' },
    summary: 'Copy secrets from one environment to another (ciphertext copied, never decrypted)',
    response: PromoteResultDto,
  })
  promoteSecrets(
    @CurrentActor() actor: Actor,
    @CurrentOrg() org: OrgContext,
    @Param('project') project: string,
    @Body() dto: PromoteSecretsDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<PromoteResultDto> {
    return this.promotion.promote(actor, org, project, dto, meta);
  }
}
