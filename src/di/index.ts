/**
 * `zookeeper-coordination/di`: the inversify wiring (`zookeeperModule`, tokens, `RecipeFactory`),
 * the `@withLock` / `@leaderOnly` decorators, `LeaderLifecycle` and `Fleet`. Needs the peer
 * dependency `inversify`; classes whose constructor types inversify reads from
 * `emitDecoratorMetadata` also need `import 'reflect-metadata'` once, in the user's program.
 */
export {
  ZooKeeper,
  Recipes,
  ElectionToken,
  LockToken,
  ServiceDiscoveryToken,
  ServiceProviderToken,
} from './tokens.js';
export { RecipeFactory } from './recipe-factory.js';
export { zookeeperModule, type ZooKeeperModuleOptions } from './zookeeper-module.js';
export {
  withLock,
  currentLock,
  type WithLockOptions,
  type HeldLock,
  type LockKindName,
} from './with-lock.js';
export { LeaderLifecycle, leaderOnly, isLeading, type LeaderDuties } from './leader.js';
export { Fleet, type FleetOptions } from './fleet.js';
export { LockUnavailableError, NotLeaderError, ClientNotFoundError } from './errors.js';
export type { AsyncMethod, AsyncMethodDecorator, ClientSource } from './method-decorator.js';
