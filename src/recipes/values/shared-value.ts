import type { ZooKeeperClient } from '../../client/client.js';
import {
  ClientClosedError,
  InvalidArgumentError,
  NoNodeError,
  NodeExistsError,
} from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import { retriesWithinDeadline, withinDeadline } from '../../client/retry.js';
import { ChangeWaiter, deadlineOf, requestLimits, type WaitLimits } from '../change-waiter.js';
import { RecipeStateError } from '../errors.js';
import { Listeners } from '../listeners.js';
import { provenWrite } from './proven-write.js';

/** A value with the node version and zxid it was read or written at (Curator's `VersionedValue`). */
export interface VersionedValue<T> {
  readonly value: T;
  /** The node's data version (`Stat.version`); -1 before the first read. */
  readonly version: number;
  /** The zxid of the write that made it (`Stat.mzxid`); -1n before the first read. */
  readonly zxid: bigint;
}

/** Limits of a SharedValue's calls that talk to ZooKeeper. */
export interface SharedCallOptions {
  /** Give up after this many ms: `TimeoutError`, or `OutcomeUnknownError` if a write is uncertain. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * SharedValue: Curator's `SharedValue` — a value every participant sees, kept current by a watch,
 * and changed with optimistic concurrency (`trySetValue` against the version last seen).
 *
 * Znode layout (Curator 5): `<path>` persistent, its data the value's bytes as given; `start()`
 * creates it (parents too) holding the seed unless it exists. Our SharedValue and Curator's on one
 * path read and write the same bytes and see each other's changes.
 *
 * Writes are proven (`proven-write.ts`): each is a versioned write in one transaction with an
 * ephemeral marker child `<path>/__write_op__<32hex>`, deleted once settled, so a lost reply is
 * decided (applied or not) instead of retried blindly as Curator does; when it cannot be proven
 * (the session ended meanwhile) the call rejects with `OutcomeUnknownError`.
 *
 * SUSPENDED: the cached value stays (possibly stale) and writes wait for the reconnect; on
 * reconnect the value is read again (a change is reported). LOST: the same in the new session —
 * the node is persistent, nothing of ours is lost.
 *
 * @example
 *   await using config = new SharedValue(zk, '/config/mode', Buffer.from('normal'));
 *   await config.start();
 *   const seen = config.getVersionedValue();
 *   if (!(await config.trySetValue(seen, Buffer.from('drain')))) console.log('changed meanwhile');
 *   for await (const value of config.changes({ signal })) apply(value.toString());
 */
export class SharedValue implements AsyncDisposable {
  readonly path: string;
  private readonly seed: Buffer;
  private current: VersionedValue<Buffer>;
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private readonly listeners = new Listeners<Buffer>();
  private readonly closing = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    seed: Buffer,
  ) {
    validatePath(path, 'SharedValue');
    if (!Buffer.isBuffer(seed))
      throw new InvalidArgumentError('the seed must be a Buffer', { op: 'SharedValue', path });
    this.path = path;
    this.seed = Buffer.from(seed);
    this.current = { value: Buffer.from(seed), version: -1, zxid: -1n };
  }

  /**
   * Create the node holding the seed unless it exists, read the value and keep it current until
   * `close()` (once per instance: else `RecipeStateError`).
   */
  async start(options: SharedCallOptions = {}): Promise<void> {
    if (this.state !== 'latent')
      throw new RecipeStateError('a SharedValue can be started only once', { op: 'start', path: this.path });
    this.state = 'started';
    const limits = this.limits(options);
    await withinDeadline(async () => {
      try {
        await this.client.create(this.path, this.seed, { ...requestLimits(limits), makePath: true });
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
      }
    }, limits);
    const first = new ChangeWaiter(this.client, { signal: this.closing.signal });
    await withinDeadline(() => this.read(first, false), limits).catch((error: unknown) => {
      first.dispose();
      throw error;
    });
    this.loop = this.run(first);
  }

  /** The value last seen (a copy), Curator's `getValue()`; the seed before `start()`. */
  getValue(): Buffer {
    return Buffer.from(this.current.value);
  }

  /** The value last seen with its version (Curator's `getVersionedValue()`): pass it to `trySetValue`. */
  getVersionedValue(): VersionedValue<Buffer> {
    return { ...this.current, value: Buffer.from(this.current.value) };
  }

