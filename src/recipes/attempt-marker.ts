/**
 * Per-attempt marker nodes: the proof that a write whose reply was lost was applied. A recipe
 * adds `create(<dir>/<prefix><32 hex>, ephemeral)` to the write's transaction, so the marker
 * exists iff the attempt was applied (ZooKeeper's multi is atomic: "either all of them succeed
 * or none of them", ZooKeeper.multi javadoc). Counter and LockingQueue use it; once an attempt
 * is settled its marker is deleted here.
 */
import { randomUUID } from 'node:crypto';
import type { ZooKeeperClient } from '../client/client.js';
import { joinPath } from '../client/paths.js';
import { untilSessionEnds } from '../client/retry.js';

/** A fresh marker path under `dir`: unique per attempt. */
export function markerPath(dir: string, prefix: string): string {
  return joinPath(dir, `${prefix}${randomUUID().replaceAll('-', '')}`);
}

/**
 * Delete a settled attempt's marker in the background, until it is gone or its session is
 * (`untilSessionEnds`: it is ephemeral, so it cannot outlive the session that created it).
 */
export function removeMarker(client: ZooKeeperClient, marker: string): void {
  untilSessionEnds(() => client.delete(marker)).catch((error: unknown) =>
    client.logger.warn(`could not delete marker ${marker}: ${String(error)}`),
  );
}
