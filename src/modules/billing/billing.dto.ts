import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { EffectiveLimitsDto } from '../admin/admin.dto.js';
import { PLANS, type PlanName } from '../plans/plan-limits.js';

export const PAID_PLANS = ['pro', 'team'] as const;
export type PaidPlan = (typeof PAID_PLANS)[number];

export class BillingUsageDto {
  @ApiProperty()
  projects: number;

  @ApiProperty({ description: 'Members plus pending invitations' })
  members: number;

  @ApiProperty()
  webhooks: number;
}

export class BillingStatusDto {
  @ApiProperty({ format: 'uuid' })
  orgId: string;

  @ApiProperty({ enum: PLANS })
  plan: PlanName;

  @ApiProperty({ description: 'true when the org has no plan of its own and DEFAULT_PLAN applies' })
  planIsDefault: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'Stripe subscription status (active, past_due, canceled, …); null without a subscription' })
  subscriptionStatus: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  currentPeriodEnd: string | null;

  @ApiProperty({ description: 'Whether checkout and the customer portal are available on this server' })
  billingConfigured: boolean;

  @ApiProperty({ type: BillingUsageDto })
  usage: BillingUsageDto;

  @ApiProperty({ type: EffectiveLimitsDto })
  limits: EffectiveLimitsDto;
}

export class CheckoutDto {
  @ApiProperty({ enum: PAID_PLANS })
  @IsIn(PAID_PLANS)
  plan: PaidPlan;
}

export class BillingUrlDto {
  @ApiProperty({ description: 'Where to send the user (Stripe-hosted page)' })
  url: string;
}

export class WebhookReceivedDto {
  @ApiProperty()
  received: boolean;

  @ApiProperty({ description: 'true when this event id was already applied (nothing changed)' })
  duplicate: boolean;
}
