import { describe, expect, it } from '@jest/globals';
import passport from 'passport';
import { StrategyChain } from './strategy-chain.js';

type Verdict = { success: string } | { fail: true } | { error: Error } | { throws: Error } | { pass: true };

/** A passport strategy that answers `verdict` (asynchronously, as a real lookup does) and counts its calls. */
class Fixed extends passport.Strategy {
  /** In an object: `this` in authenticate is the per-request attempt, whose own properties stay its own. */
  readonly seen = { calls: 0 };
  constructor(private readonly verdict: Verdict) {
    super();
  }
  override authenticate(): void {
    this.seen.calls++;
    const v = this.verdict;
    if ('throws' in v) throw v.throws;
    queueMicrotask(() => {
      if ('success' in v) this.success(v.success);
      else if ('fail' in v) this.fail(401);
      else if ('pass' in v) this.pass();
      else this.error(v.error);
    });
  }
}

describe('StrategyChain (passport strategies run in order, without passport.authenticate)', () => {
  it('answers the first strategy that succeeds and does not run the later ones', async () => {
    const later = new Fixed({ success: 'second' });
    await expect(new StrategyChain([new Fixed({ success: 'first' }), later]).run({})).resolves.toBe('first');
    expect(later.seen.calls).toBe(0);
  });

  it('hands a failure over to the next strategy', async () => {
    await expect(new StrategyChain([new Fixed({ fail: true }), new Fixed({ success: 'cookie' })]).run({})).resolves.toBe('cookie');
  });

  it('answers false when every strategy fails, or passes', async () => {
    await expect(new StrategyChain([new Fixed({ fail: true }), new Fixed({ pass: true })]).run({})).resolves.toBe(false);
  });

  it('lets an error decide, without trying the next strategy', async () => {
    const later = new Fixed({ success: 'cookie' });
    await expect(new StrategyChain([new Fixed({ error: new Error('revoked') }), later]).run({})).rejects.toThrow('revoked');
    expect(later.seen.calls).toBe(0);
  });

  it('reports a strategy that throws as an error', async () => {
    await expect(new StrategyChain([new Fixed({ throws: new Error('boom') })]).run({})).rejects.toThrow('boom');
  });

  it('keeps concurrent requests apart: each gets its own verdict, the strategy object is not changed', async () => {
    const strategy = new Fixed({ success: 'user' });
    const chain = new StrategyChain([strategy]);
    await expect(Promise.all([chain.run({}), chain.run({}), chain.run({})])).resolves.toEqual(['user', 'user', 'user']);
    expect(strategy.seen.calls).toBe(3);
    expect(Object.prototype.hasOwnProperty.call(strategy, 'settle')).toBe(false);
  });
});
