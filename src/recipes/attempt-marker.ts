/**
 * Per-attempt marker nodes: the proof that a write whose reply was lost was applied. A recipe
 * adds `create(<dir>/<prefix><32 hex>, ephemeral)` to the write's transaction, so the marker
 * exists iff the attempt was applied (ZooKeeper's multi is atomic: "either all of them succeed
 * or none of them", ZooKeeper.multi javadoc). Counter and LockingQueue use it; once an attempt
 * is settled its marker is deleted here.
 */
import { randomUUID } from 'node:crypto';
import type { ZooKeeperClient } from '../client/client.js';
import { SessionExpiredError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import { isTransient, pause } from './change-waiter.js';

/** A fresh marker path under `dir`: unique per attempt. */
export function markerPath(dir: string, prefix: string): string {
  return joinPath(dir, `${prefix}${randomUUID().replaceAll('-', '')}`);
}

/**
 * Delete a settled attempt's marker in the background. It is ephemeral, so giving up (after a
 * bounded number of tries, or when its session ended) only delays its removal to the end of the
 * session that created it.
 */
export function removeMarker(client: ZooKeeperClient, marker: string): void {
  void (async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await client.delete(marker);
        return;
      } catch (error) {
        if (!isTransient(error) || error instanceof SessionExpiredError) return;
        await pause(undefined, undefined, 100);
      }
    }
  })();
}
