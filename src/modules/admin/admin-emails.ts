import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG, type AppConfig } from '../../config/config.js';

/** At start-up, marks the accounts of SECR_ADMIN_EMAILS as instance admins (sign-up marks new ones). Never demotes. */
@Injectable()
export class AdminEmails implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminEmails.name);

  constructor(
    private readonly db: DataSource,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.adminEmails.length) return;
    const promoted: Array<{ id: string }> = await this.db.query(
      `WITH promoted AS (
         UPDATE users SET is_admin = true, updated_at = now() WHERE email = ANY($1::text[]) AND NOT is_admin RETURNING id)
       SELECT id FROM promoted`,
      [this.config.adminEmails],
    );
    if (promoted.length) this.logger.log(`Marked ${promoted.length} account(s) of SECR_ADMIN_EMAILS as instance admins`);
  }
}
