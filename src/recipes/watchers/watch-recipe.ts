/**
 * What DataWatch and ChildrenWatch share: one function associated once (kazoo's decorator
 * form), reads serialised on one chain (kazoo's run lock), `ready` / `stopped` promises, and one
 * stop path that removes our listener from the client's watch. Subclasses say how to read and
 * what a connection-state change means.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import { EventType, type ConnectionState, type WatchEvent, type WatchListener } from '../../client/states.js';
import { RecipeStateError } from '../errors.js';

/** Why a watch stopped. */
export type WatchStopReason = 'func' | 'stopped' | 'closed' | 'error' | 'nonode' | 'sessionLost';

/** The node events that mean "read again" (not `None`, not the *WatchRemoved ones). */
export function isNodeEvent(event: WatchEvent): boolean {
  return (
    event.type === EventType.NodeCreated ||
    event.type === EventType.NodeDeleted ||
    event.type === EventType.NodeDataChanged ||
    event.type === EventType.NodeChildrenChanged
  );
}

export abstract class WatchRecipe<F extends (...args: never[]) => unknown> implements AsyncDisposable {
  readonly path: string;
  /** Resolves once the function has been called the first time (or the watch stopped before). */
  readonly ready: Promise<void>;
  /** Resolves with the reason once the watch has stopped. */
  readonly stopped: Promise<WatchStopReason>;
  protected func: F | undefined;
  /** Aborted when the watch stops: ends the read in progress. */
  protected readonly lifetime = new AbortController();
  private stopReasonValue: WatchStopReason | undefined;
  private errorValue: unknown;
  /** Serialises reads and calls (kazoo's run lock). */
  private chain: Promise<void> = Promise.resolve();
  private resolveReady!: () => void;
  private resolveStopped!: (reason: WatchStopReason) => void;
  /** Settles once our listener has been taken off the client's watch (after stopping). */
  private removal: Promise<void> = Promise.resolve();

  /** The one-shot watch listener every read re-arms: a node event means "read again". */
  protected readonly watcher: WatchListener = (event) => {
    if (isNodeEvent(event)) this.onNodeEvent(event);
  };

  private readonly onState = (state: ConnectionState) => {
    if (this.stopReasonValue !== undefined) return;
    if (this.client.closed) this.finish('closed');
    else this.onConnectionState(state);
  };

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    private readonly kind: 'DataWatch' | 'ChildrenWatch',
    private readonly watchType: 'data' | 'children',
  ) {
    validatePath(path, kind);
    this.path = path;
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  /**
   * Associate the function (kazoo's decorator form) and start: the node is read and the function
   * called. A second function is a `RecipeStateError`. Returns `func`.
   */
  watch<G extends F>(func: G): G {
    if (typeof func !== 'function')
      throw new InvalidArgumentError(`${this.kind} needs a function, got ${typeof func}`, {
        op: this.kind,
        path: this.path,
      });
    if (this.func !== undefined || this.stopReasonValue !== undefined) {
      throw new RecipeStateError(`a function has already been associated with this ${this.kind}`, {
        op: this.kind,
        path: this.path,
      });
    }
    this.func = func;
    this.started(func);
    this.client.on('state', this.onState);
    this.onNodeEvent(undefined);
    return func;
  }

  /** Why the watch stopped, or `undefined` while it runs. */
  get stopReason(): WatchStopReason | undefined {
    return this.stopReasonValue;
  }

  /** The error that stopped the watch (`stopReason === 'error'`). */
  get error(): unknown {
    return this.errorValue;
  }

  /**
   * Stop watching: no further calls (a call in progress finishes); our watch listener is
   * removed from the client. May be called from inside the function.
   */
  async stop(): Promise<void> {
    this.finish('stopped');
    await this.removal;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** A function was associated (before the first read). */
  protected started(_func: F): void {}

  /** Read again (`undefined`: the first read, or one caused by a reconnect). */
  protected abstract onNodeEvent(event: WatchEvent | undefined): void;

  /** The connection state changed (the client is not closed, the watch not stopped). */
  protected abstract onConnectionState(state: ConnectionState): void;

  protected get isStopped(): boolean {
    return this.stopReasonValue !== undefined;
  }

  /** Run `task` after everything queued before it; a failure is logged. */
  protected enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((error: unknown) => {
      this.client.logger.error(`${this.kind} ${this.path}: ${(error as Error)?.stack ?? String(error)}`);
    });
  }

  /** Call the function; `false` stops the watch, a throw is logged (the watch is already re-armed). */
  protected async invoke(call: (func: F) => unknown): Promise<void> {
    const func = this.func;
    if (this.stopReasonValue !== undefined || func === undefined) return;
    try {
      if ((await call(func)) === false) this.finish('func');
    } catch (error) {
      this.client.logger.error(
        `${this.kind} ${this.path}: the function threw: ${(error as Error)?.stack ?? String(error)}`,
      );
    } finally {
      this.resolveReady();
    }
  }

  protected finish(reason: WatchStopReason, error?: unknown): void {
    if (this.stopReasonValue !== undefined) return;
    this.stopReasonValue = reason;
    this.errorValue = error;
    if (reason === 'error') this.client.logger.error(`${this.kind} ${this.path} stopped: ${String(error)}`);
    this.lifetime.abort();
    this.client.off('state', this.onState);
    if (!this.client.closed)
      this.removal = this.client.removeWatches(this.path, this.watchType, this.watcher).catch(() => {});
    this.resolveReady();
    this.resolveStopped(reason);
  }
}
