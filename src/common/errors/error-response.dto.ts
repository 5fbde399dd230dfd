import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'key' })
  field: string;

  @ApiProperty({ example: 'key must match ^[A-Za-z_][A-Za-z0-9_]*$' })
  message: string;
}

export class VersionConflictDto {
  @ApiProperty({ example: 'DATABASE_URL' })
  key: string;

  @ApiPropertyOptional({ example: 2 })
  expectedVersion?: number;

  @ApiProperty({ example: 3, description: '0: the key is not set' })
  currentVersion: number;
}

/** The error shape of DESIGN.md §6, for the OpenAPI document. */
export class ErrorResponseDto {
  @ApiProperty({ example: 404 })
  statusCode: number;

  @ApiProperty({
    example: 'not_found',
    enum: [
      'bad_request',
      'validation_failed',
      'unauthorized',
      'forbidden',
      'not_found',
      'conflict',
      'payload_too_large',
      'unsupported_media_type',
      'plan_limit_exceeded',
      'rate_limited',
      'slow_down',
      'service_unavailable',
      'billing_not_configured',
      'billing_unavailable',
      'internal_error',
    ],
  })
  code: string;

  @ApiProperty({ example: "Environment 'qa' not found" })
  message: string;

  @ApiProperty({ example: '6f1c0d1e-7f0b-4c39-9b43-0f1f5b0a2f55' })
  requestId: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ type: [VersionConflictDto], description: '409 of a check-and-set write: each key not at the expected version' })
  conflicts?: VersionConflictDto[];

  @ApiPropertyOptional({ description: '409 of a check-and-set write of one key: its current version (0: not set)' })
  currentVersion?: number;

  @ApiPropertyOptional({ description: '409 of a bulk import with `ifEnvironmentVersion`: the environment’s current version' })
  environmentVersion?: number;
}
