import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError } from '../../client/errors.js';
import { deadlineOf } from '../change-waiter.js';
import { remaining } from '../../client/retry.js';
import { AlreadyAcquiredError } from '../errors.js';
import { Lock, type AcquireOptions, type LockOptions } from './lock.js';

/** Options of `MultiLock.acquire`: one timeout for all the locks, and a signal. */
export type MultiLockAcquireOptions = Pick<AcquireOptions, 'timeout' | 'signal'>;

/**
 * MultiLock: several locks held as one, all or nothing — Curator's `InterProcessMultiLock`.
 * `acquire()` takes them in the given order; if one cannot be had (timeout) or fails, those
 * already held are released in reverse order and nothing is held. `release()` releases all in
 * reverse order. Give every process the same paths in the same order, or two of them can each
 * hold part and wait for the rest until their timeouts.
 *
 * Znode layout: each lock's own (`Lock`): with `naming: 'curator'` exactly Curator's
 * `InterProcessMutex` nodes (`<path>/_c_<uuid>-lock-<seq>`, ephemeral sequential), so a MultiLock
 * and Curator's InterProcessMultiLock (or its mutexes) on the same paths exclude each other;
 * by default kazoo's `<path>/<32 hex>__lock__<seq>`. Lock instances may be given instead of
 * paths (each keeps its own options).
 *
 * SUSPENDED / LOST: as each Lock. `signal` aborts when any of them may be lost (SUSPENDED by
 * default, or LOST with `ownershipLostOn: 'LOST'`); after LOST `isAcquired` is false (the locks
 * of the ended session are gone) and `release()` cleans up what is left.
 *
 * @example
 *   await using both = new MultiLock(zk, ['/locks/account-1', '/locks/account-2'], { naming: 'curator' });
 *   if (await both.acquire({ timeout: 5_000 })) {
 *     await transfer({ signal: both.signal });
 *   } // released in reverse order by `await using`
 */
export class MultiLock implements AsyncDisposable {
  /** The locks, in acquisition order. */
  readonly locks: readonly Lock[];
  private acquiring = false;

  constructor(client: ZooKeeperClient, locks: readonly (string | Lock)[], options: LockOptions = {}) {
    if (!Array.isArray(locks) || locks.length === 0)
      throw new InvalidArgumentError('MultiLock needs at least one lock path or Lock', { op: 'MultiLock' });
    this.locks = locks.map((lock) => {
      if (lock instanceof Lock) return lock;
      if (typeof lock !== 'string')
        throw new InvalidArgumentError('a MultiLock takes lock paths or Lock instances', { op: 'MultiLock' });
      return new Lock(client, lock, options);
    });
    const paths = this.locks.map((lock) => lock.path);
    if (new Set(paths).size !== paths.length)
      throw new InvalidArgumentError(`a path appears twice: ${paths.join(', ')}`, { op: 'MultiLock' });
  }

  /** True while every lock is held (Curator's `isAcquiredInThisProcess`). */
  get isAcquired(): boolean {
    return this.locks.every((lock) => lock.isAcquired);
  }

  /**
   * Aborts when any lock may have been lost, or on release; already aborted when not held.
   *
   * @example
   *   await work({ signal: multi.signal });
   */
  get signal(): AbortSignal {
    return AbortSignal.any(this.locks.map((lock) => lock.signal));
  }

  /**
   * Take every lock, in order, within one `timeout` (ms; default: wait forever). Resolves true
   * when all are held; false when one timed out (those taken are released first). Rejects
   * with what a lock's acquire rejected with (`AbortError`, ...) after releasing the others,
   * and with `AlreadyAcquiredError` when held or acquiring.
   *
   * @example
   *   if (await multi.acquire({ timeout: 1_000 })) try { … } finally { await multi.release() }
   */
  async acquire(options: MultiLockAcquireOptions = {}): Promise<boolean> {
    if (this.acquiring || this.locks.some((lock) => lock.isAcquired))
      throw new AlreadyAcquiredError({ path: this.locks[0]!.path });
    const deadline = deadlineOf(options.timeout, { op: 'acquire' });
    this.acquiring = true;
    const taken: Lock[] = [];
    try {
      for (const lock of this.locks) {
        const left = remaining(deadline);
        const once: AcquireOptions = { signal: options.signal };
        if (left !== undefined) once.timeout = Math.max(0, left);
        if (!(await lock.acquire(once))) {
          await releaseAll(taken);
          return false;
        }
        taken.push(lock);
      }
      return true;
    } catch (error) {
      await releaseAll(taken).catch(() => {}); // the acquire's own error is the answer
      throw error;
    } finally {
      this.acquiring = false;
    }
  }

  /**
   * Release every lock, in reverse order (each is tried even if one fails; the first error is
   * thrown after). Resolves true if any was held.
   *
   * @example
   *   await multi.release();
   */
  async release(): Promise<boolean> {
    return releaseAll(this.locks);
  }

  /** `release()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

/** Release `locks` in reverse order, each even if an earlier one failed; true if any was held. */
async function releaseAll(locks: readonly Lock[]): Promise<boolean> {
  let released = false;
  const errors: unknown[] = [];
  for (const lock of [...locks].reverse()) {
    try {
      if (await lock.release()) released = true;
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
  return released;
}
