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
 * `naming: 'curator'`: Curator's InterProcessReadWriteLock layout instead — writers
 * `<path>/_c_<uuid>-__WRIT__<seq>`, readers `<path>/_c_<uuid>-__READ__<seq>` (protected,
 * ephemeral-sequential; ordered by the sequence after the marker, SortingLockInternalsDriver). A
 * writer holds when its node is the first child; a reader when no `__WRIT__` node is ahead of it,
 * or at once while the `writeLock` it was given holds (Curator's write→read downgrade: take the
 * read lock, then release the write lock). As in Curator, a writer already queued behind that
 * write lock gets it when it is released, though the downgraded reader holds: downgrade only
 * where no other writer can be queued, or re-check with a fresh read lock.
 *
 * Layouts that meet: a kazoo-layout lock that finds Curator's nodes on its path, or a
 * Curator-layout one that finds kazoo's (or a Curator mutex's or latch's), rejects with
 * `RecipeMismatchError` instead of granting (see `Lock`). Curator's own read-write lock does not
 * look: a Curator writer that arrives after our kazoo-layout holder orders our node by its whole
 * name and may hold with it, so paths shared with Curator need `naming: 'curator'`.
 *
 * SUSPENDED / LOST: as `Lock` (the node life cycle is `OwnNode`'s: a node of an earlier session
 * is never adopted). Note a plain `Lock` ignores `__rlock__` nodes: use `WriteLock` next to readers.
 *
 * @example
 *   const read = new ReadLock(zk, '/locks/catalog');
 *   if (await read.acquire({ timeout: 1_000 })) try { await serve() } finally { await read.release() }
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError } from '../../client/errors.js';
import { CURATOR_READ_NAME, CURATOR_WRITE_NAME, LOCK_NAME, READ_LOCK_NAME } from './contenders.js';
import { Lock, type LockKind, type LockOptions } from './lock.js';

/** A read or write lock's options: a `Lock`'s (`naming` picks kazoo's or Curator's layout). */
export type ReadWriteLockOptions = LockOptions;

/** A read lock's options: a `Lock`'s, and the write lock it may downgrade from. */
export interface ReadLockOptions extends ReadWriteLockOptions {
  /**
   * A `WriteLock` of the same path and client: while it holds, this reader is granted at once
   * (Curator's write→read downgrade; see the class comment for its caveat).
   */
  writeLock?: WriteLock;
}

/** Curator's writer: the first child of all (StandardLockInternalsDriver with one lease). */
const CURATOR_WRITER: LockKind = {
  nodeName: CURATOR_WRITE_NAME,
  curatorName: CURATOR_WRITE_NAME,
  blockingNames: [CURATOR_WRITE_NAME, CURATOR_READ_NAME],
  maxHolders: 1,
  recipe: 'WriteLock',
};

/** Curator's reader: no `__WRIT__` node ahead (InterProcessReadWriteLock.ReadLock). */
const CURATOR_READER: LockKind = {
  nodeName: CURATOR_READ_NAME,
  curatorName: CURATOR_READ_NAME,
  blockingNames: [CURATOR_WRITE_NAME],
  maxHolders: 1,
  recipe: 'ReadLock',
};

/** A shared lock: held together with other readers, never with a writer. */
export class ReadLock extends Lock {
  constructor(client: ZooKeeperClient, path: string, options: ReadLockOptions = {}) {
    super(client, path, options, {
      nodeName: READ_LOCK_NAME,
      blockingNames: [LOCK_NAME],
      maxHolders: 1,
      recipe: 'ReadLock',
      curator: CURATOR_READER,
    });
    const { writeLock } = options;
    if (writeLock !== undefined) {
      if (!(writeLock instanceof WriteLock) || writeLock.path !== path || writeLock.client !== client)
        throw new InvalidArgumentError('writeLock must be a WriteLock of the same path and client', {
          op: 'ReadLock',
          path,
        });
      this.downgradeFrom = writeLock;
    }
  }
}

/** An exclusive lock: excludes readers, writers and `Lock`s of the same path (in its layout). */
export class WriteLock extends Lock {
  constructor(client: ZooKeeperClient, path: string, options: ReadWriteLockOptions = {}) {
    super(client, path, options, {
      nodeName: LOCK_NAME,
      blockingNames: [LOCK_NAME, READ_LOCK_NAME],
      maxHolders: 1,
      recipe: 'WriteLock',
      curator: CURATOR_WRITER,
    });
  }
}
