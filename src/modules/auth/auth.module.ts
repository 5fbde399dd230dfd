import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { RateLimitModule } from '../../common/rate-limit/rate-limit.module.js';
import { CONFIG, type AppConfig } from '../../config/config.js';
import { AuditModule } from '../audit/audit.module.js';
import { MailModule } from '../mail/mail.module.js';
import { OrgsModule } from '../orgs/orgs.module.js';
import { PlansModule } from '../plans/plans.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { CliLoginController } from './cli-login/cli-login.controller.js';
import { CliLoginService } from './cli-login/cli-login.service.js';
import { OidcExchangeController } from './oidc/oidc-exchange.controller.js';
import { OidcExchangeService } from './oidc/oidc-exchange.service.js';
import { OidcKeys } from './oidc/oidc-keys.js';
import { OidcTrustsController } from './oidc/oidc-trusts.controller.js';
import { OidcTrustsRepository } from './oidc/oidc-trusts.repository.js';
import { OidcTrustsService } from './oidc/oidc-trusts.service.js';
import { CredentialStatus } from './credential-status.service.js';
import { AuthGuard } from './auth.guard.js';
import { BearerTokenStrategy } from './bearer-token.strategy.js';
import { EmailTokens } from './email-tokens.service.js';
import { EmailVerificationService } from './email-verification.service.js';
import { PasswordResetService } from './password-reset.service.js';
import { SessionJwtStrategy } from './session-jwt.strategy.js';
import { SessionsService } from './sessions.service.js';
import { TokensService } from './tokens.service.js';
import { UsersModule } from './users.module.js';

@Module({
  imports: [
    UsersModule,
    OrgsModule,
    MailModule,
    AuditModule,
    PlansModule,
    ProjectsModule,
    RateLimitModule,
    JwtModule.registerAsync({
      inject: [CONFIG],
      useFactory: (config: AppConfig) => {
        if (!config.sessionSecret) throw new Error('SESSION_SECRET was not resolved before start-up');
        // A KeyObject, made once (a string is tried as a PEM private key on every signature).
        return {
          secret: createSecretKey(Buffer.from(config.sessionSecret)),
          signOptions: { algorithm: 'HS256', issuer: 'secr' },
          verifyOptions: { issuer: 'secr' },
        };
      },
    }),
  ],
  controllers: [AuthController, CliLoginController, OidcTrustsController, OidcExchangeController],
  providers: [
    AuthService,
    SessionsService,
    TokensService,
    CliLoginService,
    OidcTrustsRepository,
    OidcTrustsService,
    OidcExchangeService,
    OidcKeys,
    BearerTokenStrategy,
    SessionJwtStrategy,
    { provide: APP_GUARD, useClass: AuthGuard },
    EmailTokens,
    EmailVerificationService,
    PasswordResetService,
    CredentialStatus,
  ],
  exports: [OrgsModule, UsersModule, CredentialStatus, TokensService, OidcTrustsService],
})
export class AuthModule {}
