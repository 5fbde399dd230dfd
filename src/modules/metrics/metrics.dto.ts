import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { QueryInteger } from '../../common/pagination/pagination.dto.js';

export const METRICS_MAX_HOURS = 168;

export class MetricsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: METRICS_MAX_HOURS, default: 24, description: 'How many hours back, the current one included' })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(METRICS_MAX_HOURS)
  hours?: number;
}

export class MetricsRowDto {
  @ApiProperty({ format: 'date-time', description: 'Start of the hour (UTC)' })
  hour: string;

  @ApiProperty()
  method: string;

  @ApiProperty({ description: "The route template, e.g. /v1/secrets/:orgSlug/:project/:env; '(unmatched)' for unknown paths" })
  route: string;

  @ApiProperty()
  count: number;

  @ApiProperty({ description: 'Responses with a 5xx status' })
  errors: number;

  @ApiProperty({ description: 'Responses with a 4xx status' })
  clientErrors: number;

  @ApiProperty({ description: 'Median latency, ms (upper bound of its ~19%-wide histogram bucket)' })
  p50Ms: number;

  @ApiProperty({ description: '95th percentile latency, ms (upper bound of its histogram bucket)' })
  p95Ms: number;
}

export class MetricsSummaryDto {
  @ApiProperty()
  hours: number;

  @ApiProperty({ type: [MetricsRowDto], description: 'Newest hour first' })
  rows: MetricsRowDto[];
}
