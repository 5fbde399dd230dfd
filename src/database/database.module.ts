import { Global, Module } from '@nestjs/common';
import { PreparedSql } from './prepared-sql.js';

@Global()
@Module({ providers: [PreparedSql], exports: [PreparedSql] })
export class DatabaseModule {}
