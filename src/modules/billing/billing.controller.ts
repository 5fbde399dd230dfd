import { Body, Controller, Get, Headers, Param, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { ReqMeta } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { ParseUuidPipe } from '../../common/validation/parse-uuid.pipe.js';
import { BillingStatusDto, BillingUrlDto, CheckoutDto, WebhookReceivedDto } from './billing.dto.js';
import { BillingService } from './billing.service.js';

/** The webhook's path: the JSON parser keeps the raw body of this one route (app.factory.ts). */
export const STRIPE_WEBHOOK_PATH = '/v1/billing/webhook';

@ApiTags('Billing')
@Controller('billing')
export class BillingController {
  constructor(private readonly billing: BillingService) {}

  // Declared before ':orgId' routes; it is a POST and they are not, but keep the static path first.
  @Post('webhook')
  @Route({ public: true, summary: 'Stripe webhook (no auth; the Stripe-Signature header is verified on the raw body)', response: WebhookReceivedDto })
  webhook(@Req() req: FastifyRequest, @Headers('stripe-signature') signature: string | undefined, @ReqMeta() meta: RequestMeta): Promise<WebhookReceivedDto> {
    return this.billing.handleWebhook(req.rawBody, signature, meta);
  }

  @Get(':orgId')
  @Route({
    permission: Permission.BillingRead,
    summary: "The org's plan, subscription status, period end, and usage against its limits",
    response: BillingStatusDto,
  })
  status(@Param('orgId', ParseUuidPipe) orgId: string): Promise<BillingStatusDto> {
    return this.billing.status(orgId);
  }

  @Post(':orgId/checkout')
  @Route({ permission: Permission.BillingManage, summary: 'Start a Stripe Checkout session for a paid plan', response: BillingUrlDto })
  checkout(@Param('orgId', ParseUuidPipe) orgId: string, @Body() dto: CheckoutDto): Promise<BillingUrlDto> {
    return this.billing.checkout(orgId, dto.plan);
  }

  @Post(':orgId/portal')
  @Route({ permission: Permission.BillingManage, summary: 'Open the Stripe Customer Portal for the org', response: BillingUrlDto })
  portal(@Param('orgId', ParseUuidPipe) orgId: string): Promise<BillingUrlDto> {
    return this.billing.portal(orgId);
  }
}
