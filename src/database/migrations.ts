import { Foundation1763800000000 } from '../../migrations/1763800000000-foundation.js';
import { Vault1763900000000 } from '../../migrations/1763900000000-vault.js';
import { Templates1764000000000 } from '../../migrations/1764000000000-templates.js';
import { Webhooks1764100000000 } from '../../migrations/1764100000000-webhooks.js';
import { EmailTokens1764200000000 } from '../../migrations/1764200000000-email-tokens.js';
import { Plans1764300000000 } from '../../migrations/1764300000000-plans.js';
import { Billing1764400000000 } from '../../migrations/1764400000000-billing.js';
import { RequestMetrics1764500000000 } from '../../migrations/1764500000000-request-metrics.js';
import { BillingEventOrder1764600000000 } from '../../migrations/1764600000000-billing-event-order.js';
import { AccountActivity1764710000000 } from '../../migrations/1764710000000-account-activity.js';
import { CliLoginRequests1764720000000 } from '../../migrations/1764720000000-cli-login-requests.js';
import { SecretChanges1764800000000 } from '../../migrations/1764800000000-secret-changes.js';
import { SecretChanges1764810000000 } from '../../migrations/1764810000000-secret-changes.js';
import { OidcTrusts1764820000000 } from '../../migrations/1764820000000-oidc-trusts.js';
import { AuditChain1764830000000 } from '../../migrations/1764830000000-audit-chain.js';
import { EnvironmentVersion1764910000000 } from '../../migrations/1764910000000-environment-version.js';
import { AuditHotPath1764920000000 } from '../../migrations/1764920000000-audit-hot-path.js';
import { OrgDeletion1764930000000 } from '../../migrations/1764930000000-org-deletion.js';
import { AuditLinkCost1764950000000 } from '../../migrations/1764950000000-audit-link-cost.js';
import { RateLimitExpiry1764970000000 } from '../../migrations/1764970000000-rate-limit-expiry.js';

/** Every migration, oldest first. A new migration file is added here too. */
export const MIGRATIONS = [
  Foundation1763800000000,
  Vault1763900000000,
  Templates1764000000000,
  Webhooks1764100000000,
  EmailTokens1764200000000,
  Plans1764300000000,
  Billing1764400000000,
  RequestMetrics1764500000000,
  BillingEventOrder1764600000000,
  AccountActivity1764710000000,
  CliLoginRequests1764720000000,
  SecretChanges1764800000000,
  SecretChanges1764810000000,
  OidcTrusts1764820000000,
  AuditChain1764830000000,
  EnvironmentVersion1764910000000,
  AuditHotPath1764920000000,
  OrgDeletion1764930000000,
  AuditLinkCost1764950000000,
  RateLimitExpiry1764970000000,
];
