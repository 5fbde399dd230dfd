import { describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { logPoolConnectionError } from './pg-connection.js';

describe('the pool connection error handler', () => {
  // pg-pool emits an idle connection's error on the pool: the handler runs with the pool as `this`.
  function emitIdleError(pool: pg.Pool): { warned: unknown[]; debugged: unknown[] } {
    const warned: unknown[] = [];
    const debugged: unknown[] = [];
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((...args) => void warned.push(args));
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation((...args) => void debugged.push(args));
    try {
      pool.on('error', logPoolConnectionError);
      pool.emit('error', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    } finally {
      warn.mockRestore();
      debug.mockRestore();
    }
    return { warned, debugged };
  }

  it('warns when an idle connection of a working pool fails', () => {
    const { warned, debugged } = emitIdleError(new pg.Pool({ max: 1 }));
    expect(warned).toHaveLength(1);
    expect(debugged).toHaveLength(0);
  });

  it('only notes it at debug level once the pool is ending (the database stopping right after the server)', async () => {
    const pool = new pg.Pool({ max: 1 });
    await pool.end();
    const { warned, debugged } = emitIdleError(pool);
    expect(warned).toHaveLength(0);
    expect(debugged).toHaveLength(1);
  });
});
