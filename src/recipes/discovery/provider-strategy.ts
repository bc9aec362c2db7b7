/**
 * curator-x-discovery's provider strategies: how a ServiceProvider picks one instance of the
 * usable ones — RoundRobinStrategy, RandomStrategy, StickyStrategy.
 */
import type { JsonValue, ServiceInstance } from './service-instance.js';

/**
 * Picks one instance of a list (never empty), Curator's `ProviderStrategy`.
 *
 * @example
 *   const first: ProviderStrategy = { pick: (instances) => instances[0]! };
 *   new ServiceProvider(discovery, 'billing', { strategy: first });
 */
export interface ProviderStrategy<P = JsonValue> {
  pick(instances: readonly ServiceInstance<P>[]): ServiceInstance<P>;
}

/**
 * The strategies by name: `roundRobin` (Curator's default), `random`, `sticky` (the same
 * instance while it is usable, then a random one).
 *
 * @example
 *   new ServiceProvider(discovery, 'billing', { strategy: 'sticky' });
 */
export type StrategyName = 'roundRobin' | 'random' | 'sticky';

/** Curator's RoundRobinStrategy: the next of the list each time. */
class RoundRobin<P> implements ProviderStrategy<P> {
  private index = 0;
  pick(instances: readonly ServiceInstance<P>[]): ServiceInstance<P> {
    return instances[this.index++ % instances.length]!;
  }
}

/** Curator's RandomStrategy: any of the list. */
class Random<P> implements ProviderStrategy<P> {
  constructor(private readonly random: () => number) {}
  pick(instances: readonly ServiceInstance<P>[]): ServiceInstance<P> {
    return instances[Math.floor(this.random() * instances.length)]!;
  }
}

/**
 * Curator's StickyStrategy: the instance picked first (by `master`) while it is in the list —
 * by id, so an update of its data keeps it (Curator compares whole instances) — else a new pick.
 */
class Sticky<P> implements ProviderStrategy<P> {
  private id: string | undefined;
  constructor(private readonly master: ProviderStrategy<P>) {}
  pick(instances: readonly ServiceInstance<P>[]): ServiceInstance<P> {
    const current = instances.find((instance) => instance.id === this.id);
    if (current) return current;
    const picked = this.master.pick(instances);
    this.id = picked.id;
    return picked;
  }
}

/**
 * A strategy by name (`random`: the number source, default `Math.random`; the `sticky` master is random).
 *
 * @example
 *   const strategy = providerStrategy('random', seededRandom);
 */
export function providerStrategy<P = JsonValue>(
  name: StrategyName,
  random: () => number = Math.random,
): ProviderStrategy<P> {
  switch (name) {
    case 'roundRobin':
      return new RoundRobin<P>();
    case 'random':
      return new Random<P>(random);
    case 'sticky':
      return new Sticky<P>(new Random<P>(random));
  }
}
