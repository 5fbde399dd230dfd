import { Module } from '@nestjs/common';
import { UsersRepository } from './users.repository.js';

/**
 * Who a user is, for other modules (emails and names to show, counts). Apart from AuthModule so that
 * modules AuthModule itself imports (audit) can use it without a cycle.
 */
@Module({ providers: [UsersRepository], exports: [UsersRepository] })
export class UsersModule {}
