/**
 * What DistributedQueue, DistributedPriorityQueue and DistributedDelayQueue share (Curator's
 * priority and delay queues wrap its DistributedQueue the same way): the item codec (Curator's
 * multi-item format, `item-serializer.ts`, around the user's encode/decode), puts, `take()`,
 * and the consumer loop of `start()`. Names and order come from the `QueueShape` each passes.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { ClientClosedError, InvalidArgumentError, TimeoutError } from '../../client/errors.js';
import { joinPath } from '../../client/paths.js';
import { settledWithin, sleep } from '../../client/retry.js';
import { ConnectionState } from '../../client/states.js';
import { deadlineOf, type WaitLimits } from '../change-waiter.js';
import { LockLostError, RecipeStateError } from '../errors.js';
import { Listeners } from '../listeners.js';
import { deserializeItems, serializeItems } from './item-serializer.js';
import { publishTaken } from './queue.js';
import { QueueCore, type Claimed, type CoreOptions, type QueueShape } from './queue-core.js';

/** Options of the Curator DistributedQueues (`new DistributedQueue(client, path, options)`). */
export interface DistributedQueueOptions<T> extends CoreOptions {
  /**
   * Called with each item, in order, by the loop `start()` runs (Curator's `QueueConsumer`).
   * Without a lock directory the item is already removed when it is called; with one, the
   * item is removed once it returns (see `errorMode` for a throw). `signal` aborts on `close()`,
   * and with a lock directory when the session is lost (the lock is gone then).
   */
  consumer?: (item: T, context: { signal: AbortSignal }) => unknown;
  /** An item to bytes (Curator's `QueueSerializer.serialize`). Default: the item is a Buffer. */
  encode?: (item: T) => Buffer | Uint8Array;
  /** Bytes to an item (Curator's `QueueSerializer.deserialize`). Default: the Buffer itself. */
  decode?: (bytes: Buffer) => T;
  /**
   * With a lock directory, what a consumer's throw does (Curator's `ErrorMode`): `'requeue'`
   * (default) puts the node back as a new item with the same priority or due time; `'delete'`
   * removes it.
   */
  errorMode?: 'requeue' | 'delete';
  /** Errors of the consumer loop (a consumer's throw, a corrupt item, ...). Default: logged as warnings. */
  onError?: (error: unknown) => void;
  /**
   * Bound the queue (Curator's `QueueBuilder.maxItems`): a put waits while the queue holds
   * `maxItems` items or more, and resolves `null` (nothing put) when its `timeout` passes first
   * (Curator's `put(item, maxWait, unit)` returning false). Approximate, as in Curator: puts
   * racing from several producers may overshoot it. A positive integer; default: unbounded.
   *
   * @example
   *   const queue = new DistributedQueue(zk, '/jobs', { maxItems: 1000 });
   *   if ((await queue.put(job, { timeout: 5_000 })) === null) shedLoad();
   */
  maxItems?: number;
  /**
   * How long `close()` waits for this instance's puts in flight (Curator's `finalFlushTime`,
   * `flushPuts` on close), in ms. Default 5000 (Curator's); 0: do not wait.
   *
   * @example
   *   new DistributedQueue(zk, '/jobs', { finalFlushTime: 1_000 });
   */
  finalFlushTime?: number;
}

/**
 * A put of this instance that completed (Curator's `QueuePutListener.putCompleted` /
 * `putMultiCompleted`): its items and their node.
 */
export interface QueuePut<T> {
  /** The items as given to `put` (one) or `putMulti` (several). */
  items: readonly T[];
  /** True for a `putMulti`. */
  multi: boolean;
  /** The node they went in. */
  path: string;
}

/** Per-call options of the Curator DistributedQueues: timeout and signal. */
export interface DistributedQueueCallOptions {
  /**
   * `take`: give up after this many ms and resolve `null`. A put: `TimeoutError` (its create
   * may or may not have landed), or with `maxItems`, `null` when the queue was still full.
   */
  timeout?: number;
  /** Abort the call (`AbortError`). */
  signal?: AbortSignal;
}

