import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError, NoNodeError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import { withinDeadline } from '../../client/retry.js';
import { deadlineOf, requestLimits, type WaitLimits } from '../change-waiter.js';
import { Lock } from '../lock/lock.js';
import { checkInt64, decodeInt64, encodeInt64 } from './curator-codec.js';
import { ABSENT, provenWrite } from './proven-write.js';
import type { SharedCallOptions } from './shared-value.js';

/** Curator's `AtomicValue`: whether the operation applied, and the values before and after. */
export interface AtomicValue<T> {
  succeeded: boolean;
  preValue: T;
  postValue: T;
}

/** Curator's `PromotedToLock`: after the optimistic tries fail, take this mutex and try again. */
export interface PromotedToLock {
  /** The `InterProcessMutex` path (Curator's layout: `_c_<uuid>-lock-<seq>` contenders). */
  path: string;
  /** How long to wait for the mutex, ms. Default: no limit (Curator's `maxLockTime` -1). */
  maxLockTime?: number;
  /** Tries while holding the mutex. Default 3. */
  tries?: number;
}

/** Options of `new DistributedAtomicLong(...)`. */
export interface DistributedAtomicLongOptions {
  /** Optimistic tries before giving up (or promoting to the lock). Default 10 (Curator users' RetryNTimes). */
  tries?: number;
  /** Promote to a mutex after the optimistic tries fail. */
  promotedToLock?: PromotedToLock;
}

/**
 * DistributedAtomicLong: Curator's `DistributedAtomicLong` — a 64-bit counter changed by
 * compare-and-set, first optimistically, then (with `promotedToLock`) while holding a mutex.
 *
 * Znode layout (Curator 5): `<path>` persistent, data = the value as 8 bytes big-endian
 * (`valueToBytes`); a missing or empty node reads as 0; an operation on a missing node creates it
 * (parents too). The optional lock is an `InterProcessMutex` at `promotedToLock.path`
 * (`_c_<uuid>-lock-<seq>`): our `Lock` with `naming: 'curator'`. Our instance and Curator's on
 * one path add up exactly.
 *
 * Unlike Curator, a write whose reply was lost is not retried blindly: it is proven applied or
 * not by a marker child (`proven-write.ts`), else the call rejects with `OutcomeUnknownError`.
 * `succeeded: false` means no try applied (conflicts used up the tries).
 *
 * SUSPENDED: calls wait for the reconnect (within their `timeout`). LOST: they go on in the new
 * session (the node is persistent); the lock, if held, is released and the call's writes are
 * proven as above.
 *
 * @example
 *   const hits = new DistributedAtomicLong(zk, '/stats/hits', { promotedToLock: { path: '/locks/hits' } });
 *   const { succeeded, postValue } = await hits.increment();
 *   if (succeeded) console.log(`hit number ${postValue}`);
 */
