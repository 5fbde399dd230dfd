import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { OrgRequestContext } from '../auth/request-context.js';
import { Permission } from '../../common/auth/permissions.js';
import { Ctx } from '../auth/request-context.decorators.js';
import { Route } from '../../common/auth/route.decorator.js';
import { ParseUuidPipe } from '../../common/validation/parse-uuid.pipe.js';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  DeliveryLogQueryDto,
  TestDeliveryDto,
  UpdateWebhookDto,
  WebhookDetailDto,
  WebhookDto,
  WebhookListDto,
} from './webhooks.dto.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('Webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get(':orgId')
  @Route({ permission: Permission.WebhooksRead, summary: 'List the org’s webhooks (owner/admin)', response: WebhookListDto })
  async listWebhooks(@Ctx() { org }: OrgRequestContext): Promise<WebhookListDto> {
    return { webhooks: await this.webhooks.list(org) };
  }

  @Post(':orgId')
  @Route({
    permission: Permission.WebhooksWrite,
    summary: 'Create a webhook; the response shows its signing secret, once (owner/admin)',
    status: 201,
    response: CreatedWebhookDto,
  })
  createWebhook(@Ctx() { actor, org, meta }: OrgRequestContext, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.webhooks.create(org, actor, dto, meta);
  }

  @Get(':orgId/:id')
  @Route({ permission: Permission.WebhooksRead, summary: 'A webhook and its delivery log, newest attempt first (owner/admin)', response: WebhookDetailDto })
  getWebhook(@Ctx() { org }: OrgRequestContext, @Param('id', ParseUuidPipe) id: string, @Query() query: DeliveryLogQueryDto): Promise<WebhookDetailDto> {
    return this.webhooks.get(org, id, query);
  }

  @Patch(':orgId/:id')
  @Route({ permission: Permission.WebhooksWrite, summary: 'Update a webhook: URL, events, filters, enabled (owner/admin)', response: WebhookDto })
  updateWebhook(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('id', ParseUuidPipe) id: string, @Body() dto: UpdateWebhookDto): Promise<WebhookDto> {
    return this.webhooks.update(org, actor, id, dto, meta);
  }

  @Delete(':orgId/:id')
  @Route({ permission: Permission.WebhooksWrite, summary: 'Delete a webhook and its delivery log (owner/admin)', status: 204 })
  deleteWebhook(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('id', ParseUuidPipe) id: string): Promise<void> {
    return this.webhooks.remove(org, actor, id, meta);
  }

  @Post(':orgId/:id/test')
  @Route({
    permission: Permission.WebhooksWrite,
    summary: 'Send a test delivery (event webhook.test, attempted once; the result shows in the delivery log) (owner/admin)',
    status: 202,
    response: TestDeliveryDto,
  })
  testWebhook(@Ctx() { actor, org, meta }: OrgRequestContext, @Param('id', ParseUuidPipe) id: string): Promise<TestDeliveryDto> {
    return this.webhooks.test(org, actor, id, meta);
  }
}
