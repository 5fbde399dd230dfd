import { Body, Controller, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { RequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { CreateOrgDto, OrgDto } from './orgs.dto.js';
import { OrgsService } from './orgs.service.js';

@ApiTags('Orgs')
@Controller('orgs')
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @Post()
  @Route({ permission: Permission.AccountManage, summary: 'Create an organization (you become its owner)', status: 201, response: OrgDto })
  createOrg(@Ctx() { actor, meta }: RequestContext, @Body() dto: CreateOrgDto): Promise<OrgDto> {
    return this.orgs.create(actor, dto, meta);
  }
}
