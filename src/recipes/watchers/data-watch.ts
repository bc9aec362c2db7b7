/**
 * DataWatch: call a function with a node's data and Stat now and after every change, across
 * reconnects and session loss — kazoo's `DataWatch` (also a persistent "exists" watch: a missing
 * node is reported as `(null, null)` and its creation as a change).
 *
 * Znode layout: none (read-only).
 *
 * How it works (kazoo 2.8's algorithm): one read at a time — `get` with a one-shot watch; on
 * NoNode an `exists` with the same watch (if the node appeared in between, read again). The
 * function is called on the first read and whenever the version marker (`mzxid`, or "missing")
 * differs from the last read, so a `set` with identical bytes is reported, and a reconnect with
 * nothing changed is not. Every watch event triggers a new read, which re-arms the watch.
 *
 * SUSPENDED: nothing happens (reads made meanwhile wait for the connection). On CONNECTED the
 * node is read again: our client keeps one-shot watches across a reconnect (kazoo drops them),
 * so the re-read is a safety net and duplicates are suppressed by the marker. Changes made while
 * disconnected are reported once, with the latest state (intermediate versions are not replayed).
 * LOST: the watch is gone with the session; the read on the next CONNECTED re-arms it and calls
 * the function only if the node changed (or appeared/disappeared). With `onSessionEvents: true`
 * the function is also told about SUSPENDED / LOST / CONNECTED itself (see the option).
 *
 * Stops when the function returns `false` (exactly), on `stop()`, when the client is closed, or
 * on an error that retrying cannot fix (logged; `stopReason` says which, `error` holds it).
 *
 * Deviations from kazoo: the first call is asynchronous (`await watch.ready`); the third
 * argument is passed when the function declares three parameters or `sendEvent` is set (kazoo
 * tries three arguments and falls back to two on any TypeError); a function may be async — the
 * next read waits for it.
 *
 * @example
 *   const watch = new DataWatch(zk, '/config/feature-flags', (data, stat) => {
 *     flags = data === null ? {} : JSON.parse(data.toString('utf8'));
 *   });
 *   await watch.ready; // the function has run once
 *   // …later
 *   await watch.stop();
 *
 * @example
 *   for await (const { data } of watchData(zk, '/config/feature-flags', { signal })) apply(data);
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { AbortError, ClientClosedError, NoNodeError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import type { Stat } from '../../client/protocol/records.js';
import { ConnectionState, EventType, KeeperState, type WatchEvent, type WatchListener } from '../../client/states.js';
import { RecipeStateError } from '../errors.js';
import { callbackIterator } from './callback-iterator.js';
import { retryForever } from './retry-forever.js';

/**
 * Called with the node's data (`null` when the node does not exist) and Stat (`null` likewise).
 * `event` is the watch event behind the call: `undefined` for the first call and for reads made
 * because of a reconnect; a `None` event carrying the keeper state for session events
 * (`onSessionEvents`). Return `false` to stop watching.
 */
export type DataWatchFunc = (data: Buffer | null, stat: Stat | null, event?: WatchEvent) => unknown;

export interface DataWatchOptions {
  /** Pass the watch event as the third argument. Default: when the function declares 3 parameters. */
  sendEvent?: boolean;
  /**
   * Also call the function on session events, even when the node did not change: on SUSPENDED
   * and on LOST with the last known data/Stat (event `None`, state `CONNECTING` /
   * `EXPIRED_SESSION`: the data may be stale), and after the re-read on every CONNECTED with the
   * fresh data/Stat (event `None`, state `CONNECTED`). Implies `sendEvent`. Default false
   * (kazoo: session events only cause a re-read).
   */
  onSessionEvents?: boolean;
}

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

export class DataWatch {
  readonly path: string;
  /** Resolves once the function has been called the first time (or the watch stopped before). */
  readonly ready: Promise<void>;
  private func: DataWatchFunc | undefined;
  private sendEvent = false;
  private readonly sessionEvents: boolean;
  private readonly sendEventOption: boolean | undefined;
  private stopReasonValue: WatchStopReason | undefined;
  private errorValue: unknown;
  private everCalled = false;
  /** The last read's marker: `mzxid`, `null` for a missing node, `undefined` before the first read. */
  private version: bigint | null | undefined;
  private lastData: Buffer | null = null;
  private lastStat: Stat | null = null;
  /** Serialises reads and calls (kazoo's run lock). */
  private chain: Promise<void> = Promise.resolve();
  private readonly lifetime = new AbortController();
  /** The read in progress, abortable alone (session notifications must not wait for a reconnect). */
  private currentRead: AbortController | undefined;
  private resolveReady!: () => void;
  private resolveStopped!: (reason: WatchStopReason) => void;
  /** Settles once our listener has been taken off the client's watch (after stopping). */
  private removal: Promise<void> = Promise.resolve();
  /** Resolves with the reason once the watch has stopped. */
  readonly stopped: Promise<WatchStopReason>;

  private readonly watcher: WatchListener = (event) => {
    if (isNodeEvent(event)) this.schedule(event);
  };

