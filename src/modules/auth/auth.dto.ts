import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { SLUG_PATTERN } from '../orgs/orgs.dto.js';
import { ROLES, type Role } from '../../common/auth/permissions.js';
import type { TokenAccess, TokenKind } from './api-token.entity.js';
import { IsSingleLineText } from '../../common/validation/text.validators.js';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

/** Length rules of a new password, with messages that say what to do (the rest: password-policy.ts). */
function NewPasswordLength(): PropertyDecorator {
  return (target, property) => {
    const field = String(property);
    IsString({ message: `${field} must be a string` })(target, property);
    MinLength(PASSWORD_MIN, { message: `${field} must be at least ${PASSWORD_MIN} characters long; choose a longer or less common password` })(
      target,
      property,
    );
    MaxLength(PASSWORD_MAX, { message: `${field} must be at most ${PASSWORD_MAX} characters long` })(target, property);
  };
}

const NEW_PASSWORD_DESCRIPTION =
  `${PASSWORD_MIN}–${PASSWORD_MAX} characters, any characters, spaces too; refused if it is only spaces, one character or a short ` +
  'pattern repeated, a simple sequence, your email address or a variation of it, or on a list of common and breached passwords';

const lowerTrim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(lowerTrim)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, format: 'password', description: NEW_PASSWORD_DESCRIPTION })
  @NewPasswordLength()
  password: string;

  @ApiProperty({ example: 'Ada Lovelace', minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSingleLineText()
  name: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(lowerTrim)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ maxLength: PASSWORD_MAX, format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_MAX)
  password: string;
}

export class ChangePasswordDto {
  @ApiProperty({ maxLength: PASSWORD_MAX, format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(PASSWORD_MAX)
  currentPassword: string;

  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, format: 'password', description: NEW_PASSWORD_DESCRIPTION })
  @NewPasswordLength()
  newPassword: string;

  @ApiPropertyOptional({ default: false, description: 'Also revoke every API and CLI token of the account' })
  @IsOptional()
  @IsBoolean()
  revokeTokens?: boolean;
}

export class ForgotPasswordDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(lowerTrim)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  email: string;
}

export class ForgotPasswordResponseDto {
  @ApiProperty({ example: 'If an account uses this address, a link to reset its password is on its way' })
  message: string;
}

const EMAIL_TOKEN_DESCRIPTION = 'The token from the link in the mail (the part after #token=)';

export class ResetPasswordDto {
  @ApiProperty({ description: EMAIL_TOKEN_DESCRIPTION, minLength: 1, maxLength: 128 })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @IsSingleLineText()
  token: string;

  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, format: 'password', description: `The new password: ${NEW_PASSWORD_DESCRIPTION}` })
  @NewPasswordLength()
  password: string;

  @ApiPropertyOptional({ default: false, description: 'Also revoke every API and CLI token of the account (after a compromise)' })
  @IsOptional()
  @IsBoolean()
  revokeTokens?: boolean;
}

export class VerifyEmailDto {
  @ApiProperty({ description: EMAIL_TOKEN_DESCRIPTION, minLength: 1, maxLength: 128 })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @IsSingleLineText()
  token: string;
}

export class CreateTokenDto {
  @ApiProperty({ example: 'GitHub Actions deploy', minLength: 1, maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSingleLineText()
  name: string;

  @ApiProperty({ enum: ['read', 'read_write'], description: 'read: pull and list only; read_write: also change' })
  @IsIn(['read', 'read_write'])
  access: TokenAccess;

  @ApiPropertyOptional({ enum: ['api', 'cli'], default: 'api', description: 'Token prefix: secr_tok_ (api) or secr_cli_ (cli)' })
  @IsOptional()
  @IsIn(['api', 'cli'])
  kind?: TokenKind;

  @ApiPropertyOptional({ format: 'uuid', description: 'Restrict the token to one org; omit for every org you belong to' })
  @IsOptional()
  @IsUUID()
  orgId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Restrict the token to one project of `orgId`' })
  @IsOptional()
  @IsUUID()
  projectId?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['development', 'staging'],
    description: 'Restrict the token to these environments (slugs or aliases such as `prod`)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(SLUG_PATTERN, { each: true, message: `each environment must match ${SLUG_PATTERN.source}` })
  environments?: string[];

  @ApiPropertyOptional({ minimum: 1, maximum: 365, default: 90 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(365)
  expiresInDays?: number;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  email: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  emailVerified: boolean;

  @ApiProperty()
  isAdmin: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;
}

export class OrgSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'acme' })
  slug: string;

  @ApiProperty({ example: 'Acme Inc.' })
  name: string;

  @ApiProperty({ enum: ROLES })
  role: Role;
}

export class MeDto {
  @ApiProperty({ type: UserDto })
  user: UserDto;

  @ApiProperty({ type: [OrgSummaryDto] })
  orgs: OrgSummaryDto[];
}

/** The one answer of POST /auth/register, for new and existing addresses alike. */
export const REGISTERED_MESSAGE = 'Thank you: a mail to this address says what comes next. Then sign in with POST /v1/auth/login';

export class RegisterResponseDto {
  @ApiProperty({ example: REGISTERED_MESSAGE, description: 'The same for every address, whether or not it has an account' })
  message: string;
}

export class LoginResponseDto {
  @ApiProperty({ type: UserDto })
  user: UserDto;

  @ApiProperty({ format: 'date-time' })
  sessionExpiresAt: Date;
}

export class TokenDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: ['api', 'cli'] })
  kind: TokenKind;

  @ApiProperty({ example: 'secr_tok_Ab3x…', description: 'Prefix and first characters, to recognise the token' })
  hint: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null = every org of the owner' })
  orgId: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null = every project of the org' })
  projectId: string | null;

  @ApiProperty({ type: [String], nullable: true, description: 'null = every environment' })
  environments: string[] | null;

  @ApiProperty({ enum: ['read', 'read_write'] })
  access: TokenAccess;

  @ApiProperty({ format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ format: 'date-time' })
  expiresAt: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastUsedAt: Date | null;
}

export class CreatedTokenDto extends TokenDto {
  @ApiProperty({ example: 'secr_tok_…', description: 'The token itself. Shown only in this response: store it now.' })
  token: string;
}

export class TokenListDto {
  @ApiProperty({ type: [TokenDto] })
  tokens: TokenDto[];
}
