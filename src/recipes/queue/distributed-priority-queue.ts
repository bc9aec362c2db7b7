import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError } from '../../client/errors.js';
import {
  CuratorQueue,
  type DistributedQueueCallOptions,
  type DistributedQueueOptions,
} from './curator-queue.js';

/**
 * Curator's priority in a node name (`DistributedPriorityQueue.priorityToString`): `1` for
 * priority >= 0, `0` below, then the int32's two's-complement as 8 upper-case hex digits, so
 * that plain string order is numeric order.
 *
 * @example
 *   priorityToString(5);  // '100000005'
 *   priorityToString(-1); // '0FFFFFFFF'
 */
export function priorityToString(priority: number): string {
  if (!Number.isInteger(priority) || priority < -(2 ** 31) || priority >= 2 ** 31)
    throw new InvalidArgumentError(`priority must be an int32, got ${String(priority)}`, { op: 'put' });
  return `${priority >= 0 ? '1' : '0'}${(priority >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/**
 * DistributedPriorityQueue: wire-compatible with Curator's `DistributedPriorityQueue`: a
 * DistributedQueue whose items carry a priority (an int32; lower is served first).
 *
 * Znode layout (Curator 5.4): as DistributedQueue, with the priority in the name:
 * `<path>/queue-<P><8 hex><seq>` (`priorityToString`: `1`/`0` for the sign, then the int32 in
 * hex), so plain name order is priority, then insertion. Locks, markers, delivery, SUSPENDED
 * and LOST: as DistributedQueue. A consumer lists the queue again before each item (Curator's
 * `minItemsBeforeRefresh` 0 with refresh on watch), so a better priority put meanwhile comes first.
 *
 * @example
 *   const queue = new DistributedPriorityQueue(zk, '/jobs');
 *   await queue.put(Buffer.from('later'), 10);
 *   await queue.put(Buffer.from('urgent'), -5);
 *   await queue.take(); // <Buffer 'urgent'>
 */
export class DistributedPriorityQueue<T = Buffer> extends CuratorQueue<T> {
  constructor(client: ZooKeeperClient, path: string, options: DistributedQueueOptions<T> = {}) {
    super(client, path, 'DistributedPriorityQueue', { prefix: 'queue-' }, options);
  }

  /**
   * Add one item with `priority` (int32, lower first); resolves with its node's path (`null`: see `maxItems`). Not retried.
   *
   * @example
   *   await queue.put(Buffer.from('job'), 1);
   */
  async put(item: T, priority: number, options: DistributedQueueCallOptions = {}): Promise<string | null> {
    return this.putNode(priorityToString(priority), [item], options, false);
  }

  /**
   * Add several items with one priority as one node (Curator's `putMulti`). Not retried.
   *
   * @example
   *   await queue.putMulti([Buffer.from('a'), Buffer.from('b')], 0);
   */
  async putMulti(
    items: readonly T[],
    priority: number,
    options: DistributedQueueCallOptions = {},
  ): Promise<string | null> {
    return this.putNode(priorityToString(priority), items, options, true);
  }
}
