import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsSingleLineText } from '../../../common/validation/text.validators.js';

export const CLI_LOGIN_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
export type CliLoginStatus = (typeof CLI_LOGIN_STATUSES)[number];

/** XXXX-XXXX from the user-code alphabet; lower case and a missing dash are accepted. */
export const USER_CODE_PATTERN = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-?[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
/** What POST /auth/cli-login hands out: a prefix and 32 random bytes in base62. */
export const DEVICE_CODE_PATTERN = /^secr_clr_[0-9A-Za-z]{43}$/;
const upperTrim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toUpperCase() : value);

export class StartCliLoginDto {
  @ApiProperty({
    example: 'ada-laptop',
    minLength: 1,
    maxLength: 100,
    description: 'The host name of the machine the CLI runs on, shown to the person who approves',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @IsSingleLineText()
  hostname: string;
}

export class CliLoginStartedDto {
  @ApiProperty({ description: 'The secret the CLI polls with (POST /auth/cli-login/poll). Keep it in memory; never show it.' })
  deviceCode: string;

  @ApiProperty({ example: 'BCDF-GHJK', description: 'The short code the person checks in the dashboard' })
  userCode: string;

  @ApiProperty({ example: '/cli-login', description: 'Path of the dashboard page that approves the request' })
  verificationPath: string;

  @ApiProperty({ type: String, format: 'date-time' })
  expiresAt: Date;

  @ApiProperty({ example: 5, description: 'Seconds to wait between two polls; a faster poll is answered 429 slow_down' })
  interval: number;
}

export class PollCliLoginDto {
  @ApiProperty({
    description: 'The deviceCode of POST /auth/cli-login',
    pattern: DEVICE_CODE_PATTERN.source,
    example: 'secr_clr_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG',
  })
  @IsString()
  @Matches(DEVICE_CODE_PATTERN, { message: 'deviceCode must be the deviceCode of POST /auth/cli-login (secr_clr_…)' })
  deviceCode: string;
}

export class CliLoginPollDto {
  @ApiProperty({ enum: CLI_LOGIN_STATUSES, description: 'approved carries the token (once); denied and expired never do' })
  status: CliLoginStatus;

  @ApiPropertyOptional({ description: 'A secr_cli_ token, in the first answer after the approval only' })
  token?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  tokenId?: string;

  @ApiPropertyOptional({ example: 'secr_cli_AbCd…' })
  hint?: string;

  @ApiPropertyOptional({ example: 'ada@example.com' })
  email?: string;
}

export class CliLoginRequestDto {
  @ApiProperty({ example: 'BCDF-GHJK' })
  userCode: string;

  @ApiProperty({ example: 'ada-laptop' })
  hostname: string;

  @ApiProperty({ example: '203.0.113.7', description: 'The address the request came from' })
  ip: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  expiresAt: Date;
}

export class DecideCliLoginDto {
  @ApiProperty({ example: 'BCDF-GHJK' })
  @Transform(upperTrim)
  @IsString()
  @Matches(USER_CODE_PATTERN, { message: 'userCode must look like BCDF-GHJK' })
  userCode: string;

  @ApiProperty({ description: 'true approves (the CLI then receives a token for you), false denies' })
  @IsBoolean()
  approve: boolean;
}

export class CliLoginDecisionDto {
  @ApiProperty({ enum: ['approved', 'denied'] })
  status: 'approved' | 'denied';
}
