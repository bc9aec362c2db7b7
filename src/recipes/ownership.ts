/**
 * Ownership of a held resource (lock, semaphore lease, leadership) as the client's state sees
 * it: `signal` aborts when ownership may have been lost — on SUSPENDED (default) or only on
 * LOST — and when the resource is released. A new live signal is armed when the same session
 * reconnects. On LOST the resource is not ours any more — its ephemeral node belongs to the lost
 * session, even while the server, whose expiry lags our LOST timer, still lists it (`OwnNode`
 * never adopts it): `onLost` runs at once so the recipe's `isAcquired` turns false before any
 * other listener looks.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { ConnectionLossError } from '../client/errors.js';
import { ConnectionState } from '../client/states.js';
import { LockLostError, NotHeldError } from './errors.js';

export class Ownership {
  /**
   * Made when `signal` is first read: most holders never read it, and an AbortController plus
   * an abort reason per acquisition is a measurable share of an uncontended lock's cost.
   */
  private controller: AbortController | undefined;
  /** Why the resource is not (or may not be) ours; undefined while held and connected. */
  private lapse: (() => Error) | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly path: string,
    /** What is held, for messages: "lock", "semaphore lease". */
    private readonly what: string,
    private readonly lostOn: 'SUSPENDED' | 'LOST',
  ) {
    this.lapse = () => new NotHeldError({ path }, `the ${what} is not held`);
  }

  /** Aborted unless held and, as far as the client knows, still ours. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.lapse) this.controller.abort(this.lapse());
    }
    return this.controller.signal;
  }

  /**
   * Start holding. `onLost` runs when the session is lost, unless the resource survives it
   * (`survivesSessionLoss`: a persistent lock node).
   */
  hold(onLost: () => void, survivesSessionLoss = false): void {
    this.holdUntilReleased();
    const onState = (state: ConnectionState) => {
      if (state === ConnectionState.LOST && !survivesSessionLoss) {
        this.end();
        onLost();
        // After SUSPENDED the signal already fired; a new one's reason says LOST.
        if (this.controller?.signal.aborted) this.controller = undefined;
        this.lapsed(
          () =>
            new LockLostError(
              { path: this.path },
              `the session was lost: the ${this.what} is no longer held`,
            ),
        );
      } else if (state === ConnectionState.SUSPENDED && this.lostOn === 'SUSPENDED') {
        this.lapsed(
          () =>
            new ConnectionLossError(
              { path: this.path },
              `the connection is suspended: the ${this.what} may be lost`,
            ),
        );
      } else if (state === ConnectionState.CONNECTED && this.lapse !== undefined) {
        // The same session: still ours. The next read of `signal` gets a live one.
        this.lapse = undefined;
        if (this.controller?.signal.aborted) this.controller = undefined;
      }
    };
    this.client.on('state', onState);
    this.unsubscribe = () => this.client.off('state', onState);
  }

  /**
   * Start holding without watching the client's state: the owner reports every lapse through
   * `release(reason)` (a LeaderLatch, whose leadership itself ends on SUSPENDED/LOST).
   */
  holdUntilReleased(): void {
    this.lapse = undefined;
    this.controller = undefined;
  }

  /** Stop holding: the signal fires with `reason` (default: "released"). */
  release(reason?: () => Error): void {
    this.end();
    this.lapsed(reason ?? (() => new NotHeldError({ path: this.path }, `the ${this.what} was released`)));
  }

  /** Record why ownership lapsed; a signal already handed out fires now (its first reason stays). */
  private lapsed(reason: () => Error): void {
    this.lapse = reason;
    if (this.controller !== undefined && !this.controller.signal.aborted) this.controller.abort(reason());
  }

  private end(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
