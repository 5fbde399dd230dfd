import { Controller, Delete } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { OrgPurge } from './org-purge.service.js';

@ApiTags('Orgs')
@Controller('orgs')
export class OrgDeletionController {
  constructor(private readonly purge: OrgPurge) {}

  @Delete(':orgId')
  @Route({
    permission: Permission.OrgDelete,
    summary: 'Delete an organization and everything in it (owner only): gone at once, its data deleted in the background',
    status: 204,
  })
  deleteOrg(@Ctx() { actor, org, meta }: OrgRequestContext): Promise<void> {
    return this.purge.remove(actor, org, meta);
  }
}
