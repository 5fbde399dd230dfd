import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SECRET_KEY_MAX, SECRET_KEY_PATTERN } from '../secrets/secrets.dto.js';
import { IsMultiLineText } from '../../common/validation/text.validators.js';

export class AddTemplateDto {
  @ApiProperty({ example: 'DATABASE_URL', pattern: SECRET_KEY_PATTERN.source, maxLength: SECRET_KEY_MAX })
  @IsString()
  @MaxLength(SECRET_KEY_MAX)
  @Matches(SECRET_KEY_PATTERN, { message: `key must match ${SECRET_KEY_PATTERN.source}` })
  key: string;

  @ApiPropertyOptional({ example: 'Primary database connection string', maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @IsMultiLineText()
  description?: string;

  @ApiPropertyOptional({ default: true, description: 'Optional keys are neither missing nor extra' })
  @IsOptional()
  @IsBoolean()
  required?: boolean;
}

export class TemplateDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'DATABASE_URL' })
  key: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty()
  required: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;
}

export class TemplateListDto {
  @ApiProperty({ type: [TemplateDto] })
  templates: TemplateDto[];
}

export class TemplateValidationDto {
  @ApiProperty({ description: 'True when no required key is missing' })
  valid: boolean;

  @ApiProperty({ type: [String], description: 'Required template keys not set in the environment' })
  missing: string[];

  @ApiProperty({ type: [String], description: 'Keys set in the environment that the template does not list' })
  extra: string[];
}
