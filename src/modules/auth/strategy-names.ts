import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import passport from 'passport';

let apps = 0;

/**
 * The names this app's passport strategies are registered under. passport keeps one registry of
 * strategies for the whole process, by name: with fixed names, a second app in the same process (the
 * tests start several: instances of one install, apps of one test host) would replace the first app's
 * strategies, and the first app would authenticate through the second's services and connection pool.
 * Each app registers its strategies under names of its own and removes them when it closes.
 * (AuthGuard itself holds this app's strategy instances and runs them through StrategyChain, so it does
 * not depend on the registry; the names keep what passport's registry holds per app all the same.)
 */
@Injectable()
export class StrategyNames implements OnModuleDestroy {
  private readonly app = ++apps;
  readonly bearer = `secr-bearer#${this.app}`;
  readonly session = `secr-session#${this.app}`;

  onModuleDestroy(): void {
    passport.unuse(this.bearer);
    passport.unuse(this.session);
  }
}
