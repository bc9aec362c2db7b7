/**
 * Per-attempt marker nodes: the proof that a write whose reply was lost was applied. A recipe
 * adds `create(<dir>/<prefix><32 hex>, ephemeral)` to the write's transaction, so the marker
 * exists iff the attempt was applied (ZooKeeper's multi is atomic: "either all of them succeed
 * or none of them", ZooKeeper.multi javadoc). Counter, LockingQueue and the Curator queues use it; once an attempt
 * is settled its marker is deleted here.
 */
import { randomUUID } from 'node:crypto';
import type { RequestOptions, ZooKeeperClient } from '../client/client.js';
import { NodeExistsError, NoNodeError } from '../client/errors.js';
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

/** The data of a marker created to settle a lost attempt (an attempt's own marker holds other data). */
export const FENCE = Buffer.from('fence', 'ascii');

/**
 * Settle a lost attempt by its marker: create the marker ourselves (ephemeral, data `FENCE`),
 * so the attempt can never apply after this (its create would fail), then: the marker exists
 * with other data → the attempt created it: `applied` (its marker is deleted). Otherwise the
 * fence's session is returned: the attempt was not applied if that is the attempt's session
 * (its marker, ephemeral, would still exist); in a later session the attempt's marker may
 * have gone with its session, which the caller settles by other means. `marker`'s parent
 * missing also fences (the attempt's transaction creates the marker there, so it cannot apply)
 * and proves nothing more. The fence is left to its session: deleting it would let the lost
 * attempt apply later. Not retried.
 */
export async function fenceAttempt(
  client: ZooKeeperClient,
  marker: string,
  options: RequestOptions = {},
): Promise<{ applied: true } | { applied: false; fencedIn: bigint }> {
  for (;;) {
    try {
      await client.create(marker, FENCE, { ephemeral: true, ...options });
      return { applied: false, fencedIn: client.sessionId };
    } catch (error) {
      if (error instanceof NoNodeError) return { applied: false, fencedIn: client.sessionId };
      if (!(error instanceof NodeExistsError)) throw error;
    }
    try {
      const { data, stat } = await client.get(marker, options);
      if (data.equals(FENCE)) return { applied: false, fencedIn: stat.ephemeralOwner };
      removeMarker(client, marker);
      return { applied: true };
    } catch (error) {
      // Between our create and get the marker went with its session: fence again.
      if (!(error instanceof NoNodeError)) throw error;
    }
  }
}
