import type { ZooKeeperClient } from '../../client/client.js';
import { AbortError, NoNodeError, TimeoutError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import { pause, retriesWithinDeadline, withinDeadline } from '../../client/retry.js';
import { ChangeWaiter, deadlineOf, requestLimits } from '../change-waiter.js';

/** Reserved: kazoo's Barrier has no options. */
export type BarrierOptions = Record<string, never>;

/** Options of `Barrier.wait`: timeout and signal. */
export interface BarrierWaitOptions {
  /** Give up after this many ms and resolve `false` (`0`: check once). Default: wait forever. */
  timeout?: number;
  /** Abort the wait: rejects with `AbortError`. */
  signal?: AbortSignal;
}

/** Per-call options of a Barrier's calls: timeout and signal. */
export interface BarrierCallOptions {
  /** Give up after this many ms with `TimeoutError`. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * Barrier: a gate, wire-compatible with kazoo's `Barrier`. While `<path>` exists, `wait()`
 * blocks; deleting it (`remove()`) releases every waiter.
 *
 * Znode layout (kazoo 2.8): `<path>` persistent, empty data (created with its ancestors). Nothing
 * else: a kazoo process and this class can raise, wait on and remove the same barrier.
 *
 * SUSPENDED: a waiter keeps waiting; its `exists` watch is re-registered on reconnect (and the
 * barrier is re-checked then), so a removal during the disconnection is still noticed (kazoo's
 * watch is dropped: its `wait()` can hang). `create()`/`remove()` wait for the reconnect.
 * LOST: the barrier node is persistent and unaffected; waiters re-check in the new session.
 *
 * Deviations from kazoo (none on the wire): `wait()` retries connection loss instead of raising
 * it; `timeout` is in ms and `signal` aborts (`AbortError`).
 *
 * @example
 *   const gate = new Barrier(zk, '/deploy/gate');
 *   await gate.create();                                   // coordinator raises it
 *   if (await gate.wait({ timeout: 60_000 })) startWork(); // workers wait for its removal
 *   await gate.remove();                                   // coordinator: go
 */
export class Barrier {
  readonly path: string;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    _options: BarrierOptions = {},
  ) {
    validatePath(path, 'Barrier');
    this.path = path;
  }

  /** Raise the barrier (create `<path>` and its ancestors; fine if it exists). Retries connection loss. */
  async create(options: BarrierCallOptions = {}): Promise<void> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    await withinDeadline(() => this.client.ensurePath(this.path, requestLimits(limits)), limits);
  }

  /**
   * Remove the barrier, releasing every waiter. Resolves `false` when it did not exist (also when
   * an earlier attempt of this call deleted it but its reply was lost, as in kazoo).
   */
  async remove(options: BarrierCallOptions = {}): Promise<boolean> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    try {
      await withinDeadline(() => this.client.delete(this.path, requestLimits(limits)), limits);
      return true;
    } catch (error) {
      if (error instanceof NoNodeError) return false;
      throw error;
    }
  }

  /**
   * Resolve `true` once the barrier is down (at once if it does not exist), `false` when
   * `timeout` ms pass first. Connection loss is retried; a removal while disconnected is seen
   * after the reconnect.
   */
  async wait(options: BarrierWaitOptions = {}): Promise<boolean> {
    const { signal } = options;
    const deadline = deadlineOf(options.timeout);
    for (let first = true; ; first = false) {
      if (signal?.aborted) throw new AbortError(signal.reason, { op: 'wait', path: this.path });
      if (!first && deadline !== undefined && Date.now() >= deadline) return false;
      const waiter = new ChangeWaiter(this.client, { deadline, signal });
      try {
        let present: boolean;
        try {
          present =
            (await this.client.exists(this.path, {
              watch: waiter.watch(this.path, 'data'),
              ...requestLimits({ deadline, signal }),
            })) !== null;
        } catch (error) {
          if (error instanceof TimeoutError && !retriesWithinDeadline(error, deadline)) return false;
          if (!retriesWithinDeadline(error, deadline)) throw error;
          // The next request waits for the reconnect; the pause only matters for one that fails at once (failFast).
          await pause(deadline, signal);
          continue;
        }
        if (!present) return true;
        const reason = await waiter.wait();
        if (reason === 'abort') throw new AbortError(signal?.reason, { op: 'wait', path: this.path });
        if (reason === 'deadline') return false;
      } finally {
        waiter.dispose();
      }
    }
  }
}
