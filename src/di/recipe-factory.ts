import type { ZooKeeperClient } from '../client/client.js';
import { Election, type ElectionOptions } from '../recipes/election/election.js';
import { Lock, type LockOptions } from '../recipes/lock/lock.js';
import { ReadLock, WriteLock, type ReadWriteLockOptions } from '../recipes/lock/read-write-lock.js';
import { Semaphore, type SemaphoreOptions } from '../recipes/semaphore/semaphore.js';

/**
 * One place to make any recipe on one client: what `@inject(Recipes)` gives a service.
 *
 * @example
 *   @injectable() class Billing {
 *     constructor(@inject(Recipes) private readonly recipes: RecipeFactory) {}
 *     run() { return this.recipes.election('/services/billing/leader').run(({ signal }) => this.bill(signal)); }
 *   }
 */
export class RecipeFactory {
  constructor(readonly client: ZooKeeperClient) {}

  lock(path: string, options?: LockOptions): Lock {
    return new Lock(this.client, path, options);
  }

  readLock(path: string, options?: ReadWriteLockOptions): ReadLock {
    return new ReadLock(this.client, path, options);
  }

  writeLock(path: string, options?: ReadWriteLockOptions): WriteLock {
    return new WriteLock(this.client, path, options);
  }

  semaphore(path: string, options?: SemaphoreOptions): Semaphore {
    return new Semaphore(this.client, path, options);
  }

  election(path: string, options?: ElectionOptions): Election {
    return new Election(this.client, path, options);
  }
}
