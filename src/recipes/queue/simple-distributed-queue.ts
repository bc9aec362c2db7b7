import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError } from '../../client/errors.js';
import { deadlineOf, type WaitLimits } from '../change-waiter.js';
import { publishTaken } from './queue.js';
import { QueueCore } from './queue-core.js';

/** Options of `new SimpleDistributedQueue(...)`. */
export interface SimpleDistributedQueueOptions {
  /** Where the take markers go (see the class docs). Default: the queue's path. */
  markerPath?: string;
}

/** Per-call options of a SimpleDistributedQueue: timeout and signal. */
export interface SimpleQueueCallOptions {
  /** `take`: give up after this many ms and resolve `null`; other calls: `TimeoutError`. */
  timeout?: number;
  /** Abort the call (`AbortError`). */
  signal?: AbortSignal;
}

/**
 * SimpleDistributedQueue: a FIFO of byte strings, wire-compatible with Curator's
 * `SimpleDistributedQueue` (and so with ZooKeeper's own recipe `DistributedQueue`, whose
 * naming it shares). Each item is taken by exactly one consumer.
 *
 * Znode layout (Curator 5.4): `<path>` a container with container parents, created when missing
 * (Curator's `EnsureContainers`: the server removes the emptied queue; the next call makes it);
 * items `<path>/qn-<seq>`, persistent sequential, data = the item's bytes. Order = plain
 * string order of the names. Children without the `qn-` prefix are skipped.
 *
 * Taking (Curator's algorithm): list, read the first item, delete it; if another consumer
 * deleted it first, try the next. Our delete goes in one transaction with an ephemeral attempt
 * marker `<markerPath>/__take_op__<32 hex>` (deleted once settled), so a delete whose reply
 * was lost is proven (Curator treats the retry's NoNode as "another client removed it" and
 * drops the item): an item is never returned to two consumers and never lost.
 *
 * SUSPENDED: calls wait for the reconnect; a waiting `take()` re-checks after it. A take whose
 * delete reply was lost is settled after the reconnect, whatever its timeout or signal.
 * LOST: no ephemeral state (but a marker); calls continue in the new session. A take whose
 * reply was lost as the session ended, on an item gone since, rejects with
 * `OutcomeUnknownError` (it may have been ours or another consumer's). `offer()` is not retried
 * (Curator neither): on `ConnectionLossError` the item may or may not be enqueued.
 *
 * @example
 *   const queue = new SimpleDistributedQueue(zk, '/jobs');
 *   await queue.offer(Buffer.from('resize 42.jpg'));
 *   const job = await queue.take({ timeout: 30_000 }); // <Buffer ...>, or null after 30 s
 */
export class SimpleDistributedQueue {
  private readonly core: QueueCore;
  /** Takes run one at a time per instance. */
  private taking: Promise<unknown> = Promise.resolve();

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: SimpleDistributedQueueOptions = {},
  ) {
    this.core = new QueueCore(client, path, 'SimpleDistributedQueue', { prefix: 'qn-' }, options, 'all');
  }

  /** The queue's path. */
  get path(): string {
    return this.core.path;
  }

  /**
   * Insert an item (Curator's `offer`); resolves with its node's path. Not retried.
   *
   * @example
   *   await queue.offer(Buffer.from('hello'));
   */
  async offer(data: Buffer | Uint8Array, options: SimpleQueueCallOptions = {}): Promise<string> {
    if (!(data instanceof Uint8Array))
      throw new InvalidArgumentError('an item must be a Buffer or Uint8Array', {
        op: 'offer',
        path: this.path,
      });
    return this.core.put('', Buffer.from(data.buffer, data.byteOffset, data.length), limitsOf(options));
  }

  /**
   * Remove and return the head, waiting for one up to `timeout` ms (`null` then; default:
   * forever), as Curator's `take()` / `poll(timeout, unit)`.
   *
   * @example
   *   const next = await queue.take({ timeout: 5_000 });
   */
  take(options: SimpleQueueCallOptions = {}): Promise<Buffer | null> {
    return this.serialized(limitsOf(options), true);
  }

  /**
   * Remove and return the head, or `null` when the queue is empty (never waits).
   *
   * @example
   *   const next = await queue.poll(); // null when empty
   */
  poll(options: SimpleQueueCallOptions = {}): Promise<Buffer | null> {
    return this.serialized(limitsOf(options), false);
  }

  /**
   * The head's data without removing it, or `null` when the queue is empty.
   *
   * @example
   *   const head = await queue.peek();
   */
  async peek(options: SimpleQueueCallOptions = {}): Promise<Buffer | null> {
    const claimed = await this.core.claim(limitsOf(options), { remove: false, wait: false });
    return claimed?.data ?? null;
  }

  private serialized(limits: WaitLimits, wait: boolean): Promise<Buffer | null> {
    const run = this.taking.then(async () => {
      const claimed = await this.core.claim(limits, { remove: true, wait });
      if (!claimed) return null;
      publishTaken('SimpleDistributedQueue', this.path, claimed.name);
      return claimed.data;
    });
    this.taking = run.catch(() => {});
    return run;
  }
}

function limitsOf(options: SimpleQueueCallOptions): WaitLimits {
  return { deadline: deadlineOf(options.timeout), signal: options.signal };
}
