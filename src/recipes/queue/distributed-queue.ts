import type { ZooKeeperClient } from '../../client/client.js';
import {
  CuratorQueue,
  type DistributedQueueCallOptions,
  type DistributedQueueOptions,
} from './curator-queue.js';

/**
 * DistributedQueue: a FIFO of items, wire-compatible with Curator's `DistributedQueue` (built by
 * its `QueueBuilder`). Items are consumed by a `consumer` the queue calls (after `start()`), or
 * taken with `take()`.
 *
 * Znode layout (Curator 5.4): `<path>` persistent, its missing parents containers (created by
 * `start()` or the first call, as Curator's `creatingParentContainersIfNeeded`; `lockPath` too);
 * items `<path>/queue-<seq>`, persistent sequential, data = Curator's multi-item format
 * (int32 0x00010001, per item `0x01` + int32 length + bytes, then `0x02`; `put` writes one item
 * per node, `putMulti` several). Items are served in name order. With `lockPath` (Curator's
 * guaranteed-delivery mode), an item is locked by the ephemeral `<lockPath>/<item name>` while
 * it is processed and deleted after the consumer returns.
 *
 * Delivery: without `lockPath` an item is deleted and then handed over, so a consumer that dies
 * while processing loses it (Curator's semantics); with `lockPath` a consumer that dies loses its
 * lock with its session and the item is delivered again (to a live consumer, never to two).
 * Deletes go in one transaction with an attempt marker (`markerPath`), so a delete whose reply
 * was lost is proven: never delivered to two live consumers, never dropped (Curator drops it).
 *
 * Bounded (`maxItems`, Curator's builder option): a put waits while the queue holds that many
 * items or more, and resolves `null` after its timeout; `puts()` reports this instance's
 * completed puts, `flushPuts()` waits for those in flight (and `close()`, up to `finalFlushTime`).
 *
 * SUSPENDED: calls and the consumer loop wait for the reconnect; a lost reply is settled after
 * it. A locked item's consumer keeps running (the lock survives if the session does). A put
 * waiting for room waits for the reconnect, and goes on in the new session after LOST.
 * LOST: with `lockPath`, the lock went with the session: the consumer's `signal` aborts, and
 * the item is removed afterwards only if we can lock it again (else `onError` gets
 * `LockLostError`: another consumer has it, and it may be processed twice); a `take()` whose
 * lock went before its delete was applied moves on to the next item if another consumer
 * locked it meanwhile. A take whose reply
 * was lost as the session ended, on an item gone since, reports `OutcomeUnknownError`. Puts are
 * not retried (Curator neither): on `ConnectionLossError` the item may or may not be enqueued.
 *
 * @example
 *   const queue = new DistributedQueue<string>(zk, '/jobs', {
 *     lockPath: '/jobs-locks',
 *     encode: (text) => Buffer.from(text),
 *     decode: (bytes) => bytes.toString(),
 *     consumer: async (job) => runJob(job),
 *   });
 *   await queue.start();
 *   await queue.put('resize 42.jpg');
 *   // ... later
 *   await queue.close();
 */
export class DistributedQueue<T = Buffer> extends CuratorQueue<T> {
  constructor(client: ZooKeeperClient, path: string, options: DistributedQueueOptions<T> = {}) {
    super(client, path, 'DistributedQueue', { prefix: 'queue-' }, options);
  }

  /**
   * Add one item; resolves with its node's path (`null`: see `maxItems`). Not retried.
   *
   * @example
   *   await queue.put(Buffer.from('job'));
   */
  put(item: T, options: DistributedQueueCallOptions = {}): Promise<string | null> {
    return this.putNode('', [item], options, false);
  }

  /**
   * Add several items as one node (Curator's `putMulti`): consumers get them in order, and
   * they are taken together. Resolves with the node's path (`null`: see `maxItems`). Not retried.
   *
   * @example
   *   await queue.putMulti([Buffer.from('a'), Buffer.from('b')]);
   */
  putMulti(items: readonly T[], options: DistributedQueueCallOptions = {}): Promise<string | null> {
    return this.putNode('', items, options, true);
  }
}
