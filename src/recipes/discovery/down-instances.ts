/**
 * curator-x-discovery's `DownInstanceManager`: the instances a ServiceProvider was told failed
 * (`noteError`) too often recently, which it skips for a while. Not exported from the package.
 */
import { InvalidArgumentError } from '../../client/errors.js';
import { checkDuration } from '../../client/timer.js';
import type { ServiceInstance } from './service-instance.js';

/**
 * When an instance counts as down (Curator's `DownInstancePolicy`): `errorThreshold` errors
 * noted within `timeout` ms of the first one. Default 30000 ms and 2 errors, Curator's.
 *
 * @example
 *   new ServiceProvider(discovery, 'billing', { downInstancePolicy: { timeout: 10_000, errorThreshold: 3 } });
 */
export interface DownInstancePolicy {
  timeout?: number;
  errorThreshold?: number;
}

/**
 * Errors per instance (by id; Curator keys by the whole instance, so an update of its data
 * forgot them), each count kept for `timeout` ms after its first error.
 */
export class DownInstances {
  private readonly timeout: number;
  private readonly threshold: number;
  private readonly errors = new Map<string, { since: number; count: number }>();

  constructor(policy: DownInstancePolicy = {}) {
    const context = { op: 'downInstancePolicy' };
    this.timeout = checkDuration(policy.timeout ?? 30_000, context);
    this.threshold = policy.errorThreshold ?? 2;
    if (!Number.isInteger(this.threshold) || this.threshold < 1)
      throw new InvalidArgumentError(
        `errorThreshold must be an integer >= 1, got ${String(this.threshold)}`,
        context,
      );
  }

  /** One more error of `instance`. */
  add(instance: ServiceInstance<unknown>): void {
    const now = Date.now();
    const status = this.current(instance.id, now);
    if (status) status.count++;
    else this.errors.set(instance.id, { since: now, count: 1 });
  }

  /** Whether `instance` is usable: fewer errors than the threshold since the window began. */
  up(instance: ServiceInstance<unknown>): boolean {
    return (this.current(instance.id, Date.now())?.count ?? 0) < this.threshold;
  }

  private current(id: string, now: number): { since: number; count: number } | undefined {
    const status = this.errors.get(id);
    if (status && now - status.since >= this.timeout) {
      this.errors.delete(id);
      return undefined;
    }
    return status;
  }
}
