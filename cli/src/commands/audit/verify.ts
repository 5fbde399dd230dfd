import * as Flags from '@oclif/core/flags';
import type { components } from '@secr/sdk';
import { BaseCommand, orgFlags } from '../../base-command.js';
import { auditFilter } from '../../lib/audit-filter.js';
import { CliFailure, ExitCode } from '../../lib/errors.js';

export type AuditVerifyResult = components['schemas']['AuditVerifyResultDto'] & { org: string };

export default class AuditVerify extends BaseCommand<typeof AuditVerify, AuditVerifyResult> {
  static override summary = 'Check that the org’s audit log was not changed: its hash chain and signed checkpoints (owner or admin)';
  static override description =
    'Exits 0 when every row checked matches its hash, follows its predecessor and agrees with the signed checkpoints; otherwise prints the first row changed, removed or reordered and exits 1.';
  static override examples = ['<%= config.bin %> audit verify', '<%= config.bin %> audit verify --from 2026-12-01 --json'];
  static override flags = {
    ...orgFlags,
    from: Flags.string({ description: 'Check events from this time (ISO 8601); the check starts at the signed checkpoint before it' }),
    to: Flags.string({ description: 'Check events before this time (ISO 8601)' }),
  };

  async run(): Promise<AuditVerifyResult> {
    const org = await this.targetOrg();
    const api = await this.api();
    const { from, to } = await auditFilter(api, org, { from: this.flags.from, to: this.flags.to });
    const query = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
    const result = this.unwrap(await api.GET('/v1/audit/{orgId}/verify', { params: { path: { orgId: org.id }, query } }));
    const range = `positions ${result.fromSeq}–${result.toSeq}: ${result.checked} rows, ${result.checkpoints} signed checkpoints`;
    if (result.valid) {
      this.log(`The audit log of ${org.slug} is intact (${range})`);
      return { org: org.slug, ...result };
    }
    const problem = result.firstProblem!;
    if (this.jsonEnabled()) {
      // The JSON result still goes out; the exit code says the check failed.
      process.exitCode = ExitCode.Failure;
      return { org: org.slug, ...result };
    }
    throw new CliFailure(
      `The audit log of ${org.slug} was tampered with: ${problem.message} (${problem.problem}; ${range})`,
      'audit_tampered',
      ExitCode.Failure,
    );
  }
}
