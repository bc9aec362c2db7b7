import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError } from '../../client/errors.js';
import { Lock, mutexKind, type LockOptions } from '../lock/lock.js';

/** Options of `new Election(...)`: the Lock's options, and how many leaders at once. */
export interface ElectionOptions extends Omit<LockOptions, 'reentrant'> {
  /**
   * `'curator'`: candidates are `_c_<uuid>-lock-<seq>`, the layout of Curator's `LeaderSelector`
   * (an `InterProcessMutex` on the election path, lock name `lock-`, data = its id), so our
   * Election and a LeaderSelector on one path elect one leader between them. Default `'kazoo'`.
   */
  naming?: 'kazoo' | 'curator';
  /** How many leaders at once. Default 1 (kazoo-compatible). */
  leaders?: number;
}

/** What the leader's function receives. */
export interface Leadership {
  /** Aborts when leadership may be lost (SUSPENDED by default, or LOST). */
  signal: AbortSignal;
  /** Grows with every new leader: pass it to systems that must reject a deposed leader's writes. */
  fencingToken: bigint;
}

/**
 * Election: leader election, wire-compatible with kazoo's `Election` — which is a `Lock` on the
 * election path, so the layout is the Lock's: `<path>/<32hex>__lock__<seq>`, ephemeral +
 * sequential, data = identifier. The lowest sequence leads; `contenders()` lists identifiers,
 * leader first. With `leaders: N` the N lowest lead at once (several masters, standbys behind
 * them) on the same layout; kazoo peers only understand N = 1.
 *
 * Leadership is held while the function given to `run` is pending, and released when its
 * promise settles (also when it throws).
 *
 * SUSPENDED: the leader's `signal` fires (unless `ownershipLostOn: 'LOST'`): stop acting as leader.
 * LOST: leadership is gone; `signal` fires and `isLeader` becomes false. kazoo never interrupts
 * a leader; the signal is how we do. A candidate still waiting re-queues (or fails, with
 * `onSessionLost: 'fail'`). The candidate node's life cycle is the Lock's (`OwnNode`): a node of
 * an earlier session is never adopted, so a lost create reply never makes two leaders.
 * With `naming: 'curator'` it joins Curator's `LeaderSelector` on the same path (its layout is
 * Curator's InterProcessMutex: `_c_<uuid>-lock-<seq>`; kazoo-named candidates are honoured too).
 * Curator's `LeaderLatch` (`_c_<uuid>-latch-<seq>`) is another layout: a candidate that finds
 * latch nodes on its path (or, kazoo-named, LeaderSelector nodes) rejects `run` with
 * `RecipeMismatchError` instead of leading beside them (see `Lock`).
 *
 * @example
 *   const election = new Election(zk, '/services/billing/leader', { identifier: hostname() });
 *   await election.run(async ({ signal }) => {
 *     while (!signal.aborted) await billOnePage(signal);
 *   });
 */
export class Election {
  private readonly lock: Lock;
  /** Every `run` still waiting to be elected (a refused second `run` must not hide the first). */
  private readonly waiting = new Set<AbortController>();

  constructor(
    readonly client: ZooKeeperClient,
    readonly path: string,
    options: ElectionOptions = {},
  ) {
    const leaders = options.leaders ?? 1;
    if (!Number.isInteger(leaders) || leaders < 1)
      throw new InvalidArgumentError(`leaders must be a positive integer, got ${String(leaders)}`, {
        op: 'Election',
        path,
      });
    this.lock = new Lock(client, path, { ...options, reentrant: false }, mutexKind('Election', leaders));
  }

  /**
   * Wait to be elected, then run `fn` as leader; leadership ends when its promise settles.
   * Resolves with `fn`'s result. Rejects with `AbortError` when `signal` aborts (or `cancel()`)
   * before election.
   */
  async run<T>(
    fn: (leadership: Leadership) => T | Promise<T>,
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const waiting = new AbortController();
    this.waiting.add(waiting);
    const signal = options.signal ? AbortSignal.any([options.signal, waiting.signal]) : waiting.signal;
    try {
      await this.lock.acquire({ signal });
    } finally {
      this.waiting.delete(waiting);
    }
    try {
      return await fn({ signal: this.lock.signal, fencingToken: this.lock.fencingToken });
    } finally {
      await this.lock.release();
    }
  }

  /** Stop waiting to be elected (a running leader is not interrupted: end its function instead). */
  cancel(): void {
    for (const waiting of this.waiting) waiting.abort();
  }

  /** True while this instance leads. */
  get isLeader(): boolean {
    return this.lock.isAcquired;
  }

  /** Aborts when leadership may be lost; already aborted when not leading. */
  get signal(): AbortSignal {
    return this.lock.signal;
  }

  /** Identifiers of every candidate, leaders first. */
  contenders(): Promise<string[]> {
    return this.lock.contenders();
  }
}
