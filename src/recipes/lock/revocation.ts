/**
 * Lock revocation as Curator does it (`locks/Revoker.java`, `LockInternals`): a requester sets
 * the data of a lock node to `__REVOKE__`; an instance that made its lock revocable watches its
 * own node's data from its creation (a waiter as well as a holder, as `LockInternals.
 * internalLockLoop` does) and, on seeing that message, calls its listener. Revocation is
 * cooperative: the listener decides whether and when to release.
 */
import type { RequestOptions, ZooKeeperClient } from '../../client/client.js';
import { NoNodeError } from '../../client/errors.js';
import { untilSessionEnds } from '../../client/retry.js';
import { EventType, type WatchEvent } from '../../client/states.js';

/** Curator's revoke message (`LockInternals.REVOKE_MESSAGE`): the bytes of `__REVOKE__`. */
export const REVOKE_MESSAGE = Buffer.from('__REVOKE__', 'ascii');

/**
 * Ask the holder of lock node `nodePath` to release it (Curator's `Revoker.attemptRevoke`):
 * sets its data to `__REVOKE__`; a node that is gone is ignored.
 *
 * @example
 *   const [holder] = await zk.getChildren('/locks/report'); // sorted by sequence by you
 *   await attemptRevoke(zk, `/locks/report/${holder}`);
 */
export async function attemptRevoke(
  client: ZooKeeperClient,
  nodePath: string,
  options: RequestOptions = {},
): Promise<void> {
  try {
    await client.set(nodePath, REVOKE_MESSAGE, options);
  } catch (error) {
    if (!(error instanceof NoNodeError)) throw error;
  }
}

/**
 * Watch our lock node `node` for the revoke message and call `onRevoke` each time it is found
 * (at once if it is already there). Read through connection loss while the node's session
 * lasts; ends when the node is gone or `stop` (the returned function) is called. A read still
 * in flight when stopped has its watch removed when it lands, so none is left behind.
 */
export function watchRevocation(client: ZooKeeperClient, node: string, onRevoke: () => void): () => void {
  let stopped = false;
  const listener = (event: WatchEvent) => {
    if (event.type === EventType.NodeDataChanged) check();
  };
  const unwatch = () => {
    client.removeWatches(node, 'data', listener).catch(() => {}); // none left: nothing to remove
  };
  const check = () => {
    if (stopped) return;
    untilSessionEnds(() => client.get(node, { watch: listener })).then(
      (read) => {
        if (stopped) unwatch();
        else if (read?.data.equals(REVOKE_MESSAGE)) onRevoke();
      },
      (error: unknown) => client.logger.warn(`revocation watch on ${node}: ${String(error)}`),
    );
  };
  check();
  return () => {
    stopped = true;
    unwatch();
  };
}