/**
 * Everything of a Curator DistributedQueue but its `put` signatures: the base class of
 * DistributedQueue, DistributedPriorityQueue and DistributedDelayQueue.
 *
 * @example
 *   const queue: CuratorQueue<Buffer> = new DistributedQueue(zk, '/jobs');
 *   const item = await queue.take({ timeout: 1000 });
 */
export abstract class CuratorQueue<T> implements AsyncDisposable {
  /** @internal */
  protected readonly core: QueueCore;
  private readonly encode: (item: T) => Buffer | Uint8Array;
  private readonly decode: (bytes: Buffer) => T;
  /** Items of a multi-item node taken by `take()` and not returned yet. */
  private readonly buffered: T[] = [];
  private taking: Promise<unknown> = Promise.resolve();
  private running: { controller: AbortController; loop: Promise<void> } | undefined;
  private closed = false;
  private readonly maxItems: number | undefined;
  private readonly finalFlushTime: number;
  /** This instance's puts not settled yet (`flushPuts`). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly putListeners = new Listeners<QueuePut<T>>();

  protected constructor(
    readonly client: ZooKeeperClient,
    path: string,
    private readonly recipe: 'DistributedQueue' | 'DistributedPriorityQueue' | 'DistributedDelayQueue',
    shape: QueueShape,
    private readonly options: DistributedQueueOptions<T>,
  ) {
    this.core = new QueueCore(client, path, recipe, shape, options);
    this.encode = options.encode ?? ((item) => item as Buffer);
    this.decode = options.decode ?? ((bytes) => bytes as T);
    const errorMode = options.errorMode ?? 'requeue';
    if (errorMode !== 'requeue' && errorMode !== 'delete')
      throw new InvalidArgumentError(`errorMode must be 'requeue' or 'delete', got ${String(errorMode)}`, {
        op: recipe,
        path,
      });
    if (options.consumer !== undefined && typeof options.consumer !== 'function')
      throw new InvalidArgumentError('consumer must be a function', { op: recipe, path });
    const { maxItems, finalFlushTime = DEFAULT_FINAL_FLUSH_MS } = options;
    if (maxItems !== undefined && !(Number.isSafeInteger(maxItems) && maxItems > 0))
      throw new InvalidArgumentError(`maxItems must be a positive integer, got ${String(maxItems)}`, {
        op: recipe,
        path,
      });
    if (typeof finalFlushTime !== 'number' || !(finalFlushTime >= 0) || !Number.isFinite(finalFlushTime))
      throw new InvalidArgumentError(
        `finalFlushTime must be a number of ms >= 0, got ${String(finalFlushTime)}`,
        {
          op: recipe,
          path,
        },
      );
    this.maxItems = maxItems;
    this.finalFlushTime = finalFlushTime;
  }

  /** The queue's path. */
  get path(): string {
    return this.core.path;
  }

  /**
   * Create the queue's nodes and, with a `consumer`, start consuming (Curator's `start()`).
   *
   * @example
   *   await queue.start();
   */
  async start(options: DistributedQueueCallOptions = {}): Promise<void> {
    if (this.closed || this.running)
      throw new RecipeStateError(`the ${this.recipe} was already started or closed`, {
        op: 'start',
        path: this.core.path,
      });
    const controller = new AbortController();
    this.running = { controller, loop: Promise.resolve() };
    try {
      await this.core.ensure(limitsOf(options));
    } catch (error) {
      this.running = undefined;
      throw error;
    }
    const consumer = this.options.consumer;
    if (consumer && !this.closed) this.running.loop = this.consume(consumer, controller.signal);
  }

