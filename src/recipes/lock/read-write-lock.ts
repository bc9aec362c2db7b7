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
 * SUSPENDED / LOST: as `Lock`. Note a plain `Lock` ignores `__rlock__` nodes: use `WriteLock`
 * next to readers.
 *
 * @example
 *   const read = new ReadLock(zk, '/locks/catalog');
 *   if (await read.acquire({ timeout: 1_000 })) try { await serve() } finally { await read.release() }
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { LOCK_NAME, READ_LOCK_NAME } from './contenders.js';
import { Lock, type LockOptions } from './lock.js';

export class ReadLock extends Lock {
  constructor(client: ZooKeeperClient, path: string, options: LockOptions = {}) {
    super(client, path, options, { nodeName: READ_LOCK_NAME, blockingNames: [LOCK_NAME], maxHolders: 1 });
  }
}

export class WriteLock extends Lock {
  constructor(client: ZooKeeperClient, path: string, options: LockOptions = {}) {
    super(client, path, options, { nodeName: LOCK_NAME, blockingNames: [LOCK_NAME, READ_LOCK_NAME], maxHolders: 1 });
  }
}
