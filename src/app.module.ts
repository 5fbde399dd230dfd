import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { HttpErrorFilter } from './common/errors/http-error.filter.js';
import { loggerOptions } from './common/logging/logger.options.js';
import { JobsModule } from './common/jobs/jobs.module.js';
import { createValidationPipe } from './common/validation/validation.pipe.js';
import { CONFIG, type AppConfig } from './config/config.js';
import { DatabaseModule } from './database/database.module.js';
import { dataSourceOptions } from './database/data-source.js';
import { AdminModule } from './modules/admin/admin.module.js';
import { AuditRetentionModule } from './modules/audit/audit-retention.module.js';
import { OrgDeletionModule } from './modules/org-deletion/org-deletion.module.js';
import { BillingModule } from './modules/billing/billing.module.js';
import { ChangesModule } from './modules/changes/changes.module.js';
import { MetricsModule } from './modules/metrics/metrics.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { MembersModule } from './modules/members/members.module.js';
import { OrgsModule } from './modules/orgs/orgs.module.js';
import { ProjectsModule } from './modules/projects/projects.module.js';
import { PromotionModule } from './modules/promotion/promotion.module.js';
import { SecretsModule } from './modules/secrets/secrets.module.js';
import { TemplatesModule } from './modules/templates/templates.module.js';
import { WebhooksModule } from './modules/webhooks/webhooks.module.js';

/** Global providers: the config object, and nothing else. */
@Module({})
class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, global: true, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(config)),
        TypeOrmModule.forRoot(dataSourceOptions({ url: databaseUrl, poolSize: config.databasePoolSize, timeouts: config.databaseTimeouts })),
        DatabaseModule,
        JobsModule.forRoot(databaseUrl),
        MetricsModule,
        AuthModule,
        OrgsModule,
        OrgDeletionModule,
        MembersModule,
        ProjectsModule,
        SecretsModule,
        ChangesModule,
        PromotionModule,
        TemplatesModule,
        WebhooksModule,
        AdminModule,
        BillingModule,
        HealthModule,
        AuditRetentionModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
