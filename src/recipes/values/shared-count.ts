import type { ZooKeeperClient } from '../../client/client.js';
import { checkInt32, decodeInt32, encodeInt32 } from './curator-codec.js';
import { SharedValue, type SharedCallOptions, type VersionedValue } from './shared-value.js';

/**
 * SharedCount: Curator's `SharedCount` — a `SharedValue` holding a 32-bit signed integer.
 *
 * Znode layout (Curator 5): `<path>` persistent, data = the count as 4 bytes big-endian
 * (`SharedCount.toBytes`), created holding the seed by `start()` unless it exists. The same node
 * `Counter({ curator: true })` reads and adds to (one encoding, `curator-codec.ts`). A node that
 * does not hold 4 bytes makes `start()` and the change iterator fail with `RecipeMismatchError`.
 *
 * Writes are proven as SharedValue's are (`OutcomeUnknownError` only when a session ended with a
 * write uncertain). SUSPENDED/LOST: as SharedValue (the count is re-read on reconnect).
 *
 * @example
 *   await using workers = new SharedCount(zk, '/config/workers', 4);
 *   await workers.start();
 *   const seen = workers.getVersionedValue();
 *   await workers.trySetCount(seen, seen.value + 1);
 *   for await (const count of workers.changes({ signal })) resize(count);
 */
export class SharedCount implements AsyncDisposable {
  private readonly shared: SharedValue;

  constructor(
    readonly client: ZooKeeperClient,
    readonly path: string,
    seed: number,
  ) {
    checkInt32(seed, 'a SharedCount');
    this.shared = new SharedValue(client, path, encodeInt32(seed));
  }

  /** Create the node holding the seed unless it exists, read the count and keep it current until `close()`. */
  async start(options: SharedCallOptions = {}): Promise<void> {
    await this.shared.start(options);
    try {
      this.getCount(); // a node of another recipe fails here, not on first use
    } catch (error) {
      await this.shared.close();
      throw error;
    }
  }

  /** The count last seen (Curator's `getCount()`); the seed before `start()`. */
  getCount(): number {
    return decodeInt32(this.shared.getValue(), this.path);
  }

  /** The count last seen with its version: pass it to `trySetCount`. */
  getVersionedValue(): VersionedValue<number> {
    const { value, version, zxid } = this.shared.getVersionedValue();
    return { value: decodeInt32(value, this.path), version, zxid };
  }

  /** Set the count whatever it is now (Curator's `setCount`). */
  async setCount(count: number, options: SharedCallOptions = {}): Promise<void> {
    return this.shared.setValue(encodeInt32(count), options);
  }

  /** Set the count only if it is still `previous` (Curator's `trySetCount`); false when it changed meanwhile. */
  async trySetCount(
    previous: VersionedValue<number>,
    count: number,
    options: SharedCallOptions = {},
  ): Promise<boolean> {
    const bytes = { value: encodeInt32(previous.value), version: previous.version, zxid: previous.zxid };
    return this.shared.trySetValue(bytes, encodeInt32(count), options);
  }

  /** Every new count seen from now on (Curator's `SharedCountListener.countHasChanged`), as an async iterator. */
  async *changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<number> {
    for await (const value of this.shared.changes(options)) yield decodeInt32(value, this.path);
  }

  /** Stop watching; `changes()` iterators end. Idempotent. The node stays. */
  close(): Promise<void> {
    return this.shared.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
