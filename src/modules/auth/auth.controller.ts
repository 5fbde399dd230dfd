import { Body, Controller, Delete, Get, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { RequestContext, RequestMeta } from './request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx, ReqMeta } from './request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AccountActivityPageDto, AccountActivityQueryDto } from '../audit/audit.dto.js';
import { AuditService } from '../audit/audit.service.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { ParseUuidPipe } from '../../common/validation/parse-uuid.pipe.js';
import {
  ChangePasswordDto,
  CreatedTokenDto,
  CreateTokenDto,
  ForgotPasswordDto,
  ForgotPasswordResponseDto,
  LoginDto,
  LoginResponseDto,
  MeDto,
  RegisterDto,
  REGISTERED_MESSAGE,
  RegisterResponseDto,
  ResetPasswordDto,
  TokenListDto,
  VerifyEmailDto,
} from './auth.dto.js';
import { AuthService, SignedIn } from './auth.service.js';
import { EmailVerificationService } from './email-verification.service.js';
import { PasswordResetService } from './password-reset.service.js';
import { SESSION_COOKIE } from './sessions.service.js';
import { TokensService } from './tokens.service.js';

@ApiTags('Auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly tokens: TokensService,
    private readonly verification: EmailVerificationService,
    private readonly passwordReset: PasswordResetService,
    private readonly activityLog: AuditService,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('register')
  @Route({
    public: true,
    summary:
      'Create an account and its personal org, then sign in with POST /auth/login; answers 202 alike whether or not the address has an account (its owner is mailed instead)',
    status: 202,
    response: RegisterResponseDto,
  })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Too many sign-ups from this address or for this email address; see Retry-After' })
  async register(@Body() dto: RegisterDto, @ReqMeta() meta: RequestMeta): Promise<RegisterResponseDto> {
    await this.auth.register(dto, meta);
    return { message: REGISTERED_MESSAGE };
  }

  @Post('login')
  @Route({ public: true, summary: 'Sign in; sets the __secr_session cookie', response: LoginResponseDto })
  async login(@Body() dto: LoginDto, @ReqMeta() meta: RequestMeta, @Res({ passthrough: true }) reply: FastifyReply): Promise<LoginResponseDto> {
    const session = await this.auth.login(dto, meta);
    setSessionCookie(reply, session, this.config.publicUrl);
    return { user: session.user, sessionExpiresAt: session.expiresAt };
  }

  @Post('logout')
  @Route({ permission: Permission.AccountSignOut, summary: 'End the current session (or revoke the bearer token used)', status: 204 })
  async logout(@Ctx() { actor, meta }: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.auth.logout(actor, meta);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  @Get('me')
  @Route({ permission: Permission.AccountRead, summary: 'The signed-in user and their orgs with roles', response: MeDto })
  me(@Ctx() { actor }: RequestContext): Promise<MeDto> {
    return this.auth.me(actor);
  }

  @Post('change-password')
  @Route({
    permission: Permission.AccountCredentials,
    summary: 'Change password; ends every other session, and with revokeTokens every API and CLI token',
    status: 204,
  })
  changePassword(@Ctx() { actor, meta }: RequestContext, @Body() dto: ChangePasswordDto): Promise<void> {
    return this.auth.changePassword(actor, dto, meta);
  }

  @Get('activity')
  @Route({
    permission: Permission.AccountActivity,
    summary: 'Your account activity: sign-ins, failed sign-ins, password and token changes (newest first)',
    response: AccountActivityPageDto,
  })
  accountActivity(@Ctx() { actor }: RequestContext, @Query() query: AccountActivityQueryDto): Promise<AccountActivityPageDto> {
    return this.activityLog.forUser(actor.userId, query);
  }

  @Post('send-verification')
  @Route({ permission: Permission.AccountManage, summary: 'Mail a link that verifies your address (valid 24 h, single use)', status: 204 })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The address is already verified' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Too many mails requested; see Retry-After' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'The mail server did not accept the mail' })
  sendVerification(@Ctx() { actor }: RequestContext): Promise<void> {
    return this.verification.send(actor);
  }

  @Post('verify-email')
  @Route({ public: true, summary: 'Verify your address with the token of the mailed link', status: 204 })
  verifyEmail(@Body() dto: VerifyEmailDto, @ReqMeta() meta: RequestMeta): Promise<void> {
    return this.verification.verify(dto, meta);
  }

  @Post('forgot-password')
  @Route({
    public: true,
    summary: 'Mail a password-reset link (valid 1 h, single use); answers 202 alike whether or not the account exists',
    status: 202,
    response: ForgotPasswordResponseDto,
  })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Too many requests from this address or for this account; see Retry-After' })
  async forgotPassword(@Body() dto: ForgotPasswordDto, @ReqMeta() meta: RequestMeta): Promise<ForgotPasswordResponseDto> {
    await this.passwordReset.requestReset(dto, meta);
    return { message: 'If an account uses this address, a link to reset its password is on its way' };
  }

  @Post('reset-password')
  @Route({
    public: true,
    summary: 'Set a new password with the token of the mailed link; ends every session, and with revokeTokens every API and CLI token',
    status: 204,
  })
  resetPassword(@Body() dto: ResetPasswordDto, @ReqMeta() meta: RequestMeta): Promise<void> {
    return this.passwordReset.resetPassword(dto, meta);
  }

  @Post('token')
  @Route({ permission: Permission.AccountWrite, summary: 'Create a scoped API or CLI token (shown once)', status: 201, response: CreatedTokenDto })
  createToken(@Ctx() { actor, meta }: RequestContext, @Body() dto: CreateTokenDto): Promise<CreatedTokenDto> {
    return this.tokens.create(actor, dto, meta);
  }

  @Get('tokens')
  @Route({ permission: Permission.AccountRead, summary: 'List your active tokens (never the tokens themselves)', response: TokenListDto })
  async listTokens(@Ctx() { actor }: RequestContext): Promise<TokenListDto> {
    return { tokens: await this.tokens.list(actor) };
  }

  @Delete('tokens/:tokenId')
  @Route({ permission: Permission.AccountWrite, summary: 'Revoke one of your tokens', status: 204 })
  revokeToken(@Ctx() { actor, meta }: RequestContext, @Param('tokenId', ParseUuidPipe) tokenId: string): Promise<void> {
    return this.tokens.revoke(actor, tokenId, meta);
  }
}

/**
 * `Secure` whenever the API is reached over https: by its PUBLIC_URL (behind a TLS-terminating load
 * balancer the request itself is plain http unless TRUST_PROXY is set), or by the request.
 */
function setSessionCookie(reply: FastifyReply, session: Pick<SignedIn, 'jwt' | 'expiresAt'>, publicUrl: string): void {
  reply.setCookie(SESSION_COOKIE, session.jwt, {
    httpOnly: true,
    sameSite: 'lax',
    secure: publicUrl.startsWith('https:') || reply.request.protocol === 'https',
    path: '/',
    expires: session.expiresAt,
  });
}