  /** Set the value whatever it is now (Curator's `setValue`). */
  async setValue(value: Buffer, options: SharedCallOptions = {}): Promise<void> {
    this.checkStarted('setValue', value);
    const limits = this.limits(options);
    for (;;) {
      const { stat } = await withinDeadline(() => this.client.get(this.path, requestLimits(limits)), limits);
      const written = await provenWrite(this.client, this.path, stat.version, value, limits, 'setValue');
      if (written) return this.update(written.mzxid, written.version, value, true);
    }
  }

  /**
   * Set the value only if it is still `previous` (Curator's `trySetValue`): resolves false when
   * another participant changed it since (the value is then read again), true once written.
   */
  async trySetValue(
    previous: VersionedValue<Buffer>,
    value: Buffer,
    options: SharedCallOptions = {},
  ): Promise<boolean> {
    this.checkStarted('trySetValue', value);
    const current = this.current;
    if (previous.zxid !== current.zxid || !previous.value.equals(current.value)) return false;
    const limits = this.limits(options);
    const written = await provenWrite(this.client, this.path, previous.version, value, limits, 'trySetValue');
    if (written) {
      this.update(written.mzxid, written.version, value, true);
      return true;
    }
    await withinDeadline(async () => {
      const { data, stat } = await this.client.get(this.path, requestLimits(limits));
      this.update(stat.mzxid, stat.version, data, true);
    }, limits).catch((error: unknown) => {
      if (!(error instanceof NoNodeError)) throw error;
    });
    return false;
  }

  /**
   * Every new value seen from now on (Curator's `SharedValueListener.valueHasChanged`), as an
   * async iterator. This SharedValue's own writes are reported too, once each: whichever of the
   * write's reply and the watch's read comes first reports it (in Curator the same race decides
   * whether a listener hears its own write; here the answer is always yes); it ends when `signal` aborts, the loop breaks or the SharedValue is closed.
   */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<Buffer> {
    return this.listeners.iterate(options.signal);
  }

  /** Stop watching; `changes()` iterators end. Idempotent. The node stays. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closing.abort();
    this.listeners.end();
    await this.loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private limits(options: SharedCallOptions): WaitLimits {
    return { deadline: deadlineOf(options.timeout, { path: this.path }), signal: options.signal };
  }

  private checkStarted(op: string, value: Buffer): void {
    if (this.state !== 'started')
      throw new RecipeStateError('the SharedValue is not started', { op, path: this.path });
    if (!Buffer.isBuffer(value))
      throw new InvalidArgumentError('the value must be a Buffer', { op, path: this.path });
  }

  /** Keep what is newer than what we have (Curator's `updateValue`: by zxid); report it if asked. */
  private update(zxid: bigint, version: number, value: Buffer, notify: boolean): void {
    if (this.current.zxid >= zxid) return;
    this.current = { value: Buffer.from(value), version, zxid };
    if (notify) this.listeners.emit(Buffer.from(value));
  }

  /** Read the value with a watch that wakes `waiter` (an exists watch while the node is missing). */
  private async read(waiter: ChangeWaiter, notify = true): Promise<void> {
    const request = { signal: this.closing.signal };
    try {
      const { data, stat } = await this.client.get(this.path, {
        watch: waiter.watch(this.path, 'data'),
        ...request,
      });
      this.update(stat.mzxid, stat.version, data, notify);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      // Deleted: wait for it to come back (Curator stops watching here).
      if (
        (await this.client.exists(this.path, { watch: waiter.watch(this.path, 'data'), ...request })) !== null
      )
        waiter.wake('watch');
    }
  }

  /** Sleep until the watch fires or the state changes, then read again; until closed. */
  private async run(first: ChangeWaiter): Promise<void> {
    let waiter = first;
    while (this.state === 'started') {
      try {
        await waiter.wait();
      } finally {
        waiter.dispose();
      }
      if (this.state !== 'started') return;
      waiter = new ChangeWaiter(this.client, { signal: this.closing.signal });
      try {
        await this.read(waiter);
      } catch (error) {
        if (this.state !== 'started' || error instanceof ClientClosedError) break;
        if (!retriesWithinDeadline(error))
          this.client.logger.error(`SharedValue ${this.path}: ${String(error)}; reading again`);
        // Connection trouble already woke the waiter; anything else: the next state change.
        if (waiter.woken === undefined && retriesWithinDeadline(error)) waiter.wake('state');
      }
    }
    waiter.dispose();
  }
}