  /**
   * Stop consuming; resolves once the item in progress is done and this instance's puts in
   * flight settled (at most `finalFlushTime`); `puts()` iterators end. Idempotent.
   *
   * @example
   *   await queue.close();
   */
  async close(): Promise<void> {
    const first = !this.closed;
    this.closed = true;
    const running = this.running;
    running?.controller.abort(
      new RecipeStateError(`the ${this.recipe} was closed`, { path: this.core.path }),
    );
    if (first && this.finalFlushTime > 0) await this.flushPuts({ timeout: this.finalFlushTime });
    this.putListeners.end();
    await running?.loop;
  }

  /**
   * Wait for this instance's puts in flight to settle (Curator's `flushPuts`): true once none
   * is left, false when `timeout` ms passed first (default: no limit).
   *
   * @example
   *   void queue.put(a); void queue.put(b);
   *   await queue.flushPuts({ timeout: 1_000 });
   */
  async flushPuts(options: DistributedQueueCallOptions = {}): Promise<boolean> {
    const limits = limitsOf(options);
    while (this.inFlight.size > 0) {
      try {
        await settledWithin(Promise.allSettled([...this.inFlight]), limits);
      } catch (error) {
        if (error instanceof TimeoutError) return false;
        throw error;
      }
    }
    return true;
  }

