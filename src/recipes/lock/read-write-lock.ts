/**
 * ReadLock / WriteLock: a shared lock on one path, wire-compatible with kazoo's. Readers share;
 * a writer excludes readers and writers; FIFO, so a reader queued behind a writer waits for it.
 *
 * Znode layout: writers create `<path>/<32hex>__lock__<seq>` (the same nodes as `Lock`, so a
 * `Lock` and a `WriteLock` on one path exclude each other), readers `<path>/<32hex>__rlock__<seq>`;
 * ephemeral + sequential, data = identifier. One sequence counter orders both kinds.
 *
 * A reader waits only for the nearest *writer* ahead of it (kazoo ≥ 2.9 semantics). kazoo 2.8
 * readers instead watch the newest writer in the whole directory, which deadlocks a reader with
 * a writer queued after it (kazoo #649) until one of them times out. Next to 2.8 peers our
 * readers and writers stay correct (never two writers, never a reader with a writer); a 2.8
 * reader may still stall as described, which only its own timeout ends.
 *
 * Only kazoo's layout: neither lock accepts `naming` (a Curator-named writer, `_c_…-lock-`,
 * would be invisible to our readers; Curator's own read/write locks use `__READ__`/`__WRIT__`,
 * which we do not speak yet). The type omits it, and a JS caller passing it gets
 * `InvalidArgumentError`. So a reader is blocked by every node a `WriteLock` can create.
 *
 * SUSPENDED / LOST: as `Lock` (the node life cycle is `OwnNode`'s: a node of an earlier session
 * is never adopted). Note a plain `Lock` ignores `__rlock__` nodes: use `WriteLock` next to readers.
 *
 * @example
 *   const read = new ReadLock(zk, '/locks/catalog');
 *   if (await read.acquire({ timeout: 1_000 })) try { await serve() } finally { await read.release() }
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { LOCK_NAME, READ_LOCK_NAME } from './contenders.js';
import { Lock, type LockOptions } from './lock.js';

/** A read or write lock's options: a `Lock`'s, without `naming` (only kazoo's layout). */
export type ReadWriteLockOptions = Omit<LockOptions, 'naming'>;

/** A shared lock: held together with other readers, never with a writer. */
export class ReadLock extends Lock {
  constructor(client: ZooKeeperClient, path: string, options: ReadWriteLockOptions = {}) {
    super(client, path, options, {
      nodeName: READ_LOCK_NAME,
      blockingNames: [LOCK_NAME],
      maxHolders: 1,
      recipe: 'ReadLock',
    });
  }
}

/** An exclusive lock: excludes readers, writers and `Lock`s of the same path. */
export class WriteLock extends Lock {
  constructor(client: ZooKeeperClient, path: string, options: ReadWriteLockOptions = {}) {
    super(client, path, options, {
      nodeName: LOCK_NAME,
      blockingNames: [LOCK_NAME, READ_LOCK_NAME],
      maxHolders: 1,
      recipe: 'WriteLock',
    });
  }
}
