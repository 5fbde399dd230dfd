import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { UsersRepository } from '../auth/users.repository.js';

/** At start-up, marks the accounts of SECR_ADMIN_EMAILS as instance admins (sign-up marks new ones). Never demotes. */
@Injectable()
export class AdminEmails implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminEmails.name);

  constructor(
    private readonly users: UsersRepository,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.adminEmails.length) return;
    const promoted = await this.users.promoteAdmins(this.config.adminEmails);
    if (promoted) this.logger.log(`Marked ${promoted} account(s) of SECR_ADMIN_EMAILS as instance admins`);
  }
}
