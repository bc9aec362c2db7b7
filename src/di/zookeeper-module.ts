import { ContainerModule, type ResolutionContext, type ServiceIdentifier } from 'inversify';
import type { ZooKeeperClientOptions } from '../client/client.js';
import type { ElectionOptions } from '../recipes/election/election.js';
import type { LockOptions } from '../recipes/lock/lock.js';
import { ClientSlot } from './client-slot.js';
import type { RecipeFactory } from './recipe-factory.js';
import { ElectionToken, LockToken, Recipes, ZooKeeper } from './tokens.js';

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
}

function named<T>(entry: string | { path: string; options?: T }): { path: string; options: T | undefined } {
  return typeof entry === 'string'
    ? { path: entry, options: undefined }
    : { path: entry.path, options: entry.options };
}

/**
 * The inversify module: one `ZooKeeperClient` per container (started when first resolved,
 * closed when unbound), a `RecipeFactory`, and optional named elections and locks, all made from
 * that client (ClientSlot). The client starts asynchronously, so resolve with
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
  const { awaitStart = true, startTimeout, elections = {}, locks = {}, ...clientOptions } = options;
  /** A binding's value, made once per client by the slot (transient here, so a failure is never cached). */
  const fromSlot =
    <T>(key: string, make: (recipes: RecipeFactory) => T) =>
    (context: ResolutionContext): T | Promise<T> =>
      awaitStart ? context.get(Slot).whenStarted(key, make) : context.get(Slot).now(key, make);
  return new ContainerModule(({ bind }) => {
    bind(Slot)
      // No deadline for a background start: nobody awaits it.
      .toDynamicValue(() => new ClientSlot(clientOptions, awaitStart ? startTimeout : Infinity, !awaitStart))
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
    for (const [name, entry] of Object.entries(locks)) {
      const { path, options: lockOptions } = named(entry);
      bind(LockToken)
        .toDynamicValue(fromSlot(`lock:${name}`, (recipes) => recipes.lock(path, lockOptions)))
        .inTransientScope()
        .whenNamed(name);
    }
  });
}
