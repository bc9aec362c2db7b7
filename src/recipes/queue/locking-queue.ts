/**
 * LockingQueue: a priority queue with at-least-once processing, wire-compatible with kazoo's
 * `LockingQueue`. `get()` locks the next item with an ephemeral node, `consume()` removes it,
 * `release()` — or the consumer's death — puts it back for someone else.
 *
 * Znode layout (kazoo 2.8):
 * - `<path>/entries`, `<path>/taken`: persistent, empty.
 * - entry `<path>/entries/entry-<PPP>-<seq>`: persistent sequential, `PPP` = priority (`%03d`,
 *   lower first), data = the item's bytes.
 * - lock `<path>/taken/<entry name>`: **ephemeral**, data = the consumer instance's id (32 hex
 *   digits, ASCII). Available = entries without a lock, in name order.
 * - `consume()` deletes entry and lock in one transaction (entry first, as kazoo); `release()`
 *   deletes the lock.
 *
 * Guarantees:
 * - A locked item is never lost: if its consumer dies before `consume()` (process killed,
 *   session expired), the lock vanishes with the session, waiting consumers are woken by their
 *   watch on `taken`, and exactly one of them (the one whose create of the lock wins) gets it.
 * - Across a connection drop within one session nothing is lost or duplicated: a lock create
 *   whose reply was lost is settled by reading the lock node (our id and our session → ours;
 *   missing → not applied, since a session's requests are handled in order; so no orphan locks,
 *   kazoo #366); a `consume()`/`release()` whose reply was lost is retried, and a retry that
 *   finds the nodes gone knows the first attempt was applied (only the holder deletes them).
 * - `put()`/`putAll()` are not retried (kazoo neither): on `ConnectionLossError` the items may
 *   or may not be enqueued.
 *
 * SUSPENDED: a waiting `get()` keeps waiting; its watches are re-registered on reconnect and it
 * re-checks then (kazoo's watches are dropped and its `get` can sleep despite available items).
 * A held item stays held if the session survives.
 * LOST: the lock node is gone, and others may take the item. The held item is forgotten (kazoo
 * keeps returning it): `holdsLock()` and `consume()` resolve false, the next `get()` locks a
 * fresh item. Check `holdsLock()` (or watch for LOST) before acting on a long-held item.
 *
 * Deviations (none on the wire): `holdsLock()` resolves false when the lock node is gone (kazoo
 * raises NoNodeError); a `get()` that loses the race for the first available entry tries the next
 * one at once (kazoo waits for the next child event); watches are removed when `get()` returns
 * (kazoo #175 leaks them).
 *
 * @example
 *   const queue = new LockingQueue(zk, '/jobs');
 *   await queue.put(Buffer.from('resize 42.jpg'));
 *   const job = await queue.get({ timeout: 30_000 }); // locked for us, or null
 *   if (job) {
 *     await resize(job);
 *     await queue.consume(); // or queue.release() to hand it back
 *   }
 */
import { randomUUID } from 'node:crypto';
import type { ZooKeeperClient } from '../../client/client.js';
import {
  AbortError,
  ClientClosedError,
  NoNodeError,
  NodeExistsError,
  SessionExpiredError,
  TimeoutError,
} from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { TransactionError } from '../../client/transaction.js';
import { ChangeWaiter, deadlineOf, ensureEmptyPath, isTransient, pause, requestLimits, retryTransient, type WaitLimits } from '../change-waiter.js';
import { DEFAULT_PRIORITY, isOutcomeUnknown, putEntries, putEntry, type EntryTarget } from './queue.js';

export interface LockingQueueGetOptions {
  /** Give up after this many ms and resolve `null` (`0`: one attempt). Default: wait forever. */
  timeout?: number;
  /** Abort the wait: rejects with `AbortError`. */
  signal?: AbortSignal;
}

export interface LockingQueueCallOptions {
  /** Give up after this many ms with `TimeoutError`. */
  timeout?: number;
  signal?: AbortSignal;
}

interface Held {
  /** The entry's name (also the lock node's name). */
  name: string;
  value: Buffer;
  /** The session that owns the lock node. */
  session: bigint;
}

export class LockingQueue {
  readonly path: string;
  /** This instance's consumer id (32 hex digits), the data of its lock nodes. */
  readonly id: string;
  readonly entriesPath: string;
  readonly takenPath: string;
  private readonly idBytes: Buffer;
  private pathsEnsured = false;
  private held: Held | undefined;
  /** get, consume and release run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
  ) {
    validatePath(path, 'LockingQueue');
    this.path = path;
    this.id = randomUUID().replaceAll('-', '');
    this.idBytes = Buffer.from(this.id, 'ascii');
    this.entriesPath = joinPath(path, 'entries');
    this.takenPath = joinPath(path, 'taken');
  }

  /** Put an item (priority 0–999, lower first; default 100). Not retried. Resolves with the entry path. */
  async put(value: Buffer | Uint8Array, priority = DEFAULT_PRIORITY, options: LockingQueueCallOptions = {}): Promise<string> {
    return putEntry(this.entryTarget, value, priority, options);
  }


