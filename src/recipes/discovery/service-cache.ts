/**
 * ServiceCache: curator-x-discovery's `ServiceCacheImpl` — the instances of one service, kept
 * up to date by watches, with an async iterator of the changes.
 */
import { RecipeStateError } from '../errors.js';
import { TreeCache, type TreeEvent } from '../watchers/tree-cache.js';
import type { ServiceDiscovery } from './service-discovery.js';
import type { JsonValue, ServiceInstance } from './service-instance.js';

/**
 * One change of a ServiceCache: an instance appeared, its data changed, or it went (then the
 * last data seen).
 *
 * @example
 *   for await (const change of cache) console.log(change.type, change.instance.id);
 */
export interface ServiceCacheChange<P = JsonValue> {
  type: 'added' | 'updated' | 'removed';
  instance: ServiceInstance<P>;
}

/**
 * Options of `ServiceCache.changes()`: a signal that ends the iteration.
 *
 * @example
 *   for await (const change of cache.changes({ signal })) rebalance(cache.getInstances());
 */
export interface ServiceCacheChangesOptions {
  signal?: AbortSignal;
}

/**
 * The instances of one service, watched: `getInstances()` answers from memory, `changes()` (or
 * iterating the cache) yields each change. Curator's `ServiceCache`, on our TreeCache (one
 * persistent recursive watch on `<basePath>/<name>`, ZooKeeper ≥ 3.6): a change made while
 * disconnected is found by the re-read after the reconnect.
 *
 * Unlike Curator's it creates nothing: a service with no instances (no node yet, or its container
 * node removed by the server after the last instance went) is watched until its node is created
 * again, and the cache follows the new instances (CURATOR-163: Curator's cache stayed empty
 * once the service node had been deleted). A node whose data is not an instance is left out.
 *
 * SUSPENDED: the cache keeps the last instances it knew. CONNECTED again: it re-reads and
 * reports the differences. LOST: the same after the next session starts (ephemeral instances of
 * the lost session, ours included, are reported removed once the server has expired them).
 *
 * @example
 *   await using cache = new ServiceCache(discovery, 'billing');
 *   await cache.start();
 *   console.log(cache.getInstances().map((i) => `${i.address}:${i.port}`));
 *   for await (const change of cache) console.log(change.type, change.instance.id);
 */
export class ServiceCache<P = JsonValue> implements AsyncDisposable, AsyncIterable<ServiceCacheChange<P>> {
  readonly path: string;
  private readonly tree: TreeCache;
  private readonly instances = new Map<string, ServiceInstance<P>>();
  private readonly forget: () => void;
  private started = false;

  constructor(
    readonly discovery: ServiceDiscovery<P>,
    readonly name: string,
  ) {
    this.path = discovery.pathForName(name);
    this.tree = new TreeCache(discovery.client, this.path, { createRoot: false });
    this.tree.listen((event) => {
      const change = this.apply(event);
      if (change) this.instances.delete(change.id);
      if (change?.instance) this.instances.set(change.id, change.instance);
    });
    this.forget = discovery.adopt(this);
  }

  /** Load the instances and start watching; resolves once loaded. `RecipeStateError` when started twice or closed. */
  async start(): Promise<void> {
    if (this.started)
      throw new RecipeStateError('the ServiceCache is already started', { op: 'start', path: this.path });
    this.started = true;
    await this.tree.start();
  }

  /** The instances known now, sorted by node name. */
  getInstances(): ServiceInstance<P>[] {
    return [...this.instances.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, instance]) => instance);
  }

  /**
   * The changes from now on, as an async iterator (buffered while the consumer is busy). Ends when
   * `signal` aborts, the loop is left, or the cache is closed.
   */
  async *changes(
    options: ServiceCacheChangesOptions = {},
  ): AsyncGenerator<ServiceCacheChange<P>, void, undefined> {
    for await (const event of this.tree.events(options)) {
      const change = this.apply(event);
      const instance = change?.instance ?? change?.last;
      if (change && instance) yield { type: change.type, instance };
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<ServiceCacheChange<P>> {
    return this.changes();
  }

  /** Stop watching; iterators end. Idempotent. */
  async close(): Promise<void> {
    this.forget();
    this.instances.clear();
    await this.tree.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What a tree event means for an instance node (a direct child of the service node). */
  private apply(event: TreeEvent):
    | {
        type: ServiceCacheChange['type'];
        id: string;
        instance: ServiceInstance<P> | undefined;
        last?: ServiceInstance<P> | undefined;
      }
    | undefined {
    const { path, data } = event;
    if (data === null || path.lastIndexOf('/') !== this.path.length || !path.startsWith(this.path))
      return undefined;
    const id = path.slice(this.path.length + 1);
    const decoded = this.discovery.decode(path, data);
    switch (event.type) {
      case 'NODE_ADDED':
        return { type: 'added', id, instance: decoded };
      case 'NODE_UPDATED':
        return { type: 'updated', id, instance: decoded };
      case 'NODE_REMOVED':
        return { type: 'removed', id, instance: undefined, last: decoded };
      default:
        return undefined;
    }
  }
}
