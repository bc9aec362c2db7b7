/**
 * The inversify module: one `ZooKeeperClient` per container (a singleton, started when first
 * resolved, closed when unbound), a `RecipeFactory`, and optional named elections and locks.
 * The client starts asynchronously, so resolve with `container.getAsync(...)`.
 *
 * @example
 *   const container = new Container();
 *   container.load(zookeeperModule({ hosts: 'zk1:2181,zk2:2181', elections: { billing: '/services/billing/leader' } }));
 *   const billing = await container.getAsync(BillingService); // @inject(ElectionToken) @named('billing')
 *   ...
 *   await container.unbindAllAsync(); // closes the client
 */
import { ContainerModule, type ResolutionContext } from 'inversify';
import { ZooKeeperClient, type ZooKeeperClientOptions } from '../client/client.js';
import type { ElectionOptions } from '../recipes/election/election.js';
import type { LockOptions } from '../recipes/lock/lock.js';
import { RecipeFactory } from './recipe-factory.js';
import { ElectionToken, LockToken, Recipes, ZooKeeper } from './tokens.js';

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
  return typeof entry === 'string' ? { path: entry, options: undefined } : { path: entry.path, options: entry.options };
}

/** Make a recipe from the container's factory, synchronously unless the client starts asynchronously. */
function recipeFactory<T>(context: ResolutionContext, awaitStart: boolean, make: (recipes: RecipeFactory) => T): T | Promise<T> {
  return awaitStart ? context.getAsync(Recipes).then(make) : make(context.get(Recipes));
}

export function zookeeperModule(options: ZooKeeperModuleOptions): ContainerModule {
  const { awaitStart = true, startTimeout, elections = {}, locks = {}, ...clientOptions } = options;
  return new ContainerModule(({ bind, onActivation }) => {
    bind(ZooKeeper)
      .toDynamicValue(() => new ZooKeeperClient(clientOptions))
      .inSingletonScope()
      .onDeactivation((client) => client.close());
    onActivation(ZooKeeper, (_context, client) => {
      if (awaitStart) return client.start({ timeout: startTimeout }).then(() => client);
      // No deadline in the background: a failed start would close the container's client.
      client.start({ timeout: 2 ** 31 - 1 }).catch((error: unknown) => client.logger.error(`ZooKeeper client failed to start: ${String(error)}`));
      return client;
    });
    bind(Recipes)
      .toDynamicValue((context) => (awaitStart ? context.getAsync(ZooKeeper).then((client) => new RecipeFactory(client)) : new RecipeFactory(context.get(ZooKeeper))))
      .inSingletonScope();
    for (const [name, entry] of Object.entries(elections)) {
      const { path, options: electionOptions } = named(entry);
      bind(ElectionToken)
        .toDynamicValue((context) => recipeFactory(context, awaitStart, (recipes) => recipes.election(path, electionOptions)))
        .inSingletonScope()
        .whenNamed(name);
    }
    for (const [name, entry] of Object.entries(locks)) {
      const { path, options: lockOptions } = named(entry);
      bind(LockToken)
        .toDynamicValue((context) => recipeFactory(context, awaitStart, (recipes) => recipes.lock(path, lockOptions)))
        .inSingletonScope()
        .whenNamed(name);
    }
  });
}
