import type { ZooKeeperClient } from '../../client/client.js';
import { queueTakenChannel, type QueueTakenEvent } from '../../client/diagnostics.js';
import { AbortError, InvalidArgumentError, NoNodeError, SessionExpiredError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { isOutcomeUnknown, pause, withinDeadline } from '../../client/retry.js';
import { deadlineOf, requestLimits, type WaitLimits } from '../change-waiter.js';

/** Per-call options of a Queue's calls: timeout and signal. */
export interface QueueCallOptions {
  /** Give up after this many ms with `TimeoutError`. */
  timeout?: number;
  signal?: AbortSignal;
}

/** Default priority of `put` (kazoo's). */
export const DEFAULT_PRIORITY = 100;

/** The entry name prefix for a priority (kazoo: `entry-%03d-`), after validating the arguments. */
export function entryPrefix(priority: unknown, op: string, path: string): string {
  if (typeof priority !== 'number' || !Number.isInteger(priority))
    throw new InvalidArgumentError(`priority must be an integer, got ${String(priority)}`, { op, path });
  if (priority < 0 || priority > 999)
    throw new InvalidArgumentError(`priority must be between 0 and 999, got ${priority}`, { op, path });
  return `entry-${String(priority).padStart(3, '0')}-`;
}

/** Validate an item: bytes only (kazoo: "value must be a byte string"). */
export function checkItem(value: unknown, op: string, path: string): Buffer {
  if (!(value instanceof Uint8Array))
    throw new InvalidArgumentError(
      `value must be a Buffer or Uint8Array, got ${value === null ? 'null' : typeof value}`,
      { op, path },
    );
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Where and how a queue puts entries: shared by `Queue` (entries in its node) and `LockingQueue` (in `entries/`). */
export interface EntryTarget {
  client: ZooKeeperClient;
  /** The queue's path, for errors. */
  path: string;
  /** The node the entries go under. */
  dir: string;
  ensure(limits: WaitLimits): Promise<void>;
}

/** Put one item as `<dir>/entry-<priority>-<seq>`; resolves with its path. Not retried (a lost reply leaves no name to find it by). */
export async function putEntry(
  target: EntryTarget,
  value: unknown,
  priority: unknown,
  options: { timeout?: number; signal?: AbortSignal },
): Promise<string> {
  const item = checkItem(value, 'put', target.path);
  const prefix = entryPrefix(priority, 'put', target.path);
  const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
  await target.ensure(limits);
  return target.client.create(joinPath(target.dir, prefix), item, {
    sequence: true,
    ...requestLimits(limits),
  });
}

/** Put several items in one transaction (all or none); resolves with their paths. Not retried. */
export async function putEntries(
  target: EntryTarget,
  values: unknown,
  priority: unknown,
  options: { timeout?: number; signal?: AbortSignal },
): Promise<string[]> {
  if (!Array.isArray(values))
    throw new InvalidArgumentError('values must be an array of Buffers', { op: 'putAll', path: target.path });
  const prefix = entryPrefix(priority, 'putAll', target.path);
  const items = values.map((value) => checkItem(value, 'putAll', target.path));
  const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
  await target.ensure(limits);
  const transaction = target.client.transaction();
  for (const item of items) transaction.create(joinPath(target.dir, prefix), item, { sequence: true });
  const results = await transaction.commit(requestLimits(limits));
  return results.map((result) => (result.type === 'create' ? result.path : ''));
}

/** Options of `new Queue(...)`: at-least-once or at-most-once delivery. */
export interface QueueOptions {
  /** What `get()` does when its delete's reply was lost and the entry is gone (see above). Default `'at-least-once'`. */
  delivery?: 'at-least-once' | 'at-most-once';
}

/**
 * Queue: a distributed priority FIFO, wire-compatible with kazoo's `Queue`. An item is removed
 * when taken: a consumer that dies after `get()` loses it (use `LockingQueue` for at-least-once
 * processing).
 *
 * Znode layout (kazoo 2.8): `<path>` persistent; items `<path>/entry-<PPP>-<seq>`, persistent
 * sequential, `PPP` = priority as 3 digits (`%03d`, lower = sooner), data = the item's bytes.
 * Order = plain string order of the names (priority, then sequence).
 *
 * `get()` (kazoo's algorithm): the sorted child list is cached per instance and refilled when
 * empty, so an item put with a better priority after the cache was filled is served after the
 * cached ones (as kazoo). The first cached entry is read, then deleted; if another consumer
 * took it first, the cache is dropped and the next entry is tried. The next cached entry is
 * read behind the delete (entries never change once put), so a get costs one round trip.
 *
 * SUSPENDED: calls wait for the reconnect. A `get()` whose delete reply is lost deletes again
 * after the reconnect: the entry still there → our first delete was not applied (the session's
 * requests are handled in order) and this one decides; the entry gone → either our first delete
 * took it or a competing consumer's did, and nothing on the wire tells which. `delivery`
 * decides that case: `'at-least-once'` (default) delivers it — exactly once with a single
 * consumer, never lost, but with several consumers racing for the same entry in that instant it
 * can reach two of them; `'at-most-once'` (kazoo's behaviour) skips it — never twice, but the
 * item is lost when the delete was ours. For exactly-once processing with several consumers use
 * `LockingQueue`. `put()` is not retried (kazoo neither): on `ConnectionLossError` the item may
 * or may not be enqueued — sequential names carry nothing that would let us find it.
 * LOST: no ephemeral state; calls continue in the new session.
 *
 * @example
 *   const jobs = new Queue(zk, '/jobs');
 *   await jobs.put(Buffer.from('urgent'), 0);
 *   await jobs.put(Buffer.from('later'));      // priority 100
 *   const next = await jobs.get();              // <Buffer 'urgent'>, or null when empty
 */
export class Queue {
  readonly path: string;
  readonly delivery: 'at-least-once' | 'at-most-once';
  private pathEnsured = false;
  /** Sorted entry names not yet tried (kazoo's `_children`). */
  private cache: string[] = [];
  /** The entry after the one last taken, read while that one was deleted (see `readNext`). */
  private readAhead: { name: string; data: Promise<Buffer | 'gone' | undefined> } | undefined;
  private getting: Promise<unknown> = Promise.resolve();

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: QueueOptions = {},
  ) {
    validatePath(path, 'Queue');
    this.path = path;
    this.delivery = options.delivery ?? 'at-least-once';
    if (this.delivery !== 'at-least-once' && this.delivery !== 'at-most-once') {
      throw new InvalidArgumentError(
        `delivery must be 'at-least-once' or 'at-most-once', got ${String(this.delivery)}`,
        { op: 'Queue', path },
      );
    }
  }

  /**
   * Put an item with `priority` (0–999, lower is served first; default 100). Resolves with the
   * entry's path. Not retried: on `ConnectionLossError` the item may or may not be enqueued.
   */
  async put(
    value: Buffer | Uint8Array,
    priority = DEFAULT_PRIORITY,
    options: QueueCallOptions = {},
  ): Promise<string> {
    return putEntry(this.entryTarget, value, priority, options);
  }

  /** Put several items atomically (one transaction: all or none). Resolves with their paths. */
  async putAll(
    values: readonly (Buffer | Uint8Array)[],
    priority = DEFAULT_PRIORITY,
    options: QueueCallOptions = {},
  ): Promise<string[]> {
    return putEntries(this.entryTarget, values, priority, options);
  }

  /** Take the next item, or `null` when the queue is empty. Never blocks on an empty queue. */
  async get(options: QueueCallOptions = {}): Promise<Buffer | null> {
    const run = this.getting.then(() =>
      this.take({ deadline: deadlineOf(options.timeout), signal: options.signal }),
    );
    this.getting = run.catch(() => {});
    return run;
  }

  /** Number of items (the node's `numChildren`). */
  get length(): Promise<number> {
    return this.size();
  }

  /** Number of items (the node's `numChildren`). */
  async size(options: QueueCallOptions = {}): Promise<number> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    await this.ensure(limits);
    const stat = await withinDeadline(() => this.client.exists(this.path, requestLimits(limits)), limits);
    return stat?.numChildren ?? 0;
  }

  private get entryTarget(): EntryTarget {
    return { client: this.client, path: this.path, dir: this.path, ensure: (limits) => this.ensure(limits) };
  }

  private async ensure(limits: WaitLimits): Promise<void> {
    if (this.pathEnsured) return;
    await withinDeadline(() => this.client.ensurePath(this.path, requestLimits(limits)), limits);
    this.pathEnsured = true;
  }

  private async take(limits: WaitLimits): Promise<Buffer | null> {
    await this.ensure(limits);
    for (;;) {
      if (this.cache.length === 0) {
        const children = await withinDeadline(async () => {
          try {
            return await this.client.getChildren(this.path, requestLimits(limits));
          } catch (error) {
            if (error instanceof NoNodeError) return [];
            throw error;
          }
        }, limits);
        this.cache = children.filter((name) => name.startsWith('entry-')).sort();
        if (this.cache.length === 0) return null;
      }
      const name = this.cache[0]!;
      const entry = joinPath(this.path, name);
      const ahead = this.readAhead?.name === name ? await this.readAhead.data : undefined;
      this.readAhead = undefined;
      if (ahead === 'gone') {
        this.cache = []; // taken by someone else: start over
        continue;
      }
      let data: Buffer;
      try {
        data =
          ahead ?? (await withinDeadline(() => this.client.get(entry, requestLimits(limits)), limits)).data;
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        this.cache = []; // taken by someone else: start over
        continue;
      }
      const deleted = this.deleteEntry(entry, limits);
      this.readNext(); // sent behind the delete: the next get needs only its delete's round trip
      if (await deleted) {
        this.cache.shift();
        publishTaken('Queue', this.path, name);
        return data;
      }
      this.cache = [];
    }
  }

  /**
   * Read the entry after the one being taken, for the next `get()`: entries are never changed
   * once put, and the read does not take it (only a delete does), so the next get sends just its
   * delete. Whatever the read meets is settled there: missing → taken by someone else; failed →
   * read again by that get.
   */
  private readNext(): void {
    const name = this.cache[1];
    if (name === undefined) return;
    const data = this.client.get(joinPath(this.path, name)).then(
      ({ data }) => data,
      (error: unknown) => (error instanceof NoNodeError ? ('gone' as const) : undefined),
    );
    this.readAhead = { name, data };
  }

  /**
   * Delete a read entry. True when it is ours to deliver: our delete succeeded, or (at least
   * once) its reply was lost and the entry is gone (see the module doc). False when another
   * consumer took it.
   */
  private async deleteEntry(entry: string, limits: WaitLimits): Promise<boolean> {
    if (limits.signal?.aborted) throw new AbortError(limits.signal.reason, { op: 'get', path: this.path });
    let uncertain = false;
    for (;;) {
      try {
        await this.client.delete(entry, requestLimits(limits));
        return true;
      } catch (error) {
        if (error instanceof NoNodeError) return uncertain && this.delivery === 'at-least-once';
        if (error instanceof SessionExpiredError) continue; // never sent: try again in the new session
        if (!isOutcomeUnknown(error)) throw error;
        // It may have been applied: settle it, whatever the caller's timeout or signal says.
        uncertain = true;
        limits = {};
        await pause(undefined, undefined);
      }
    }
  }
}

/** Tell `queue:taken` subscribers that this consumer took `node` (DESIGN.md, Observability). */
export function publishTaken(recipe: QueueTakenEvent['recipe'], path: string, node: string): void {
  if (!queueTakenChannel.hasSubscribers) return;
  const event: QueueTakenEvent = { recipe, path, node };
  queueTakenChannel.publish(event);
}
