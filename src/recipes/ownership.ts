/**
 * Ownership of a held resource (lock, semaphore lease, leadership) as the client's state sees
 * it: `signal` aborts when ownership may have been lost — on SUSPENDED (default) or only on
 * LOST — and when the resource is released. A new live signal is armed when the same session
 * reconnects. On LOST the resource is gone with the session's ephemeral nodes: `onLost` runs
 * at once so the recipe's `isAcquired` turns false before any other listener looks.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { ConnectionLossError } from '../client/errors.js';
import { ConnectionState } from '../client/states.js';
import { LockLostError, NotHeldError } from './errors.js';

export class Ownership {
  private controller = new AbortController();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly path: string,
    /** What is held, for messages: "lock", "semaphore lease". */
    private readonly what: string,
    private readonly lostOn: 'SUSPENDED' | 'LOST',
  ) {
    this.controller.abort(new NotHeldError({ path }, `the ${what} is not held`));
  }

  /** Aborted unless held and, as far as the client knows, still ours. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Start holding. `onLost` runs when the session is lost, unless the resource survives it
   * (`survivesSessionLoss`: a persistent lock node).
   */
  hold(onLost: () => void, survivesSessionLoss = false): void {
    this.controller = new AbortController();
    const onState = (state: ConnectionState) => {
      if (state === ConnectionState.LOST && !survivesSessionLoss) {
        this.end();
        onLost();
        // After SUSPENDED the signal already fired; arm a new one so its reason says LOST.
        if (this.controller.signal.aborted) this.controller = new AbortController();
        this.controller.abort(new LockLostError({ path: this.path }, `the session was lost: the ${this.what} is no longer held`));
      } else if (state === ConnectionState.SUSPENDED && this.lostOn === 'SUSPENDED') {
        this.controller.abort(new ConnectionLossError({ path: this.path }, `the connection is suspended: the ${this.what} may be lost`));
      } else if (state === ConnectionState.CONNECTED && this.controller.signal.aborted) {
        this.controller = new AbortController(); // the same session: still ours
      }
    };
    this.client.on('state', onState);
    this.unsubscribe = () => this.client.off('state', onState);
  }

  /** Stop holding: the signal fires with "released". */
  release(): void {
    this.end();
    this.controller.abort(new NotHeldError({ path: this.path }, `the ${this.what} was released`));
  }

  private end(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
