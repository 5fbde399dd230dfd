import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ProjectsModule } from '../projects/projects.module.js';
import { ChangeFeed } from './change-feed.service.js';
import { ChangeLogPruner } from './change-log-pruner.service.js';
import { ChangeLogModule } from './change-log.module.js';
import { ChangeStreamController } from './change-stream.controller.js';
import { ChangeStreams } from './change-streams.service.js';

/** The change stream: `GET /v1/secrets/…/events`, fed by one LISTEN connection per instance; and the pruning of its log. */
@Module({
  imports: [ChangeLogModule, ProjectsModule, AuthModule],
  controllers: [ChangeStreamController],
  providers: [ChangeFeed, ChangeStreams, ChangeLogPruner],
})
export class ChangesModule {}