  /** Put several items in one transaction (all or none). Not retried. Resolves with the entry paths. */
  async putAll(values: readonly (Buffer | Uint8Array)[], priority = DEFAULT_PRIORITY, options: LockingQueueCallOptions = {}): Promise<string[]> {
    return putEntries(this.entryTarget, values, priority, options);
  }


  /**
   * Lock and return the next available item, waiting up to `timeout` ms for one (`null` then).
   * While this instance holds an unconsumed item (in a live session) it returns that item again.
   */
  get(options: LockingQueueGetOptions = {}): Promise<Buffer | null> {
    return this.serialize(() => this.getItem({ deadline: deadlineOf(options.timeout), signal: options.signal }));
  }

  /**
   * Whether this instance still holds the lock of its current item: the lock node exists, has
   * our id and belongs to our session (read after a `sync`, as kazoo).
   */
  async holdsLock(options: LockingQueueCallOptions = {}): Promise<boolean> {
    const held = this.current();
    if (!held) return false;
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    const lockPath = joinPath(this.takenPath, held.name);
    try {
      await retryTransient(() => this.client.sync(lockPath, requestLimits(limits)), limits);
      const { data, stat } = await retryTransient(() => this.client.get(lockPath, requestLimits(limits)), limits);
      if (data.equals(this.idBytes) && stat.ephemeralOwner === this.client.sessionId) return true;
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
    if (this.held === held) this.held = undefined; // not ours any more
    return false;
  }

  /** Remove the held item from the queue. Resolves false when nothing is held (any more). */
  consume(options: LockingQueueCallOptions = {}): Promise<boolean> {
    return this.serialize(() => this.finish('consume', options));
  }

  /** Unlock the held item without consuming it: it is available again. False when nothing is held. */
  release(options: LockingQueueCallOptions = {}): Promise<boolean> {
    return this.serialize(() => this.finish('release', options));
  }

  /** Number of items, locked ones included (`numChildren` of `entries`). */
  get length(): Promise<number> {
    return this.size();
  }

  /** Number of items, locked ones included (`numChildren` of `entries`). */
  async size(options: LockingQueueCallOptions = {}): Promise<number> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    await this.ensure(limits);
    const stat = await retryTransient(() => this.client.exists(this.entriesPath, requestLimits(limits)), limits);
    return stat?.numChildren ?? 0;
  }

  /** The held item, if its lock still belongs to the current session. */
  private current(): Held | undefined {
    if (this.held && this.held.session !== this.client.sessionId) this.held = undefined; // the session ended
    return this.held;
  }

  private get entryTarget(): EntryTarget {
    return { client: this.client, path: this.path, dir: this.entriesPath, ensure: (limits) => this.ensure(limits) };
  }

  private async ensure(limits: WaitLimits): Promise<void> {
    if (this.pathsEnsured) return;
    for (const path of [this.takenPath, this.entriesPath]) {
      await retryTransient(() => ensureEmptyPath(this.client, path, requestLimits(limits)), limits);
    }
    this.pathsEnsured = true;
  }

  private async getItem(limits: WaitLimits): Promise<Buffer | null> {
    const held = this.current();
    if (held) return held.value;
    await this.ensure(limits);
    for (let first = true; ; first = false) {
      if (limits.signal?.aborted) throw new AbortError(limits.signal.reason, { op: 'get', path: this.path });
      if (!first && limits.deadline !== undefined && Date.now() >= limits.deadline) return null;
      const waiter = new ChangeWaiter(this.client, limits);
      try {
        try {
          const request = requestLimits(limits);
          const listing = Promise.all([
            this.client.getChildren(this.entriesPath, { watch: waiter.watch(this.entriesPath, 'children'), ...request }),
            this.client.getChildren(this.takenPath, { watch: waiter.watch(this.takenPath, 'children'), ...request }),
          ]);
          const [entries, taken] = await listing;
          const locked = new Set(taken);
          const available = entries.filter((name) => !locked.has(name)).sort();
          for (const name of available) {
            const value = await this.take(name, limits);
            if (value !== undefined) return value;
          }
        } catch (error) {
          if (error instanceof NoNodeError) {
            this.pathsEnsured = false; // the structure was deleted: create it again
            await this.ensure(limits);
            continue;
          }
          if (error instanceof TimeoutError && !isTransient(error, limits.deadline)) return null;
          if (!isTransient(error, limits.deadline)) throw error;
          await pause(limits.deadline, limits.signal);
          continue;
        }
        const reason = await waiter.wait();
        if (reason === 'abort') throw new AbortError(limits.signal?.reason, { op: 'get', path: this.path });
        if (reason === 'deadline') return null;
      } finally {
        waiter.dispose();
      }
    }
  }

