import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError } from '../../client/errors.js';
import {
  CuratorQueue,
  type DistributedQueueCallOptions,
  type DistributedQueueOptions,
} from './curator-queue.js';

/**
 * Curator's due time in a node name (`DistributedDelayQueue.epochToString`): `|`, the epoch
 * milliseconds as upper-case hex (at least 8 digits), `|`.
 *
 * @example
 *   epochToString(0x1234); // '|00001234|'
 */
export function epochToString(epoch: number): string {
  return `|${epoch.toString(16).toUpperCase().padStart(8, '0')}|`;
}

/** The due time in a node name (Curator's `getEpoch`): the hex between the last two `|`, else 0. */
function epochOf(name: string): number {
  const last = name.lastIndexOf('|');
  const first = last > 0 ? name.lastIndexOf('|', last - 1) : -1;
  if (first <= 0 || last <= first + 1) return 0;
  const hex = name.slice(first + 1, last);
  return /^[0-9a-fA-F]+$/.test(hex) ? parseInt(hex, 16) : 0;
}

/**
 * DistributedDelayQueue: wire-compatible with Curator's `DistributedDelayQueue`: a
 * DistributedQueue whose items become available at a given time.
 *
 * Znode layout (Curator 5.4): as DistributedQueue, with the due time in the name:
 * `<path>/queue-|<epoch ms, hex>|<seq>` (`epochToString`). Items are served in due-time order
 * (then by name); one not due yet is not taken, and a waiting consumer wakes when the first
 * becomes due. Due times are compared with this machine's clock, as Curator compares with its
 * own: keep the fleet's clocks in sync. Locks, markers, delivery, SUSPENDED and LOST: as
 * DistributedQueue.
 *
 * @example
 *   const queue = new DistributedDelayQueue(zk, '/reminders');
 *   await queue.put(Buffer.from('ping'), Date.now() + 60_000); // taken a minute from now
 */
export class DistributedDelayQueue<T = Buffer> extends CuratorQueue<T> {
  constructor(client: ZooKeeperClient, path: string, options: DistributedQueueOptions<T> = {}) {
    super(
      client,
      path,
      'DistributedDelayQueue',
      {
        prefix: 'queue-',
        order: (names) =>
          names
            .map((name) => ({ name, epoch: epochOf(name) }))
            .sort((a, b) => a.epoch - b.epoch || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
            .map(({ name }) => name),
        delay: (name, now) => epochOf(name) - now,
      },
      options,
    );
  }

  /**
   * Add one item, available from `delayUntil` (epoch ms or a Date); resolves with its node's
   * path (`null`: see `maxItems`). Not retried.
   *
   * @example
   *   await queue.put(Buffer.from('job'), Date.now() + 5_000);
   */
  async put(
    item: T,
    delayUntil: number | Date,
    options: DistributedQueueCallOptions = {},
  ): Promise<string | null> {
    return this.putNode(dueName(delayUntil), [item], options, false);
  }

  /**
   * Add several items with one due time as one node (Curator's `putMulti`). Not retried.
   *
   * @example
   *   await queue.putMulti([Buffer.from('a'), Buffer.from('b')], new Date(Date.now() + 1_000));
   */
  async putMulti(
    items: readonly T[],
    delayUntil: number | Date,
    options: DistributedQueueCallOptions = {},
  ): Promise<string | null> {
    return this.putNode(dueName(delayUntil), items, options, true);
  }
}

function dueName(delayUntil: number | Date): string {
  const epoch = delayUntil instanceof Date ? delayUntil.getTime() : delayUntil;
  if (!Number.isSafeInteger(epoch) || epoch <= 0)
    throw new InvalidArgumentError(
      `delayUntil must be a positive epoch in ms or a Date, got ${String(delayUntil)}`,
      {
        op: 'put',
      },
    );
  return epochToString(epoch);
}
