import { Module } from '@nestjs/common';
import { ChangeLogRepository } from './change-log.repository.js';

/** The change log of secrets (`secret_changes`): written by SecretWriter, read by the change stream. */
@Module({ providers: [ChangeLogRepository], exports: [ChangeLogRepository] })
export class ChangeLogModule {}
