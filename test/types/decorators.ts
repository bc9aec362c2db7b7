/**
 * Compile-time checks of `@withLock` / `@leaderOnly`, compiled by
 * test/unit/decorator-types.test.ts twice: as legacy decorators (`experimentalDecorators`) and
 * as standard TC39 decorators. In both, the line after each `@ts-expect-error` must be an error,
 * and nothing else. (Outside the builds: tsconfig.json excludes test/types.)
 */
import { withLock, leaderOnly } from '../../src/di/index.js';
import type { ZooKeeperClient } from '../../src/index.js';

declare const zk: ZooKeeperClient;

export class Accepted {
  readonly zk = zk;

  @withLock('/locks/a')
  async plain(): Promise<void> {}

  @withLock((args) => `/locks/${String(args[0])}`, { timeout: 1_000 })
  async untypedPath(account: string, amount: number): Promise<number> {
    return amount + account.length;
  }

  @withLock((args: [string, number]) => `/locks/${args[0]}`)
  async typedPath(account: string, amount: number): Promise<string> {
    return `${account}${amount}`;
  }

  @withLock((args: [string], self: Accepted) => `/locks/${self.zk.sessionId}/${args[0]}`)
  async typedSelf(account: string): Promise<string> {
    return account;
  }

  @withLock('/locks/b')
  returnsPromise(): Promise<number> {
    return Promise.resolve(1);
  }

  @leaderOnly('/leader')
  async lead(): Promise<void> {}

  @leaderOnly('/leader')
  static async staticLead(): Promise<void> {}
}

export class Rejected {
  // @ts-expect-error -- a synchronous method would silently start returning a Promise
  @withLock('/locks/a')
  sync(): number {
    return 1;
  }

  // @ts-expect-error -- a field is not a method
  @withLock('/locks/a')
  field = async () => {};

  // @ts-expect-error -- a getter is not a method
  @withLock('/locks/a')
  get getter(): Promise<void> {
    return Promise.resolve();
  }

  // @ts-expect-error -- the path function's arguments are not the method's
  @withLock((args: [number]) => `/locks/${args[0]}`)
  async wrongArgs(account: string): Promise<string> {
    return account;
  }

  // @ts-expect-error -- a synchronous method
  @leaderOnly('/leader')
  syncLead(): void {}

  // @ts-expect-error -- a field
  @leaderOnly('/leader')
  leadField = 1;
}

// @ts-expect-error -- a class
@withLock('/locks/a')
export class DecoratedClass {}

// @ts-expect-error -- a class
@leaderOnly('/leader')
export class LeaderClass {}
