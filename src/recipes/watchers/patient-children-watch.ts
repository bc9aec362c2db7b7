import type { ZooKeeperClient } from '../../client/client.js';
import { AbortError, InvalidArgumentError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import { sleep } from '../../client/retry.js';
import { ConnectionState, type WatchEvent, type WatchListener } from '../../client/states.js';
import { RecipeStateError } from '../errors.js';
import { isNodeEvent } from './data-watch.js';
import { retryForever } from './retry-forever.js';

/** What settled `changed`. */
export interface ChildrenChange {
  /** `Date.now()` when the change was seen (kazoo resolves with `time.time()`). */
  at: number;
  /** A node event (`children`), a connection state (`SUSPENDED` / `LOST`), or `cancelled` (the start signal aborted). */
  reason: 'children' | 'SUSPENDED' | 'LOST' | 'cancelled';
  /** The watch event, for `reason: 'children'`. */
  event?: WatchEvent;
}

/** What `PatientChildrenWatch.start()` resolves with: the stable children and a promise of their next change. */
export interface PatientChildrenResult {
  /** The children, unchanged for the time boundary. */
  children: string[];
  /** Settles at the next change after the result (never rejects). */
  changed: Promise<ChildrenChange>;
  /** Aborts at the same moment `changed` settles (its reason is the ChildrenChange). */
  signal: AbortSignal;
}

/** Options of `PatientChildrenWatch.start()`: a signal. */
export interface PatientStartOptions {
  /**
   * Abort the wait (`start()` rejects with `AbortError`), and afterwards stop watching
   * (`changed` settles with `reason: 'cancelled'`; the watch listener is removed).
   */
  signal?: AbortSignal;
}

/**
 * PatientChildrenWatch: wait until a node's children have stayed unchanged for a time boundary,
 * then report them once, with a promise that settles at the next change — kazoo's
 * `PatientChildrenWatch` (SetPartitioner uses it to wait for a stable party).
 *
 * Znode layout: none (read-only).
 *
 * How it works (kazoo 2.8's algorithm): loop { read the children with a fresh one-shot watch
 * (retried forever, through connection and session loss); sleep `timeBoundaryMs`; if the watch
 * fired meanwhile, go again } and resolve with the last list. The watch of the last round stays
 * armed and settles `changed` when it fires.
 *
 * SUSPENDED / LOST count as a change, as in kazoo (where every disconnect fires each watch with a
 * NONE event): a connection blip while waiting restarts the wait, and one after the result
 * settles `changed` (`reason: 'SUSPENDED' | 'LOST'`). Our client would keep the watch across a
 * reconnect; the state listener restores kazoo's behaviour, which the partitioner relies on.
 *
 * Errors: a non-transient error (e.g. `NoNodeError` when the node is missing) rejects `start()`.
 *
 * @example
 *   const { children, changed } = await new PatientChildrenWatch(zk, '/party', 5_000).start();
 *   console.log('stable members', children);
 *   await changed; // somebody joined or left (or the connection blinked)
 */
export class PatientChildrenWatch {
  readonly path: string;
  private started = false;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    readonly timeBoundaryMs = 30_000,
  ) {
    validatePath(path, 'PatientChildrenWatch');
    if (typeof timeBoundaryMs !== 'number' || !Number.isFinite(timeBoundaryMs) || timeBoundaryMs < 0) {
      throw new InvalidArgumentError(`timeBoundaryMs must be a number >= 0, got ${String(timeBoundaryMs)}`, {
        op: 'PatientChildrenWatch',
        path,
      });
    }
    this.path = path;
  }

  /** Wait for stable children (see the module comment). One call per instance. */
  async start(options: PatientStartOptions = {}): Promise<PatientChildrenResult> {
    if (this.started)
      throw new RecipeStateError('this PatientChildrenWatch was already started', {
        op: 'start',
        path: this.path,
      });
    this.started = true;
    const { signal } = options;
    let changedFlag = false;
    for (;;) {
      if (signal?.aborted)
        throw new AbortError(signal.reason, { op: 'PatientChildrenWatch', path: this.path });
      const round = new Round(this.client, this.path, () => (changedFlag = true));
      let children: string[];
      try {
        children = await retryForever(
          this.client,
          () => this.client.getChildren(this.path, { watch: round.watcher, signal }),
          signal,
        );
        await sleep(this.timeBoundaryMs, signal);
      } catch (error) {
        round.cancel();
        throw error instanceof AbortError
          ? new AbortError(signal?.reason, { op: 'PatientChildrenWatch', path: this.path })
          : error;
      }
      if (changedFlag) {
        changedFlag = false;
        round.cancel();
        round.dropWatch(); // a blink may have fired the round before the read's watch was set
        continue;
      }
      if (signal) {
        const onAbort = () => round.cancel();
        if (signal.aborted) onAbort();
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          void round.changed.then(() => signal.removeEventListener('abort', onAbort));
        }
      }
      return { children, changed: round.changed, signal: round.signal };
    }
  }
}

/** One read's watch: the one-shot watch plus the state listener, settling `changed` once. */
class Round {
  readonly changed: Promise<ChildrenChange>;
  private readonly controller = new AbortController();
  private settle!: (change: ChildrenChange) => void;
  private done = false;

  readonly watcher: WatchListener = (event) => {
    if (isNodeEvent(event)) this.fire({ at: Date.now(), reason: 'children', event });
  };

  private readonly onState = (state: ConnectionState) => {
    if (state === ConnectionState.SUSPENDED || state === ConnectionState.LOST)
      this.fire({ at: Date.now(), reason: state });
  };

  constructor(
    private readonly client: ZooKeeperClient,
    private readonly path: string,
    private readonly onChange: () => void,
  ) {
    this.changed = new Promise((resolve) => (this.settle = resolve));
    client.on('state', this.onState);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private fire(change: ChildrenChange): void {
    if (this.done) return;
    this.onChange();
    this.end(change);
  }

  /** Stop watching; `changed` settles with `cancelled` if nothing happened before. */
  cancel(): void {
    if (this.done) return;
    this.end({ at: Date.now(), reason: 'cancelled' });
  }

  /** Take our listener off the one-shot watch if it is still armed (no request when it is not). */
  dropWatch(): void {
    if (!this.client.closed) this.client.removeWatches(this.path, 'children', this.watcher).catch(() => {});
  }

  private end(change: ChildrenChange): void {
    this.done = true;
    this.client.off('state', this.onState);
    if (change.reason !== 'children') this.dropWatch();
    this.settle(change);
    this.controller.abort(change);
  }
}
