/**
 * `withLock`: run code while holding a distributed lock — as a method decorator
 * (`@withLock(path, options)`) or a plain function (`withLock(client, path, fn, options)`).
 * The lock is acquired before the call and released when its promise settles, also on throw.
 * Inside, `currentLock()` gives the lock's ownership `signal` (fires on SUSPENDED/LOST: stop
 * writing) and its fencing token; the plain form also passes them to `fn`.
 *
 * @example
 *   @injectable() class Ledger {
 *     constructor(@inject(ZooKeeper) private readonly zk: ZooKeeperClient) {}
 *     @withLock((args) => `/locks/account-${args[0]}`, { timeout: 5_000 })
 *     async transfer(account: string, amount: number) {
 *       const { signal, fencingToken } = currentLock()!;
 *       await this.db.apply(account, amount, { signal, fencingToken });
 *     }
 *   }
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ZooKeeperClient } from '../client/client.js';
import { Lock } from '../recipes/lock/lock.js';
import { ReadLock, WriteLock } from '../recipes/lock/read-write-lock.js';
import { Semaphore } from '../recipes/semaphore/semaphore.js';
import { LockUnavailableError } from './errors.js';
import {
  methodDecorator,
  resolveClient,
  type AsyncMethodDecorator,
  type ClientSource,
} from './method-decorator.js';

/** Which recipe `withLock` takes: Lock, ReadLock, WriteLock or Semaphore. */
export type LockKindName = 'exclusive' | 'read' | 'write' | 'semaphore';

/** What every `withLock` takes: timeout, signal, identifier, layout, and the decorator's client. */
interface WithLockCommonOptions {
  /** Give up after this many ms with `LockUnavailableError`. Default: wait as long as it takes. */
  timeout?: number;
  /** Abort waiting for the lock (`AbortError`). */
  signal?: AbortSignal;
  /** Stored in the lock node (what `contenders()` shows). */
  identifier?: string;
  /**
   * The layout, for every kind: `'curator'` takes the lock as Curator does — InterProcessMutex
   * (`exclusive`), InterProcessReadWriteLock (`read`/`write`), InterProcessSemaphoreV2
   * (`semaphore`); see each recipe. Default `'kazoo'`.
   */
  naming?: 'kazoo' | 'curator';
  /** When the ownership signal fires: SUSPENDED (default) or LOST only. */
  ownershipLostOn?: 'SUSPENDED' | 'LOST';
  /** Decorator only: the client, or how to get it from the instance (default: its injected client). */
  client?: ClientSource;
}

/** A lock kind's options: `extraLockPatterns` (see `Lock`), no `maxLeases`. */
interface WithLockLockOptions extends WithLockCommonOptions {
  /** Which recipe: `exclusive` (Lock, default), `read`/`write` (ReadLock/WriteLock). */
  kind?: 'exclusive' | 'read' | 'write';
  /** More contender markers to honour, e.g. `['-lock-']` (see `Lock`). */
  extraLockPatterns?: readonly string[];
  maxLeases?: never;
}

/** The semaphore's options: `maxLeases`; a semaphore has no contender markers. */
interface WithLockSemaphoreOptions extends WithLockCommonOptions {
  kind: 'semaphore';
  /** How many may hold at once. Default 1. */
  maxLeases?: number;
  extraLockPatterns?: never;
}

/** Options of `withLock` (both forms): `maxLeases` with `kind: 'semaphore'`, `extraLockPatterns` with the lock kinds. */
export type WithLockOptions = WithLockLockOptions | WithLockSemaphoreOptions;

/** What the guarded code gets. */
export interface HeldLock {
  path: string;
  /** Aborts when ownership may have been lost, or the lock is released. */
  signal: AbortSignal;
  /** Grows with every new holder (undefined only if a semaphore lease's could not be read). */
  fencingToken: bigint | undefined;
}

const held = new AsyncLocalStorage<HeldLock>();

/** The innermost lock held by the calling `withLock` code (undefined outside one). */
export function currentLock(): HeldLock | undefined {
  return held.getStore();
}

function makeRecipe(client: ZooKeeperClient, path: string, options: WithLockOptions): Lock | Semaphore {
  const common = {
    identifier: options.identifier,
    ownershipLostOn: options.ownershipLostOn,
    naming: options.naming,
  };
  if (options.kind === 'semaphore')
    return new Semaphore(client, path, { ...common, maxLeases: options.maxLeases });
  const lock = { ...common, extraLockPatterns: options.extraLockPatterns };
  switch (options.kind ?? 'exclusive') {
    case 'read':
      return new ReadLock(client, path, lock);
    case 'write':
      return new WriteLock(client, path, lock);
    default:
      return new Lock(client, path, lock);
  }
}

async function runLocked<T>(
  client: ZooKeeperClient,
  path: string,
  fn: (lock: HeldLock) => T | Promise<T>,
  options: WithLockOptions,
): Promise<T> {
  const recipe = makeRecipe(client, path, options);
  if (!(await recipe.acquire({ timeout: options.timeout, signal: options.signal }))) {
    throw new LockUnavailableError({ op: 'withLock', path });
  }
  try {
    const lock: HeldLock = { path, signal: recipe.signal, fencingToken: recipe.fencingToken };
    return await held.run(lock, () => fn(lock));
  } finally {
    await recipe.release();
  }
}

/** Run `fn` while holding the lock at `path`. */
export function withLock<T>(
  client: ZooKeeperClient,
  path: string,
  fn: (lock: HeldLock) => T | Promise<T>,
  options?: WithLockOptions,
): Promise<T>;
/**
 * Decorate an async method: it runs while holding the lock at `path`, or at the path that
 * `path(args, self)` computes from the call's arguments. Annotate that function's parameters
 * (`(args: [string, number]) => …`, `(args, self: Ledger) => …`) and the method must take those
 * arguments and belong to that class. On a field, a class or a method that does not return a
 * Promise it is a compile error.
 */
export function withLock<This = unknown, Args extends unknown[] = unknown[]>(
  path: string | ((args: Args, self: This) => string),
  options?: WithLockOptions,
): AsyncMethodDecorator<This, Args>;
export function withLock(...args: unknown[]): unknown {
  if (args[0] instanceof ZooKeeperClient) {
    const [client, path, fn, options = {}] = args as [
      ZooKeeperClient,
      string,
      (lock: HeldLock) => unknown,
      WithLockOptions?,
    ];
    return runLocked(client, path, fn, options);
  }
  const [pathOf, options = {}] = args as [
    string | ((args: unknown[], self: unknown) => string),
    WithLockOptions?,
  ];
  return methodDecorator(
    (original) =>
      function (this: unknown, ...callArgs: unknown[]) {
        const client = resolveClient(this, options.client, 'withLock');
        const path = typeof pathOf === 'function' ? pathOf(callArgs, this) : pathOf;
        return runLocked(client, path, () => original.apply(this, callArgs), options);
      },
  );
}
