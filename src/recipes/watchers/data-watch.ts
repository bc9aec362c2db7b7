import type { ZooKeeperClient } from '../../client/client.js';
import { AbortError, ClientClosedError, NoNodeError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import type { Stat } from '../../client/protocol/records.js';
import { ConnectionState, EventType, KeeperState, type WatchEvent } from '../../client/states.js';
import { callbackIterator } from './callback-iterator.js';
import { retryForever } from './retry-forever.js';
import { WatchRecipe } from './watch-recipe.js';

/**
 * Called with the node's data (`null` when the node does not exist) and Stat (`null` likewise).
 * `event` is the watch event behind the call: `undefined` for the first call and for reads made
 * because of a reconnect; a `None` event carrying the keeper state for session events
 * (`onSessionEvents`). Return `false` to stop watching.
 */
export type DataWatchFunc = (data: Buffer | null, stat: Stat | null, event?: WatchEvent) => unknown;

/** Options of `new DataWatch(...)`: whether the callback also receives the watch event (kazoo's `send_event`). */
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

export { isNodeEvent, type WatchStopReason } from './watch-recipe.js';

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
export class DataWatch extends WatchRecipe<DataWatchFunc> {
  private sendEvent = false;
  private readonly sessionEvents: boolean;
  private readonly sendEventOption: boolean | undefined;
  private everCalled = false;
  /** The last read's marker: `mzxid`, `null` for a missing node, `undefined` before the first read. */
  private version: bigint | null | undefined;
  private lastData: Buffer | null = null;
  private lastStat: Stat | null = null;
  /** The read in progress, abortable alone (session notifications must not wait for a reconnect). */
  private currentRead: AbortController | undefined;

  constructor(client: ZooKeeperClient, path: string, func?: DataWatchFunc, options: DataWatchOptions = {}) {
    super(client, path, 'DataWatch', 'data');
    this.sessionEvents = options.onSessionEvents ?? false;
    this.sendEventOption = options.sendEvent;
    if (func !== undefined) this.watch(func);
  }

  protected override started(func: DataWatchFunc): void {
    this.sendEvent = this.sessionEvents || (this.sendEventOption ?? func.length >= 3);
  }

  protected override onNodeEvent(event: WatchEvent | undefined): void {
    this.schedule(event);
  }

  protected override onConnectionState(state: ConnectionState): void {
    if (state === ConnectionState.CONNECTED) {
      this.schedule(
        undefined,
        this.sessionEvents ? sessionEvent(this.path, KeeperState.CONNECTED) : undefined,
      );
    } else if (this.sessionEvents) {
      // The read in progress would wait for the reconnect; the CONNECTED re-read replaces it.
      this.currentRead?.abort();
      const keeperState =
        state === ConnectionState.SUSPENDED ? KeeperState.CONNECTING : KeeperState.EXPIRED_SESSION;
      this.enqueue(() => this.call(this.lastData, this.lastStat, sessionEvent(this.path, keeperState)));
    }
  }

  /** Queue a read; `event` is passed to the function, `notify` forces a call after the read. */
  private schedule(event: WatchEvent | undefined, notify?: WatchEvent): void {
    if (this.isStopped) return;
    this.enqueue(() => this.getData(event, notify));
  }

  private async getData(event: WatchEvent | undefined, notify: WatchEvent | undefined): Promise<void> {
    if (this.isStopped) return;
    const initialVersion = this.version;
    const read = new AbortController();
    this.currentRead = read;
    const signal = AbortSignal.any([this.lifetime.signal, read.signal]);
    let data: Buffer | null;
    let stat: Stat | null;
    try {
      try {
        ({ data, stat } = await retryForever(
          this.client,
          () => this.client.get(this.path, { watch: this.watcher, signal }),
          signal,
        ));
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        data = null;
        stat = await retryForever(
          this.client,
          () => this.client.exists(this.path, { watch: this.watcher, signal }),
          signal,
        );
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
    if (this.isStopped || this.func === undefined) return;
    this.everCalled = true;
    await this.invoke((func) => (this.sendEvent ? func(data, stat, event) : func(data, stat)));
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

/** Options of `DataWatch.values()`: a signal that ends the iteration. */
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
export function watchData(
  client: ZooKeeperClient,
  path: string,
  options: WatchDataOptions = {},
): AsyncIterableIterator<DataSnapshot> {
  validatePath(path, 'watchData');
  return callbackIterator<DataSnapshot>((push) => {
    const watch = new DataWatch(client, path, (data, stat, event) => push({ data, stat, event }), {
      sendEvent: true,
      onSessionEvents: options.onSessionEvents ?? false,
    });
    return watch;
  }, options.signal);
}
