import { DynamicModule, Module } from '@nestjs/common';
import { JOB_DATABASE_URL, JobQueue } from './job-queue.js';

/** The job queue, for every module (global): `JobsModule.forRoot(databaseUrl)` in the app module. */
@Module({})
export class JobsModule {
  static forRoot(databaseUrl: string): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      providers: [{ provide: JOB_DATABASE_URL, useValue: databaseUrl }, JobQueue],
      exports: [JobQueue],
    };
  }
}
