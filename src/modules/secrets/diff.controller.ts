import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { BadRequestError } from '../../common/errors/domain-error.js';
import { canonicalEnvironment } from '../projects/environments.js';
import { VaultAccess } from '../projects/vault-access.service.js';
import { EnvironmentDiff } from './environment-diff.service.js';
import { DiffQueryDto, EnvironmentDiffDto } from './secrets.dto.js';

@ApiTags('Secrets')
@Controller('secrets/:orgSlug/:project')
export class DiffController {
  constructor(
    private readonly diffs: EnvironmentDiff,
    private readonly access: VaultAccess,
  ) {}

  @Get('diff')
  @Header('Cache-Control', 'no-store')
  @Route({
    permission: Permission.SecretsRead,
    org: { param: 'orgSlug', by: 'slug' },
    summary: 'Compare two environments: keys only in one, changed, identical (values compared on the server; shown only with showValues)',
    response: EnvironmentDiffDto,
  })
  async diffEnvironments(
    @Ctx() { actor, org, meta }: OrgRequestContext,
    @Param('project') project: string,
    @Query() query: DiffQueryDto,
  ): Promise<EnvironmentDiffDto> {
    if (canonicalEnvironment(query.from) === canonicalEnvironment(query.to)) throw new BadRequestError('from and to must be different environments');
    // Comparing reveals which keys each holds and whether their values match: read on both tiers.
    const source = await this.access.environment(org, project, query.from, actor, 'read');
    const target = await this.access.environment(org, project, query.to, actor, 'read');
    return this.diffs.diff(source, target, { keys: query.keys, showValues: query.showValues === 'true' }, actor, meta);
  }
}
