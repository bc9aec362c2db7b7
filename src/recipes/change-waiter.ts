/**
 * Internals shared by the Lock, Semaphore, Barrier, DoubleBarrier, Counter, Party and Queue
 * recipes (not exported from the package):
 *
 * - `ChangeWaiter`: one "sleep until something may have changed" — a one-shot watch fired, the
 *   connection state changed, the deadline passed or the signal aborted. Our client re-registers
 *   watches after a reconnect (kazoo drops them), so recipes wake on state changes too and treat
 *   every wake-up as possibly spurious (kazoo's recipes re-check after every wake-up, as ZooKeeper's
 *   recipe docs advise: a watch only says "something may have changed"). Watches that did not fire are
 *   removed when the waiter is disposed (no leak like kazoo issue #175).
 * - `whileConnected`: wait for a cleanup only while connected (an answer is never held up by an outage).
 * - `requestLimits`: the per-request `{ timeout, signal }` for a recipe deadline.
 * - `pauseAfterError`: a background loop's answer to an error it did not expect.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { AbortError, type ErrorContext } from '../client/errors.js';
import { remaining, retriesWithinDeadline, settledWithin, type RetryLimits } from '../client/retry.js';
import { checkDuration, startTimer, type Timer } from '../client/timer.js';
import { ConnectionState, type WatchEvent, type WatchListener } from '../client/states.js';

export type Wake = 'watch' | 'state' | 'deadline' | 'abort';

/** A wait's limits: `deadline` is the `Date.now()` value after which it ends with `'deadline'`. */
export type WaitLimits = RetryLimits;

interface Registration {
  path: string;
  kind: 'data' | 'children';
  listener: WatchListener;
  fired: boolean;
}

export class ChangeWaiter implements Disposable {
  private readonly registrations: Registration[] = [];
  private reason: Wake | undefined;
  private resolveWait: ((reason: Wake) => void) | undefined;
  private readonly timer: Timer | undefined;
  private disposed = false;
  /** Every state reported while this waiter lived. */
  readonly states: ConnectionState[] = [];
  private readonly onState = (state: ConnectionState) => {
    this.states.push(state);
    this.wake('state');
  };
  private readonly onAbort = () => this.wake('abort');

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly limits: WaitLimits = {},
  ) {
    client.on('state', this.onState);
    limits.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (limits.deadline !== undefined)
      this.timer = startTimer(Math.max(0, limits.deadline - Date.now()), () => this.wake('deadline'));
    if (limits.signal?.aborted) this.wake('abort');
  }

  /**
   * A fresh listener for one one-shot watch on `path` (pass it as `{ watch }`). Any event wakes
   * the waiter, after `onEvent` has seen it.
   */
  watch(path: string, kind: 'data' | 'children', onEvent?: (event: WatchEvent) => void): WatchListener {
    const registration: Registration = {
      path,
      kind,
      fired: false,
      listener: (event) => {
        registration.fired = true;
        onEvent?.(event);
        this.wake('watch');
      },
    };
    this.registrations.push(registration);
    return registration.listener;
  }

  /** Wake the waiter now (the first reason wins). */
  wake(reason: Wake): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.resolveWait?.(reason);
  }

  /** Why the waiter woke, if it has. */
  get woken(): Wake | undefined {
    return this.reason;
  }

  /** Resolves with the first reason (at once if something already happened since construction). */
  wait(): Promise<Wake> {
    if (this.reason !== undefined) return Promise.resolve(this.reason);
    return new Promise((resolve) => (this.resolveWait = resolve));
  }

  /** Stop listening; remove the watches that did not fire (fire and forget). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.timer?.cancel();
    this.client.off('state', this.onState);
    this.limits.signal?.removeEventListener('abort', this.onAbort);
    for (const registration of this.registrations) {
      if (registration.fired) continue;
      // Gone from the registry at once, connected or not; a read still in flight is cancelled
      // (its reply registers nothing). Nothing matched (the read failed): NoWatcherError, ignored.
      this.client.removeWatches(registration.path, registration.kind, registration.listener).catch(() => {});
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Wait for `work` (its outcome ignored) only while connected and within `limits`: resolves when
 * it settles, when the connection state changes, when the deadline passes or the signal aborts,
 * or at once when not connected. The limits matter over a connection that stopped answering (a
 * partition): it looks connected until its read timeout.
 */
export async function whileConnected(
  client: ZooKeeperClient,
  work: Promise<unknown>,
  limits: WaitLimits = {},
): Promise<void> {
  if (client.state !== ConnectionState.CONNECTED) return;
  const bounded =
    limits.deadline === undefined && limits.signal === undefined ? work : settledWithin(work, limits);
  await new Promise<void>((resolve) => {
    const done = () => {
      client.off('state', done);
      resolve();
    };
    client.on('state', done);
    bounded.then(done, done);
  });
}

/**
 * Per-request options for a step bounded by `deadline`. Once the deadline has passed a request
 * is still made (a `timeout: 0` wait means "one attempt", like kazoo) but fails fast when
 * not connected instead of waiting for the reconnect.
 */
export function requestLimits(limits: WaitLimits): {
  timeout?: number;
  signal?: AbortSignal;
  failFast?: boolean;
} {
  const left = remaining(limits.deadline);
  const options: { timeout?: number; signal?: AbortSignal; failFast?: boolean } = {};
  if (limits.signal) options.signal = limits.signal;
  if (left !== undefined) {
    if (left > 0) options.timeout = left;
    else options.failFast = true;
  }
  return options;
}

/**
 * `deadline` from a `timeout` in ms (0: one attempt; `Infinity`: none). Anything but a number
 * >= 0 is an `InvalidArgumentError`: a NaN deadline would never pass, and a waiting loop would
 * never end.
 */
export function deadlineOf(timeout: number | undefined, context: ErrorContext = {}): number | undefined {
  return timeout === undefined ? undefined : Date.now() + checkDuration(timeout, context);
}

/**
 * The head of one try of a loop bounded by a deadline and a signal (Lock's and Semaphore's
 * acquire loops): `AbortError` (with `context`) once the signal aborted, undefined once the
 * deadline passed, else the options of this try's requests (the time left, the signal).
 */
export function nextTry(
  deadline: number | undefined,
  signal: AbortSignal | undefined,
  context: ErrorContext,
): { timeout: number | undefined; signal: AbortSignal | undefined } | undefined {
  if (signal?.aborted) throw new AbortError(signal.reason, context);
  const left = remaining(deadline);
  return left !== undefined && left <= 0 ? undefined : { timeout: left, signal };
}

/** How long a background loop waits after an unexpected error before it looks again, ms. */
const ERROR_PAUSE = 1000;

/**
 * A background loop's (LeaderLatch's, PersistentNode's) answer to an error of one look: connection
 * trouble is left to the waiter (the state change wakes it); anything else is logged as `what`,
 * then the loop pauses ERROR_PAUSE (or until `signal` aborts) before looking again.
 */
export async function pauseAfterError(
  client: ZooKeeperClient,
  error: unknown,
  what: string,
  signal: AbortSignal,
): Promise<void> {
  if (!retriesWithinDeadline(error)) client.logger.error(`${what}: ${String(error)}; looking again`);
  const waiter = new ChangeWaiter(client, { signal, deadline: Date.now() + ERROR_PAUSE });
  try {
    await waiter.wait();
  } finally {
    waiter.dispose();
  }
}