  private readonly onState = (state: ConnectionState) => {
    if (this.stopReasonValue !== undefined) return;
    if (this.client.closed) {
      this.finish('closed');
      return;
    }
    if (state === ConnectionState.CONNECTED) {
      this.schedule(undefined, this.sessionEvents ? sessionEvent(this.path, KeeperState.CONNECTED) : undefined);
    } else if (this.sessionEvents) {
      // The read in progress would wait for the reconnect; the CONNECTED re-read replaces it.
      this.currentRead?.abort();
      const keeperState = state === ConnectionState.SUSPENDED ? KeeperState.CONNECTING : KeeperState.EXPIRED_SESSION;
      this.enqueue(() => this.call(this.lastData, this.lastStat, sessionEvent(this.path, keeperState)));
    }
  };

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    func?: DataWatchFunc,
    options: DataWatchOptions = {},
  ) {
    validatePath(path, 'DataWatch');
    this.path = path;
    this.sessionEvents = options.onSessionEvents ?? false;
    this.sendEventOption = options.sendEvent;
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    if (func !== undefined) this.watch(func);
  }

  /**
   * Associate the function (kazoo's decorator form) and start: the node is read and the function
   * called. A second function is a `RecipeStateError`. Returns `func`.
   */
  watch<F extends DataWatchFunc>(func: F): F {
    if (typeof func !== 'function') throw new RecipeStateError('DataWatch needs a function', { op: 'DataWatch', path: this.path });
    if (this.func !== undefined || this.stopReasonValue !== undefined) {
      throw new RecipeStateError('a function has already been associated with this DataWatch', { op: 'DataWatch', path: this.path });
    }
    this.func = func;
    this.sendEvent = this.sendEventOption ?? (this.sessionEvents || func.length >= 3);
    if (this.sessionEvents) this.sendEvent = true;
    this.client.on('state', this.onState);
    this.schedule(undefined);
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

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((error: unknown) => {
      this.client.logger.error(`DataWatch ${this.path}: ${(error as Error)?.stack ?? String(error)}`);
    });
  }

  /** Queue a read; `event` is passed to the function, `notify` forces a call after the read. */
  private schedule(event: WatchEvent | undefined, notify?: WatchEvent): void {
    if (this.stopReasonValue !== undefined) return;
    this.enqueue(() => this.getData(event, notify));
  }

  private async getData(event: WatchEvent | undefined, notify: WatchEvent | undefined): Promise<void> {
    if (this.stopReasonValue !== undefined) return;
    const initialVersion = this.version;
    const read = new AbortController();
    this.currentRead = read;
    const signal = AbortSignal.any([this.lifetime.signal, read.signal]);
    let data: Buffer | null;
    let stat: Stat | null;
    try {
      try {
        ({ data, stat } = await retryForever(this.client, () => this.client.get(this.path, { watch: this.watcher, signal }), signal));
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        data = null;
        stat = await retryForever(this.client, () => this.client.exists(this.path, { watch: this.watcher, signal }), signal);
        if (stat !== null) {
          // Created between our get and exists: read it properly.
          this.schedule(event, notify);
          return;
        }
      }
    } catch (error) {
      if (error instanceof AbortError) return; // stopped, or replaced by a session re-read
      if (error instanceof ClientClosedError) this.finish('closed');
      else this.finish('error', error);
      return;
    } finally {
      if (this.currentRead === read) this.currentRead = undefined;
    }
    this.version = stat === null ? null : stat.mzxid;
    this.lastData = data;
    this.lastStat = stat;
    if (initialVersion !== this.version || !this.everCalled) await this.call(data, stat, event);
    else if (notify !== undefined) await this.call(data, stat, notify);
  }

  private async call(data: Buffer | null, stat: Stat | null, event: WatchEvent | undefined): Promise<void> {
    const func = this.func;
    if (this.stopReasonValue !== undefined || func === undefined) return;
    this.everCalled = true;
    try {
      const result = await (this.sendEvent ? func(data, stat, event) : func(data, stat));
      if (result === false) this.finish('func');
    } catch (error) {
      // kazoo logs and carries on (the watch is already re-armed).
      this.client.logger.error(`DataWatch ${this.path}: the function threw: ${(error as Error)?.stack ?? String(error)}`);
    } finally {
      this.resolveReady();
    }
  }

  private finish(reason: WatchStopReason, error?: unknown): void {
    if (this.stopReasonValue !== undefined) return;
    this.stopReasonValue = reason;
    this.errorValue = error;
    if (reason === 'error') this.client.logger.error(`DataWatch ${this.path} stopped: ${String(error)}`);
    this.lifetime.abort();
    this.client.off('state', this.onState);
    if (!this.client.closed) this.removal = this.client.removeWatches(this.path, 'data', this.watcher).catch(() => {});
    this.resolveReady();
    this.resolveStopped(reason);
  }
}

function sessionEvent(path: string, state: KeeperState): WatchEvent {
  return { type: EventType.None, state, path };
}

/** One value of `watchData`. */
export interface DataSnapshot {
  data: Buffer | null;
  stat: Stat | null;
  event: WatchEvent | undefined;
}

export interface WatchDataOptions {
  /** Ends the iteration (cleanly, no error) and removes the watch. */
  signal?: AbortSignal;
  /** As DataWatch's `onSessionEvents`. */
  onSessionEvents?: boolean;
}

/**
 * DataWatch as an async iterator: the current `{ data, stat, event }`, then one value per
 * change. The watch waits while the consumer is busy (at most one value is buffered), so a slow
 * consumer sees the latest state rather than a backlog. Ends when `signal` aborts, the loop is
 * left, or the client is closed; throws the error that stopped the watch otherwise.
 */
export function watchData(client: ZooKeeperClient, path: string, options: WatchDataOptions = {}): AsyncIterableIterator<DataSnapshot> {
  validatePath(path, 'watchData');
  return callbackIterator<DataSnapshot>((push) => {
    const watch = new DataWatch(client, path, (data, stat, event) => push({ data, stat, event }), {
      sendEvent: true,
      onSessionEvents: options.onSessionEvents ?? false,
    });
    return watch;
  }, options.signal);
}
