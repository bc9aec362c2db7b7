/** Dependency injection and decorators (inversify). Re-exported from the package root. */
export { ZooKeeper, Recipes, ElectionToken, LockToken } from './tokens.js';
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
