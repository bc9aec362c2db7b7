/**
 * ServiceProvider: curator-x-discovery's `ServiceProviderImpl` — one instance of a service for
 * each use, picked by a strategy among the usable ones.
 */
import { InvalidArgumentError } from '../../client/errors.js';
import { DownInstances, type DownInstancePolicy } from './down-instances.js';
import { providerStrategy, type ProviderStrategy, type StrategyName } from './provider-strategy.js';
import { ServiceCache } from './service-cache.js';
import type { ServiceDiscovery } from './service-discovery.js';
import type { JsonValue, ServiceInstance } from './service-instance.js';

/**
 * Options of `new ServiceProvider(...)`: Curator's `ServiceProviderBuilder` settings.
 *
 * @example
 *   new ServiceProvider(discovery, 'billing', { strategy: 'random', filter: (i) => i.payload?.zone === 'eu-1' });
 */
export interface ServiceProviderOptions<P = JsonValue> {
  /** Default `roundRobin` (Curator's). */
  strategy?: StrategyName | ProviderStrategy<P>;
  /** When `noteError` makes an instance down. Default: 2 errors within 30 s (Curator's). */
  downInstancePolicy?: DownInstancePolicy;
  /** Only instances it accepts are used (Curator's `additionalFilter`). */
  filter?: (instance: ServiceInstance<P>) => boolean;
  /** The number source of the `random` and `sticky` strategies. Default `Math.random`. */
  random?: () => number;
}

/**
 * One instance of a service per use (Curator's `ServiceProvider`): a ServiceCache of the service,
 * filtered — enabled instances (`enabled`, CURATOR-275), not down (`noteError`), accepted by
 * `filter` — and one picked by the strategy.
 *
 * Connection states as the ServiceCache: while SUSPENDED it answers from the last instances it
 * knew; after a reconnect or a new session it follows the server again.
 *
 * @example
 *   await using provider = new ServiceProvider(discovery, 'billing', { strategy: 'roundRobin' });
 *   await provider.start();
 *   const instance = provider.getInstance();
 *   try { await call(instance); } catch (error) { if (instance) provider.noteError(instance); }
 */
export class ServiceProvider<P = JsonValue> implements AsyncDisposable {
  readonly cache: ServiceCache<P>;
  private readonly strategy: ProviderStrategy<P>;
  private readonly down: DownInstances;
  private readonly filter: ((instance: ServiceInstance<P>) => boolean) | undefined;

  constructor(
    readonly discovery: ServiceDiscovery<P>,
    readonly name: string,
    options: ServiceProviderOptions<P> = {},
  ) {
    const { strategy = 'roundRobin', filter } = options;
    if (typeof strategy === 'string') {
      if (!['roundRobin', 'random', 'sticky'].includes(strategy))
        throw new InvalidArgumentError(`strategy must be roundRobin, random or sticky, got ${strategy}`, {
          op: 'ServiceProvider',
        });
      this.strategy = providerStrategy<P>(strategy, options.random);
    } else this.strategy = strategy;
    this.down = new DownInstances(options.downInstancePolicy);
    this.filter = filter;
    this.cache = new ServiceCache(discovery, name);
  }

  /** Load the instances and start watching them; resolves once loaded. */
  async start(): Promise<void> {
    await this.cache.start();
  }

  /** The usable instances: enabled, not down, accepted by the filter. */
  getAllInstances(): ServiceInstance<P>[] {
    return this.cache
      .getInstances()
      .filter((instance) => instance.enabled && this.down.up(instance) && (this.filter?.(instance) ?? true));
  }

  /** One instance for one use, or undefined when none is usable (Curator: null). Do not keep it: ask again. */
  getInstance(): ServiceInstance<P> | undefined {
    const instances = this.getAllInstances();
    return instances.length === 0 ? undefined : this.strategy.pick(instances);
  }

  /** A use of `instance` failed: enough of them (the down-instance policy) make it skipped for a while. */
  noteError(instance: ServiceInstance<P>): void {
    this.down.add(instance);
  }

  /** Stop watching. Idempotent. */
  async close(): Promise<void> {
    await this.cache.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
