import { Controller, Get } from '@nestjs/common';
import { ApiProperty, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Permission } from '../../common/auth/permissions.js';
import { Route } from '../../common/auth/route.decorator.js';
import { KeyCheck } from './key-check.js';
import { KeyProviders } from './key-providers.js';
import { countWrappedKeys, type WrappedKeyKind } from './rewrap.js';

export class KeyProviderRefDto {
  @ApiProperty({ enum: ['local', 'gcp', 'aws', 'azure'] })
  provider: string;

  @ApiProperty({ example: 'arn:aws:kms:eu-west-1:111122223333:alias/secr', description: 'The master key: a KMS key name, or a fingerprint of the local key' })
  masterKey: string;
}

export class WrappedKeyCountDto extends KeyProviderRefDto {
  @ApiProperty({ enum: ['project_key', 'webhook_secret', 'audit_signing_key'] })
  kind: WrappedKeyKind;

  @ApiProperty({ example: 42 })
  count: number;

  @ApiProperty({ description: 'Wrapped by the primary provider: nothing to move' })
  current: boolean;

  @ApiProperty({ description: 'Wrapped by a provider this instance is configured with (false: they cannot be read)' })
  readable: boolean;
}

export class KeyStatusDto {
  @ApiProperty({ type: KeyProviderRefDto, description: 'KMS_PROVIDER: wraps every new key' })
  primary: KeyProviderRefDto;

  @ApiProperty({ type: [KeyProviderRefDto], description: 'Configured beside the primary: only unwrap (a move between providers)' })
  others: KeyProviderRefDto[];

  @ApiProperty({ type: [String], description: 'What the start-up key check found wrong (empty: ready)' })
  problems: string[];

  @ApiProperty({ type: [WrappedKeyCountDto], description: 'Stored wrapped keys by what wrapped them' })
  wrapped: WrappedKeyCountDto[];

  @ApiProperty({ description: 'Every stored key is under the primary provider: `npm run kms:rewrap` has nothing left to do' })
  moveComplete: boolean;
}

/** Where an install stands with its key providers, for instance administrators (README "Moving between key providers"). */
@ApiTags('Admin')
@Controller('admin/keys')
export class KeysStatusController {
  constructor(
    private readonly providers: KeyProviders,
    private readonly keyCheck: KeyCheck,
    private readonly db: DataSource,
  ) {}

  @Get()
  @Route({
    permission: Permission.AdminRead,
    summary: 'Key providers, the start-up key check, and stored keys by the provider that wrapped them (instance admins)',
    response: KeyStatusDto,
  })
  async keyStatus(): Promise<KeyStatusDto> {
    const wrapped = await countWrappedKeys(async (sql, params) => {
      const rows = await this.db.query(sql, params);
      return { rows, rowCount: rows.length };
    }, this.providers);
    const ref = (p: { name: string; masterKeyId: string }) => ({ provider: p.name, masterKey: p.masterKeyId });
    return {
      primary: ref(this.providers.primary),
      others: this.providers.all.slice(1).map(ref),
      problems: [...this.keyCheck.readiness()],
      wrapped,
      moveComplete: wrapped.every((c) => c.current),
    };
  }
}
