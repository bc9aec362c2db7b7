/**
 * Typed inversify service identifiers: inject with `@inject(ZooKeeper)`, `@inject(Recipes)`,
 * `@inject(Election) @named('billing')`. No string tokens to remember.
 */
import type { ServiceIdentifier } from 'inversify';
import type { ZooKeeperClient } from '../client/client.js';
import type { Election } from '../recipes/election/election.js';
import type { Lock } from '../recipes/lock/lock.js';
import type { ServiceDiscovery } from '../recipes/discovery/service-discovery.js';
import type { ServiceProvider } from '../recipes/discovery/service-provider.js';
import type { RecipeFactory } from './recipe-factory.js';

/**
 * Each token's description carries the hint inversify's own error lacks: a plain `container.get`
 * of a client that is still connecting throws "Unexpected asynchronous service when resolving
 * service <description>".
 */
const ASYNC =
  ' (connects first: resolve it with await container.getAsync(), or use zookeeperModule({ awaitStart: false }))';

/** The container's one `ZooKeeperClient` (a started singleton; resolve with `getAsync`; a plain `get` works once it is connected). */
export const ZooKeeper: ServiceIdentifier<ZooKeeperClient> = Symbol.for(
  `zookeeper-coordination:ZooKeeperClient${ASYNC}`,
);
/** A `RecipeFactory` bound to the container's client. */
export const Recipes: ServiceIdentifier<RecipeFactory> = Symbol.for(`zookeeper-coordination:Recipes${ASYNC}`);
/** Named elections declared in `zookeeperModule({ elections })`: `@inject(ElectionToken) @named('billing')`. */
export const ElectionToken: ServiceIdentifier<Election> = Symbol.for(
  `zookeeper-coordination:Election${ASYNC}`,
);
/** Named locks declared in `zookeeperModule({ locks })`. */
export const LockToken: ServiceIdentifier<Lock> = Symbol.for(`zookeeper-coordination:Lock${ASYNC}`);
/**
 * The container's `ServiceDiscovery` (`zookeeperModule({ discovery, service })`): it registered
 * `service` when the client started and unregisters it when the container is unbound.
 */
export const ServiceDiscoveryToken: ServiceIdentifier<ServiceDiscovery> = Symbol.for(
  `zookeeper-coordination:ServiceDiscovery${ASYNC}`,
);
/** Started providers declared in `zookeeperModule({ providers })`: `@inject(ServiceProviderToken) @named('billing')`. */
export const ServiceProviderToken: ServiceIdentifier<ServiceProvider> = Symbol.for(
  `zookeeper-coordination:ServiceProvider${ASYNC}`,
);
