import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import type { RequestContext, RequestMeta } from '../request-context.js';
import { Permission } from '../../../common/auth/permissions.js';
import { Ctx, ReqMeta } from '../request-context.decorators.js';
import { Route } from '../../../common/auth/route.decorator.js';
import { ErrorResponseDto } from '../../../common/errors/error-response.dto.js';
import {
  CliLoginDecisionDto,
  CliLoginPollDto,
  CliLoginRequestDto,
  CliLoginStartedDto,
  DecideCliLoginDto,
  PollCliLoginDto,
  StartCliLoginDto,
} from './cli-login.dto.js';
import { CliLoginService } from './cli-login.service.js';

/** `secr login` through the browser: the CLI starts and polls; the dashboard shows and decides (`POST /auth/cli-auth`). */
@ApiTags('Auth')
@Controller('auth')
export class CliLoginController {
  constructor(private readonly cliLogin: CliLoginService) {}

  @Post('cli-login')
  @Route({
    public: true,
    summary: 'Start a CLI sign-in through the browser: a device code to poll with and a short user code to approve in the dashboard (valid 10 min)',
    status: 201,
    response: CliLoginStartedDto,
  })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Too many sign-in requests from this address; see Retry-After' })
  start(@Body() dto: StartCliLoginDto, @ReqMeta() meta: RequestMeta): Promise<CliLoginStartedDto> {
    return this.cliLogin.start(dto, meta);
  }

  @Post('cli-login/poll')
  @Route({
    public: true,
    summary: 'Poll a CLI sign-in: pending, denied, expired, or approved with a secr_cli_ token (in the first answer after the approval only)',
    response: CliLoginPollDto,
  })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'slow_down: polled sooner than the interval allows; see Retry-After' })
  poll(@Body() dto: PollCliLoginDto, @ReqMeta() meta: RequestMeta): Promise<CliLoginPollDto> {
    return this.cliLogin.poll(dto, meta);
  }

  @Get('cli-auth/:userCode')
  @Route({
    permission: Permission.AccountCliApprove,
    summary: 'The waiting CLI sign-in with this user code: host name, address, time',
    response: CliLoginRequestDto,
  })
  describe(@Param('userCode') userCode: string): Promise<CliLoginRequestDto> {
    return this.cliLogin.describe(userCode);
  }

  @Post('cli-auth')
  @Route({
    permission: Permission.AccountCliApprove,
    summary: 'Dashboard-to-CLI token handoff: approve (the waiting CLI receives a secr_cli_ token of yours) or deny a CLI sign-in',
    response: CliLoginDecisionDto,
  })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The request was already approved or denied' })
  decide(@Ctx() { actor, meta }: RequestContext, @Body() dto: DecideCliLoginDto): Promise<CliLoginDecisionDto> {
    return this.cliLogin.decide(actor, dto, meta);
  }
}
