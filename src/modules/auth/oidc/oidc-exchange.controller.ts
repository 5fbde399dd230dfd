import { Body, Controller, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { Route } from '../../../common/auth/route.decorator.js';
import { ErrorResponseDto } from '../../../common/errors/error-response.dto.js';
import { ReqMeta } from '../request-context.decorators.js';
import type { RequestMeta } from '../request-context.js';
import { OidcExchangedDto, OidcExchangeDto } from './oidc.dto.js';
import { OidcExchangeService } from './oidc-exchange.service.js';

@ApiTags('OIDC')
@Controller('auth')
export class OidcExchangeController {
  constructor(private readonly exchanges: OidcExchangeService) {}

  @Post('oidc')
  @Route({
    public: true,
    summary: "Exchange a CI job's OIDC token for a short-lived scoped secr_tok_ token, per a trust relationship (keyless CI)",
    status: 201,
    response: OidcExchangedDto,
  })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'The token failed a check; the message names which (never the token)' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: "Too many exchanges for the relationship's org; see Retry-After" })
  exchangeOidcToken(@Body() dto: OidcExchangeDto, @ReqMeta() meta: RequestMeta): Promise<OidcExchangedDto> {
    return this.exchanges.exchange(dto, meta);
  }
}
