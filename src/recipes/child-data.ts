/**
 * The data of a recipe's member nodes, as their identifiers: kazoo's `Lock.contenders()`,
 * `Semaphore.lease_holders()` and `Party`'s iteration, and Curator's `getParticipantNodes`, each
 * read every listed child's data as text. A child that went between the listing and its read is
 * skipped, not an error.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { NoNodeError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';

/**
 * The UTF-8 data of each of `names` under `dir`, in the order given, without the children
 * deleted meanwhile. `get` reads one node (default: a plain `client.get`; a caller with limits
 * passes its own).
 */
export async function childrenData(
  client: ZooKeeperClient,
  dir: string,
  names: readonly string[],
  get: (path: string) => Promise<{ data: Buffer }> = (path) => client.get(path),
): Promise<string[]> {
  const data = await Promise.all(
    names.map((name) =>
      get(joinPath(dir, name)).then(
        ({ data }) => data.toString('utf8'),
        (error: unknown) => {
          if (error instanceof NoNodeError) return undefined; // left meanwhile
          throw error;
        },
      ),
    ),
  );
  return data.filter((text): text is string => text !== undefined);
}
