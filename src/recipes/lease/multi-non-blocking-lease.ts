import type { ZooKeeperClient } from '../../client/client.js';
import { AbortError, InvalidArgumentError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { remaining } from '../../client/retry.js';
import { deadlineOf } from '../change-waiter.js';
import { NonBlockingLease, type NonBlockingLeaseOptions, type ObtainOptions } from './non-blocking-lease.js';

/**
 * MultiNonBlockingLease: up to `count` holders of a time-bounded lease, wire-compatible with
 * kazoo's `MultiNonBlockingLease`: `count` independent `NonBlockingLease`s at `<path>/0` …
 * `<path>/<count-1>`, tried in order; the first slot that is free, expired or already ours wins.
 *
 * Znode layout (kazoo 2.8): `<path>` persistent and empty; for each slot `i`, `<path>/<i>`
 * (decimal) is a full NonBlockingLease directory: `<path>/<i>/lease_holder` (persistent, lease
 * JSON) plus transient `<32hex>__lock__<seq>` lock nodes while someone decides.
 *
 * Note (kazoo semantics): slots are tried from 0, so a holder renewing slot 1 takes slot 0
 * instead if slot 0 has expired meanwhile — and keeps slot 1 until it ends: one identity can
 * occupy two slots for up to one duration.
 *
 * Identity and clocks as `NonBlockingLease` (the default identifier is unique per process).
 * SUSPENDED / LOST: as `NonBlockingLease` — leases are data with an expiry, not session-bound.
 *
 * @example
 *   const lease = await MultiNonBlockingLease.obtain(zk, 3, '/leases/crawlers', 10 * 60_000);
 *   if (lease.isHeld) await crawl(lease.slot!);
 */
export class MultiNonBlockingLease {
  readonly path: string;
  private readonly leases: NonBlockingLease[];
  private obtainedSlot: number | undefined;

  constructor(
    readonly client: ZooKeeperClient,
    readonly count: number,
    path: string,
    readonly durationMs: number,
    options: NonBlockingLeaseOptions = {},
  ) {
    validatePath(path, 'MultiNonBlockingLease');
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new InvalidArgumentError(`count must be a positive integer, got ${String(count)}`, {
        op: 'MultiNonBlockingLease',
        path,
      });
    }
    this.path = path;
    this.leases = Array.from(
      { length: count },
      (_, i) => new NonBlockingLease(client, joinPath(path, String(i)), durationMs, options),
    );
  }

  /** Construct and `obtain()` in one call (kazoo does the work in its constructor). */
  static async obtain(
    client: ZooKeeperClient,
    count: number,
    path: string,
    durationMs: number,
    options: NonBlockingLeaseOptions & ObtainOptions = {},
  ): Promise<MultiNonBlockingLease> {
    const lease = new MultiNonBlockingLease(client, count, path, durationMs, options);
    await lease.obtain(options);
    return lease;
  }

  /** The identifier used for every slot. */
  get identifier(): string {
    return this.leases[0]!.identifier;
  }

  /** The last `obtain()` got (or renewed) a slot (kazoo's `obtained` / truthiness). */
  get obtained(): boolean {
    return this.obtainedSlot !== undefined;
  }

  /** The slot the last `obtain()` got, if any. */
  get slot(): number | undefined {
    return this.obtainedSlot;
  }

  /** The last `obtain()` got a slot and, by our clock, its lease has not ended. */
  get isHeld(): boolean {
    return this.obtainedSlot !== undefined && this.leases[this.obtainedSlot]!.isHeld;
  }

  /** The obtained slot's lease `signal` (see `NonBlockingLease.signal`); aborted when none. */
  get signal(): AbortSignal {
    return this.obtainedSlot === undefined ? AbortSignal.abort() : this.leases[this.obtainedSlot]!.signal;
  }

  /** The obtained slot's fencing token. */
  get fencingToken(): bigint | undefined {
    return this.obtainedSlot === undefined ? undefined : this.leases[this.obtainedSlot]!.fencingToken;
  }

  /** When the obtained slot's lease ends. */
  get end(): Date | undefined {
    return this.obtainedSlot === undefined ? undefined : this.leases[this.obtainedSlot]!.end;
  }

  /**
   * Try slots 0 … count-1 in order; stop at the first obtained. Resolves `true` when one was
   * (see `slot`). `timeout` bounds the whole call; `signal` aborts it with `AbortError`.
   */
  async obtain(options: ObtainOptions = {}): Promise<boolean> {
    const { signal, timeout } = options;
    const deadline = deadlineOf(timeout, { op: 'obtain', path: this.path });
    this.obtainedSlot = undefined;
    for (const [slot, lease] of this.leases.entries()) {
      if (signal?.aborted) throw new AbortError(signal.reason, { op: 'obtain', path: this.path });
      const left = remaining(deadline);
      if (left !== undefined && left <= 0) return false;
      if (await lease.obtain({ signal, timeout: left })) {
        this.obtainedSlot = slot;
        return true;
      }
    }
    return false;
  }
}
