import type { Strategy } from 'passport';

type Settle<T> = (err: unknown, user?: T | false | null) => void;

/** A strategy's per-request view: the strategy's own methods, with passport's actions reporting to `settle`. */
interface Attempt<T> {
  settle: Settle<T>;
  success(user: T): void;
  fail(): void;
  error(err: unknown): void;
  pass(): void;
  redirect(): void;
  authenticate(req: unknown, options?: unknown): void;
}

/**
 * Runs passport strategies in order for one request, as `passport.authenticate([a, b], { session: false },
 * callback)` does: a strategy that succeeds or errors decides; one that fails hands over to the next;
 * when all fail, the answer is `false`. The strategies are passport's (their `authenticate` calls
 * `this.success`, `this.fail`, `this.error`); what this leaves out is passport's per-request set-up,
 * which the bench:pull profile showed on the hot path: the middleware and five closures per strategy
 * built for every request, the failures array, and `login`/`logout`/`isAuthenticated`/`_sessionManager`
 * added to every request object (which changes the request's shape under Fastify). Sessions are not
 * passport's here (`session: false`), so none of that is used.
 */
export class StrategyChain<T> {
  /** Per strategy, once: an object whose prototype is the strategy, with the actions defined on it. */
  private readonly bases: ReadonlyArray<Attempt<T>>;

  constructor(strategies: readonly Strategy[]) {
    this.bases = strategies.map((strategy) => {
      const base = Object.create(strategy) as Attempt<T>;
      base.success = function (this: Attempt<T>, user: T) {
        this.settle(null, user);
      };
      base.fail = function (this: Attempt<T>) {
        this.settle(null, false);
      };
      base.error = function (this: Attempt<T>, err: unknown) {
        this.settle(err ?? new Error('Authentication failed'));
      };
      // Neither is used by bearer tokens or session cookies; under passport.authenticate both would end
      // the request without a user, so they do here.
      base.pass = function (this: Attempt<T>) {
        this.settle(null, false);
      };
      base.redirect = function (this: Attempt<T>) {
        this.settle(null, false);
      };
      return base;
    });
  }

  /** The first strategy's verdict that is not a failure: the user, or an error; `false` when every one failed. */
  run(req: unknown): Promise<T | false> {
    return new Promise((resolve, reject) => this.attempt(req, 0, resolve, reject));
  }

  private attempt(req: unknown, index: number, resolve: (user: T | false) => void, reject: (err: unknown) => void): void {
    if (index === this.bases.length) return resolve(false);
    const attempt = Object.create(this.bases[index]) as Attempt<T>;
    let settled = false;
    attempt.settle = (err, user) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else if (user) resolve(user);
      else this.attempt(req, index + 1, resolve, reject);
    };
    try {
      attempt.authenticate(req, { session: false });
    } catch (error) {
      attempt.settle(error);
    }
  }
}