export class DistributedAtomicLong {
  readonly path: string;
  private readonly tries: number;
  private readonly promoted: PromotedToLock | undefined;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: DistributedAtomicLongOptions = {},
  ) {
    validatePath(path, 'DistributedAtomicLong');
    this.path = path;
    this.tries = options.tries ?? 10;
    if (!Number.isInteger(this.tries) || this.tries < 1)
      throw new InvalidArgumentError('tries must be a positive integer', {
        op: 'DistributedAtomicLong',
        path,
      });
    this.promoted = options.promotedToLock;
    if (this.promoted) validatePath(this.promoted.path, 'DistributedAtomicLong');
  }

  /** The current value (0 when the node is missing or empty). */
  async get(options: SharedCallOptions = {}): Promise<AtomicValue<bigint>> {
    const { value } = await this.read(this.limits(options));
    return { succeeded: true, preValue: value, postValue: value };
  }

  /** Add `delta` (a bigint): optimistic tries, then the mutex if `promotedToLock`. */
  async add(delta: bigint, options: SharedCallOptions = {}): Promise<AtomicValue<bigint>> {
    checkInt64(delta, 'a delta');
    return this.change((previous) => BigInt.asIntN(64, previous + delta), options);
  }

  /** Subtract `delta`. */
  async subtract(delta: bigint, options: SharedCallOptions = {}): Promise<AtomicValue<bigint>> {
    checkInt64(delta, 'a delta');
    return this.change((previous) => BigInt.asIntN(64, previous - delta), options);
  }

  /** Add 1. */
  async increment(options: SharedCallOptions = {}): Promise<AtomicValue<bigint>> {
    return this.add(1n, options);
  }

  /** Subtract 1. */
  async decrement(options: SharedCallOptions = {}): Promise<AtomicValue<bigint>> {
    return this.add(-1n, options);
  }

  /** Set `newValue` whatever the value is (tries as `add`). */
  async trySet(newValue: bigint, options: SharedCallOptions = {}): Promise<AtomicValue<bigint>> {
    checkInt64(newValue);
    return this.change(() => newValue, options);
  }

  /**
   * Set `newValue` only if the value is `expected` (one try, as Curator: a missing node never
   * matches).
   */
  async compareAndSet(
    expected: bigint,
    newValue: bigint,
    options: SharedCallOptions = {},
  ): Promise<AtomicValue<bigint>> {
    checkInt64(expected);
    checkInt64(newValue);
    const limits = this.limits(options);
    const { value, version } = await this.read(limits);
    if (version === ABSENT || value !== expected)
      return { succeeded: false, preValue: value, postValue: value };
    const written = await provenWrite(
      this.client,
      this.path,
      version,
      encodeInt64(newValue),
      limits,
      'compareAndSet',
    );
    return { succeeded: written !== undefined, preValue: value, postValue: written ? newValue : value };
  }

  /** Create the node holding `value` unless it exists; true when this call created it. */
  async initialize(value: bigint, options: SharedCallOptions = {}): Promise<boolean> {
    checkInt64(value);
    const written = await provenWrite(
      this.client,
      this.path,
      ABSENT,
      encodeInt64(value),
      this.limits(options),
      'initialize',
    );
    return written !== undefined;
  }

  private limits(options: SharedCallOptions): WaitLimits {
    return { deadline: deadlineOf(options.timeout, { path: this.path }), signal: options.signal };
  }

  private async read(limits: WaitLimits): Promise<{ value: bigint; version: number }> {
    try {
      const { data, stat } = await withinDeadline(
        () => this.client.get(this.path, requestLimits(limits)),
        limits,
      );
      return { value: decodeInt64(data, this.path), version: stat.version };
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      return { value: 0n, version: ABSENT };
    }
  }

  /** One try: read, then a proven write at the read version (or a create). */
  private async tryOnce(
    make: (previous: bigint) => bigint,
    limits: WaitLimits,
  ): Promise<AtomicValue<bigint>> {
    const { value, version } = await this.read(limits);
    const next = make(value);
    const written = await provenWrite(this.client, this.path, version, encodeInt64(next), limits, 'add');
    return { succeeded: written !== undefined, preValue: value, postValue: written ? next : value };
  }

  private async change(
    make: (previous: bigint) => bigint,
    options: SharedCallOptions,
  ): Promise<AtomicValue<bigint>> {
    const limits = this.limits(options);
    let result: AtomicValue<bigint> | undefined;
    for (let i = 0; i < this.tries; i++) {
      result = await this.tryOnce(make, limits);
      if (result.succeeded) return result;
    }
    if (!this.promoted) return result!;
    await using mutex = new Lock(this.client, this.promoted.path, { naming: 'curator' });
    const timeout = this.promoted.maxLockTime;
    if (
      !(await mutex.acquire({
        ...(timeout === undefined ? {} : { timeout }),
        ...(limits.signal ? { signal: limits.signal } : {}),
      }))
    )
      return result!;
    for (let i = 0; i < (this.promoted.tries ?? 3); i++) {
      result = await this.tryOnce(make, limits);
      if (result.succeeded) return result;
    }
    return result!;
  }
}
