import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const PAGE_LIMIT_MAX = 500;
/** PostgreSQL's int4 maximum: integer input is bounded by it, so a huge number is a 400, not a 500 from the database. */
export const INT4_MAX = 2_147_483_647;

/**
 * A query-string integer: decimal digits (an optional minus sign) and nothing else. Anything else, the
 * empty string, `1e3`, `0x10` and `Infinity` included, becomes NaN, which `@IsInt()` reports as "must be an
 * integer" (`Number()` would read `''` as 0 and `1e3` as 1000).
 */
export const QueryInteger = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? (/^-?\d{1,20}$/.test(value) ? Number(value) : Number.NaN) : value));

/** `?limit=&offset=` (DESIGN.md §6): limit 1–500, offset ≥ 0. What `limit` omitted means is the route's. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: PAGE_LIMIT_MAX })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(PAGE_LIMIT_MAX)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: INT4_MAX, default: 0 })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  offset?: number;
}

export class PaginationDto {
  @ApiProperty()
  limit: number;

  @ApiProperty()
  offset: number;

  @ApiProperty({ description: 'Matching items in all pages' })
  total: number;
}
