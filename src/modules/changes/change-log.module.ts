import { Module } from '@nestjs/common';
import { ChangeLogRepository } from './change-log.repository.js';
import { EnvironmentVersions } from './environment-versions.js';

/**
 * The change log of secrets (`secret_changes`): written by SecretWriter, read by the change stream; and
 * the environments' versions as the change feed hears them (EnvironmentVersions, for the pull's header).
 */
@Module({ providers: [ChangeLogRepository, EnvironmentVersions], exports: [ChangeLogRepository, EnvironmentVersions] })
export class ChangeLogModule {}
