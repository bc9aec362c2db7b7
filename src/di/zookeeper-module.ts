import { ContainerModule, type ResolutionContext, type ServiceIdentifier } from 'inversify';
import type { ZooKeeperClientOptions } from '../client/client.js';
import type { ElectionOptions } from '../recipes/election/election.js';
import type { LockOptions } from '../recipes/lock/lock.js';
import { ServiceDiscovery, type ServiceDiscoveryOptions } from '../recipes/discovery/service-discovery.js';
import type { ServiceInstanceInput } from '../recipes/discovery/service-instance.js';
import { ServiceProvider, type ServiceProviderOptions } from '../recipes/discovery/service-provider.js';
import { ClientSlot, type SlotHooks } from './client-slot.js';
import type { RecipeFactory } from './recipe-factory.js';
import {
  ElectionToken,
  LockToken,
  Recipes,
  ServiceDiscoveryToken,
  ServiceProviderToken,
  ZooKeeper,
} from './tokens.js';

/** The container's ClientSlot: a singleton that never fails, unlike the client's start. */
const Slot: ServiceIdentifier<ClientSlot> = Symbol('zookeeper-coordination:ClientSlot');

/** Options of `zookeeperModule`: the client's options, how it starts, and named elections and locks. */
export interface ZooKeeperModuleOptions extends ZooKeeperClientOptions {
  /**
   * `true` (default): resolving the client waits until it is connected (use `getAsync`).
   * `false`: it starts connecting in the background and plain `container.get` works; requests
   * made before the connection is up wait for it.
   */
  awaitStart?: boolean;
  /** With `awaitStart`, how long the first connection may take, ms. Default 15000. */
  startTimeout?: number;
  /** Elections injectable by name: `{ billing: '/services/billing/leader' }` or `{ billing: { path, options } }`. */
  elections?: Readonly<Record<string, string | { path: string; options?: ElectionOptions }>>;
  /** Locks injectable by name, likewise. */
  locks?: Readonly<Record<string, string | { path: string; options?: LockOptions }>>;
  /** The container's `ServiceDiscovery` (`ServiceDiscoveryToken`). Default base path `/services`. */
  discovery?: Omit<ServiceDiscoveryOptions, 'thisInstance'>;
  /** This process as a service instance: registered when the client starts, unregistered on unbind. */
  service?: ServiceInstanceInput;
  /** Started `ServiceProvider`s injectable by service name: `{ billing: { strategy: 'random' } }`. */
  providers?: Readonly<Record<string, ServiceProviderOptions>>;
}

function named<T>(entry: string | { path: string; options?: T }): { path: string; options: T | undefined } {
  return typeof entry === 'string'
    ? { path: entry, options: undefined }
    : { path: entry.path, options: entry.options };
}

/**
 * The inversify module: one `ZooKeeperClient` per container (started when first resolved,
 * closed when unbound), a `RecipeFactory`, optional named elections and locks, a
 * `ServiceDiscovery` (with `service`, this process is registered as part of the start and
 * unregistered on unbind) and named `ServiceProvider`s, all made from that client (ClientSlot). The client starts asynchronously, so resolve with
 * `container.getAsync(...)`; if its start fails, a later `getAsync` starts a new client.
 *
 * @example
 *   const container = new Container();
 *   container.load(zookeeperModule({ hosts: 'zk1:2181,zk2:2181', elections: { billing: '/services/billing/leader' } }));
 *   const billing = await container.getAsync(BillingService); // @inject(ElectionToken) @named('billing')
 *   ...
 *   await container.unbindAllAsync(); // closes the client
 */
export function zookeeperModule(options: ZooKeeperModuleOptions): ContainerModule {
  const {
    awaitStart = true,
    startTimeout,
    elections = {},
    locks = {},
    discovery,
    service,
    providers = {},
    ...clientOptions
  } = options;
  // One discovery per client (per RecipeFactory), shared by the hooks and the bindings.
  const discoveries = new WeakMap<RecipeFactory, ServiceDiscovery>();
  const discoveryFor = (recipes: RecipeFactory): ServiceDiscovery => {
    let made = discoveries.get(recipes);
    if (made === undefined) {
      made = new ServiceDiscovery(recipes.client, {
        basePath: '/services',
        ...discovery,
        thisInstance: service,
      });
      discoveries.set(recipes, made);
    }
    return made;
  };
  // The process's own registration is part of the start; unbinding closes the discovery (its
  // providers, and it unregisters) before the client.
  const hooks: SlotHooks = {
    closing: async (recipes) => discoveries.get(recipes)?.close(),
  };
  if (service !== undefined) hooks.started = (recipes) => discoveryFor(recipes).start();
  /** A binding's value, made once per client by the slot (transient here, so a failure is never cached). */
  const fromSlot =
    <T>(key: string, make: (recipes: RecipeFactory) => T) =>
    (context: ResolutionContext): T | Promise<T> =>
      awaitStart ? context.get(Slot).whenStarted(key, make) : context.get(Slot).now(key, make);
  return new ContainerModule(({ bind }) => {
    bind(Slot)
      // No deadline for a background start: nobody awaits it.
      .toDynamicValue(
        () => new ClientSlot(clientOptions, awaitStart ? startTimeout : Infinity, !awaitStart, hooks),
      )
      .inSingletonScope()
      .onDeactivation((slot) => slot.close());
    bind(ZooKeeper)
      .toDynamicValue(fromSlot('client', (recipes) => recipes.client))
      .inTransientScope();
    bind(Recipes)
      .toDynamicValue(fromSlot('recipes', (recipes) => recipes))
      .inTransientScope();
    for (const [name, entry] of Object.entries(elections)) {
      const { path, options: electionOptions } = named(entry);
      bind(ElectionToken)
        .toDynamicValue(fromSlot(`election:${name}`, (recipes) => recipes.election(path, electionOptions)))
        .inTransientScope()
        .whenNamed(name);
    }
    bind(ServiceDiscoveryToken).toDynamicValue(fromSlot('discovery', discoveryFor)).inTransientScope();
    for (const [name, providerOptions] of Object.entries(providers)) {
      bind(ServiceProviderToken)
        .toDynamicValue(
          // The made value is a promise (the provider starts): resolved with getAsync.
          fromSlot(`provider:${name}`, async (recipes) => {
            const provider = new ServiceProvider(discoveryFor(recipes), name, providerOptions);
            await provider.start();
            return provider;
          }) as (context: ResolutionContext) => Promise<ServiceProvider>,
        )
        .inTransientScope()
        .whenNamed(name);
    }
    for (const [name, entry] of Object.entries(locks)) {
      const { path, options: lockOptions } = named(entry);
      bind(LockToken)
        .toDynamicValue(fromSlot(`lock:${name}`, (recipes) => recipes.lock(path, lockOptions)))
        .inTransientScope()
        .whenNamed(name);
    }
  });
}
