/**
 * Taking a queue node exactly once, for the Curator queues (SimpleDistributedQueue,
 * DistributedQueue and its priority and delay variants): the node is deleted in a transaction
 * that also creates an attempt marker (`attempt-marker.ts`) in a directory the queue's
 * readers never list, so a delete whose reply was lost is proven: applied → the node is ours;
 * not applied → delete again (someone else's delete → not ours). Curator itself retries the
 * delete and treats NoNode as "another process got it", so a lost reply loses the item there.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import {
  BadVersionError,
  NoNodeError,
  SessionExpiredError,
  type ZooKeeperError,
} from '../../client/errors.js';
import { isOutcomeUnknown, withinDeadline } from '../../client/retry.js';
import { type Transaction, TransactionError } from '../../client/transaction.js';
import { fenceAttempt, markerPath, removeMarker } from '../attempt-marker.js';
import { OutcomeUnknownError } from '../errors.js';

/** Prefix of the per-attempt markers of a take (under the queue's marker directory). */
export const TAKE_MARKER_PREFIX = '__take_op__';

/** Where and as whom a queue takes its nodes. */
export interface TakeTarget {
  client: ZooKeeperClient;
  /** The queue's path, for errors. */
  path: string;
  /** The directory of the attempt markers. */
  markerDir: string;
  /** Data of our markers (the instance's id): anything but `FENCE`. */
  id: Buffer;
  /** Create the marker directory again (found missing: e.g. a container the server reaped). */
  ensureMarkerDir(): Promise<void>;
}

/**
 * Delete `node` (at `version`, -1: any) plus whatever `more` adds to the same transaction.
 * Resolves true when our transaction was applied, false when the node was gone (or changed)
 * first — taken by someone else. A lost reply is settled whatever the session's fate, or
 * rejected with `OutcomeUnknownError` when only an ended session could tell (the node is gone
 * and our marker went with that session). Not bounded by a caller's limits: once the delete
 * may have been sent, the item may be ours and must not be dropped unsettled.
 *
 * `lockedIn`: the session of the caller's lock on the node (a Curator `lockPath` lock). The
 * delete is sent only in that session: once it ended, another consumer may hold the node
 * (our lock went with the session), so instead of sending it again in a new one this resolves
 * `'lockLost'` — never applied (never sent, or proven not applied by the fence).
 */
export async function takeNode(
  target: TakeTarget,
  node: string,
  version: number,
  more?: (transaction: Transaction) => void,
  lockedIn?: bigint,
): Promise<boolean | 'lockLost'> {
  const { client } = target;
  for (;;) {
    const session = client.sessionId;
    if (lockedIn !== undefined && session !== lockedIn) return 'lockLost';
    const marker = markerPath(target.markerDir, TAKE_MARKER_PREFIX);
    try {
      const transaction = client.transaction().delete(node, { version });
      more?.(transaction);
      await transaction.create(marker, target.id, { ephemeral: true }).commit();
      removeMarker(client, marker);
      return true;
    } catch (error) {
      if (error instanceof TransactionError && error.failedIndex === 0 && gone(error.error)) return false;
      if (
        error instanceof TransactionError &&
        error.failedIndex === error.results.length - 1 &&
        error.error instanceof NoNodeError
      ) {
        // The marker's directory is gone (nothing was applied: a multi is all or none): make it, try again.
        await target.ensureMarkerDir();
        continue;
      }
      if (error instanceof SessionExpiredError) continue; // never sent
      if (!isOutcomeUnknown(error)) throw error;
    }
    const unknown = (cause?: unknown) =>
      new OutcomeUnknownError(
        { op: 'take', path: node, cause },
        'the take of a queue item was sent and its reply lost, and the session that could prove it ended: the item may have been taken by this call or by another consumer',
      );
    let fence: Awaited<ReturnType<typeof fenceAttempt>>;
    try {
      fence = await withinDeadline(() => fenceAttempt(client, marker));
    } catch (error) {
      throw unknown(error); // the client closed
    }
    if (fence.applied) return true;
    if (fence.fencedIn === session) continue; // not applied: delete again
    // Fenced in a later session: the attempt cannot apply any more, so a node still there proves it did not.
    const stat = await withinDeadline(() => client.exists(node)).catch((error: unknown) => {
      throw unknown(error);
    });
    if (stat === null) throw unknown();
  }
}

function gone(error: ZooKeeperError): boolean {
  return error instanceof NoNodeError || error instanceof BadVersionError;
}