  /** Lock one entry and read it; undefined when someone else has it or it is gone. */
  private async take(name: string, limits: WaitLimits): Promise<Buffer | undefined> {
    const lockPath = joinPath(this.takenPath, name);
    let session: bigint;
    try {
      await this.client.create(lockPath, this.idBytes, { ephemeral: true, ...requestLimits(limits) });
      session = this.client.sessionId;
    } catch (error) {
      if (error instanceof NodeExistsError) return undefined; // locked by someone else
      if (error instanceof SessionExpiredError) return undefined; // never sent
      if (!isOutcomeUnknown(error)) throw error;
      const owner = await this.settleLock(lockPath);
      if (owner === undefined) {
        if (error instanceof TimeoutError || error instanceof AbortError) throw error;
        return undefined;
      }
      session = owner;
    }
    // Ours: read the item (whatever the caller's limits: we hold a lock that must not be leaked).
    try {
      const { data } = await retryTransient(() => this.client.get(joinPath(this.entriesPath, name)));
      if (this.client.sessionId !== session) return undefined; // the session ended: the lock is gone
      this.held = { name, value: data, session };
      return data;
    } catch (error) {
      if (error instanceof SessionExpiredError) return undefined;
      if (!(error instanceof NoNodeError)) {
        await this.deleteLock(lockPath);
        throw error;
      }
      // Consumed by its previous holder between our listing and our lock (kazoo #366/#523).
      await this.deleteLock(lockPath);
      return undefined;
    }
  }

  /**
   * After a lock create whose reply was lost: our session, if the lock is ours (our id and our
   * session; a lock of an ended session of ours is deleted), else undefined.
   */
  private async settleLock(lockPath: string): Promise<bigint | undefined> {
    for (;;) {
      try {
        const { data, stat } = await retryTransient(() => this.client.get(lockPath));
        if (!data.equals(this.idBytes)) return undefined;
        if (stat.ephemeralOwner === this.client.sessionId) return stat.ephemeralOwner;
        await this.deleteLock(lockPath); // ours, from a session that ended on our side: free the item now
        return undefined;
      } catch (error) {
        if (error instanceof NoNodeError) return undefined; // not applied (requests of a session are handled in order)
        if (error instanceof ClientClosedError) throw error;
        if (!isTransient(error)) throw error;
      }
    }
  }

  /** Delete a lock node of ours, retrying connection loss (a leaked lock would hide the item until our session ends). */
  private async deleteLock(lockPath: string): Promise<void> {
    for (;;) {
      try {
        await this.client.delete(lockPath);
        return;
      } catch (error) {
        if (error instanceof NoNodeError || error instanceof SessionExpiredError || error instanceof ClientClosedError) return;
        if (!isTransient(error)) throw error;
        await pause(undefined, undefined);
      }
    }
  }

  /** consume (delete entry + lock) or release (delete lock) the held item. */
  private async finish(op: 'consume' | 'release', options: LockingQueueCallOptions): Promise<boolean> {
    const held = this.current();
    if (!held) return false;
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    const entryPath = joinPath(this.entriesPath, held.name);
    const lockPath = joinPath(this.takenPath, held.name);
    let uncertain = false;
    for (;;) {
      if (held.session !== this.client.sessionId) {
        // The session ended: our lock is gone. If an earlier attempt was applied, the item is gone too.
        this.held = undefined;
        if (!uncertain) return false;
        const stat = await retryTransient(() => this.client.exists(op === 'consume' ? entryPath : lockPath));
        return op === 'consume' ? stat === null : false;
      }
      try {
        const transaction = this.client.transaction();
        if (op === 'consume') transaction.delete(entryPath);
        transaction.delete(lockPath);
        // Once an attempt may have been applied, settle it whatever the caller's limits say.
        await transaction.commit(uncertain ? {} : requestLimits(limits));
        this.held = undefined;
        return true;
      } catch (error) {
        if (error instanceof TransactionError && error.error instanceof NoNodeError) {
          // Gone: deleted by our earlier attempt (only the holder deletes them), or deleted by hand.
          this.held = undefined;
          if (uncertain) return true;
          if (op === 'consume' && error.failedIndex === 0) await this.deleteLock(lockPath); // entry deleted by hand: don't leak our lock
          return false;
        }
        if (error instanceof SessionExpiredError) continue; // never sent; the loop sees the session change
        if (!isOutcomeUnknown(error)) throw error;
        uncertain = true;
        await pause(undefined, undefined);
      }
    }
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}