  /**
   * The puts of this instance as they complete (Curator's `getPutListenerContainer()`, in our
   * async iterator idiom): one event per `put` or `putMulti`, with its items and node. Ends on
   * `close()` or `signal`.
   *
   * @example
   *   for await (const { items, path } of queue.puts({ signal })) log(path, items.length);
   */
  puts(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<QueuePut<T>> {
    return this.putListeners.iterate(options.signal);
  }

  /** `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Put items as one node `<prefix><suffix><seq>` (one item: `put`; several: `putMulti`);
   * null when `maxItems` kept it out until the deadline.
   */
  protected putNode(
    suffix: string,
    items: readonly T[],
    options: DistributedQueueCallOptions,
    multi: boolean,
  ): Promise<string | null> {
    const put = this.putItems(suffix, items, options, multi);
    this.inFlight.add(put);
    const settled = () => this.inFlight.delete(put);
    put.then(settled, settled);
    return put;
  }

  private async putItems(
    suffix: string,
    items: readonly T[],
    options: DistributedQueueCallOptions,
    multi: boolean,
  ): Promise<string | null> {
    if (items.length === 0)
      throw new InvalidArgumentError('putMulti needs at least one item', { op: 'put', path: this.core.path });
    const encoded = items.map((item) => {
      const bytes = this.encode(item);
      if (!(bytes instanceof Uint8Array))
        throw new InvalidArgumentError(
          'encode must return a Buffer or Uint8Array (the default takes Buffers)',
          {
            op: 'put',
            path: this.core.path,
          },
        );
      return bytes;
    });
    const limits = limitsOf(options);
    if (this.maxItems !== undefined && !(await this.core.waitForRoom(this.maxItems, limits))) return null;
    const path = await this.core.put(suffix, serializeItems(encoded), limits);
    this.putListeners.emit({ items: [...items], multi, path });
    return path;
  }

  /**
   * Take the next item (queues without a `consumer`), waiting up to `timeout` ms (`null` then;
   * default: forever). The other items of a multi-item node are returned by the next calls
   * of this instance (they are no longer in ZooKeeper).
   *
   * @example
   *   const item = await queue.take({ timeout: 10_000 });
   */
  take(options: DistributedQueueCallOptions = {}): Promise<T | null> {
    if (this.options.consumer)
      throw new RecipeStateError('take() is for queues without a consumer', {
        op: 'take',
        path: this.core.path,
      });
    const limits = limitsOf(options);
    const run = this.taking.then(() => this.takeItem(limits));
    this.taking = run.catch(() => {});
    return run;
  }

  private async takeItem(limits: WaitLimits): Promise<T | null> {
    for (;;) {
      if (this.buffered.length > 0) return this.buffered.shift()!;
      const claimed = await this.core.claim(limits, { remove: true, wait: true });
      if (!claimed) return null;
      if (claimed.lock && !(await this.finishUndelivered(claimed))) continue;
      const items = this.decoded(claimed);
      if (items) this.buffered.push(...items);
    }
  }

  /**
   * `finish` a locked node none of whose items was delivered yet: false when it was gone, or
   * locked by another consumer after our lock's session ended (it is theirs to process).
   */
  private async finishUndelivered(claimed: Claimed): Promise<boolean> {
    try {
      return await this.core.finish(claimed);
    } catch (error) {
      if (error instanceof LockLostError) return false;
      throw error;
    }
  }

  /** The items of a taken node; undefined (reported) when it is not in Curator's format. */
  private decoded(claimed: Claimed): T[] | undefined {
    publishTaken(this.recipe, this.core.path, claimed.name);
    try {
      return deserializeItems(claimed.data).map((bytes) => this.decode(bytes));
    } catch (error) {
      this.report(
        new InvalidArgumentError(`corrupted queue item ${claimed.name}: ${String(error)}`, {
          op: 'take',
          path: this.core.path,
          cause: error,
        }),
      );
      return undefined;
    }
  }

  private async consume(consumer: NonNullable<DistributedQueueOptions<T>['consumer']>, signal: AbortSignal) {
    while (!signal.aborted) {
      let claimed: Claimed | null;
      try {
        claimed = await this.core.claim({ signal }, { remove: true, wait: true });
      } catch (error) {
        if (signal.aborted || error instanceof ClientClosedError) return; // a closed client never reconnects
        this.report(error);
        await sleep(100, signal).catch(() => {});
        continue;
      }
      // Taken (or locked) for us: processed even if we are closing now, else it would be lost.
      if (claimed)
        await this.process(claimed, consumer, signal).catch((error: unknown) => this.report(error));
    }
  }

  private async process(
    claimed: Claimed,
    consumer: NonNullable<DistributedQueueOptions<T>['consumer']>,
    closing: AbortSignal,
  ): Promise<void> {
    const items = this.decoded(claimed) ?? []; // corrupt: removed, as Curator does
    const lock = claimed.lock;
    const controller = new AbortController();
    const onClose = () => controller.abort(closing.reason);
    const onState = (state: ConnectionState) => {
      if (state === ConnectionState.LOST)
        controller.abort(new RecipeStateError('the session was lost: the item is not locked any more'));
    };
    closing.addEventListener('abort', onClose, { once: true });
    if (lock) this.client.on('state', onState);
    let failed = false;
    try {
      for (const item of items) {
        try {
          await consumer(item, { signal: controller.signal });
        } catch (error) {
          this.report(error);
          failed = true;
          if (lock) break; // Curator's REQUEUE stops at the first failure: the whole node goes back
        }
      }
    } finally {
      closing.removeEventListener('abort', onClose);
      this.client.off('state', onState);
    }
    if (!lock) return;
    if (failed && (this.options.errorMode ?? 'requeue') === 'requeue') {
      // The same prefix, priority or due time, and a new sequence number (Curator requeues as plain `queue-`).
      const again = joinPath(this.core.path, claimed.name.slice(0, -10));
      await this.core.finish(claimed, (transaction) =>
        transaction.create(again, claimed.data, { sequence: true }),
      );
    } else {
      await this.core.finish(claimed);
    }
  }

  private report(error: unknown): void {
    try {
      if (this.options.onError) this.options.onError(error);
      else this.client.logger.warn(`${this.recipe} ${this.core.path}: ${String(error)}`);
    } catch (thrown) {
      this.client.logger.warn(`${this.recipe} ${this.core.path}: onError threw ${String(thrown)}`);
    }
  }
}

/** Curator's default `finalFlushTime` (`QueueBuilder.finalFlushMs`). */
const DEFAULT_FINAL_FLUSH_MS = 5000;

function limitsOf(options: DistributedQueueCallOptions): WaitLimits {
  return { deadline: deadlineOf(options.timeout), signal: options.signal };
}
