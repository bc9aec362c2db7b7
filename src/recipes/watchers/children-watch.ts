import type { ZooKeeperClient } from '../../client/client.js';
import { AbortError, ClientClosedError, NoNodeError } from '../../client/errors.js';
import { validatePath } from '../../client/paths.js';
import { ConnectionState, type WatchEvent } from '../../client/states.js';
import { callbackIterator } from './callback-iterator.js';
import { retryForever } from './retry-forever.js';
import { WatchRecipe } from './watch-recipe.js';

/**
 * Called with the child names. With `sendEvent`, also the watch event behind the call
 * (`undefined` for the first call and after a reconnect). Return `false` to stop.
 */
export type ChildrenWatchFunc = (children: string[], event?: WatchEvent) => unknown;

/** Options of `new ChildrenWatch(...)`: whether it survives a session loss, and whether the callback also receives the watch event. */
export interface ChildrenWatchOptions {
  /** Keep watching in the next session after the session is lost (kazoo's `allow_session_lost`). Default true. */
  allowSessionLost?: boolean;
  /** Pass the watch event as the second argument (kazoo's `send_event`). Default false. */
  sendEvent?: boolean;
}

/**
 * ChildrenWatch: call a function with a node's child list now and on every change — kazoo's
 * `ChildrenWatch`. The node must exist: when it does not (or is deleted later) the watch stops
 * silently (`stopReason === 'nonode'`) and the function is not called.
 *
 * Znode layout: none (read-only).
 *
 * How it works (kazoo 2.8's algorithm): one read at a time, `getChildren` with a one-shot watch
 * (retried forever, through connection and session loss); every node event reads again and
 * calls the function with the list, in server order (unsorted). Reads that find nothing changed
 * are not reported: after a reconnect when the list equals the previous one (kazoo), and any
 * read whose parent `pzxid` is the one already reported (a duplicate wake-up: our client keeps
 * watches across reconnects, so the reconnect re-read and the replayed event can both fire).
 *
 * SUSPENDED: nothing is called; reads wait for the connection.
 * CONNECTED (after SUSPENDED or LOST): the list is read again and reported if it changed.
 * LOST: with `allowSessionLost: true` (default) the watch carries on in the next session; with
 * `false` it stops (`stopReason === 'sessionLost'`). kazoo's `allow_session_lost=False` really
 * stops on the first disconnect of any kind (kazoo drops watches on SUSPENDED); ours keeps its
 * watch across a reconnect and stops only when the session is lost — the documented intent.
 *
 * @example
 *   const watch = new ChildrenWatch(zk, '/workers', (workers) => rebalance(workers));
 *   await watch.ready;
 *
 * @example
 *   for await (const { children } of watchChildren(zk, '/workers', { signal })) rebalance(children);
 */
export class ChildrenWatch extends WatchRecipe<ChildrenWatchFunc> {
  private readonly allowSessionLost: boolean;
  private readonly sendEvent: boolean;
  /** False initially and after a disconnect: the next read is compared with the previous list. */
  private established = false;
  private priorChildren: string[] | undefined;
  private priorPzxid: bigint | undefined;

  constructor(
    client: ZooKeeperClient,
    path: string,
    func?: ChildrenWatchFunc,
    options: ChildrenWatchOptions = {},
  ) {
    super(client, path, 'ChildrenWatch', 'children');
    this.allowSessionLost = options.allowSessionLost ?? true;
    this.sendEvent = options.sendEvent ?? false;
    if (func !== undefined) this.watch(func);
  }

  protected override onNodeEvent(event: WatchEvent | undefined): void {
    if (!this.isStopped) this.enqueue(() => this.getChildren(event));
  }

  protected override onConnectionState(state: ConnectionState): void {
    if (state === ConnectionState.LOST && !this.allowSessionLost) {
      this.finish('sessionLost');
    } else if (state === ConnectionState.CONNECTED) {
      if (!this.established) this.onNodeEvent(undefined);
    } else {
      this.established = false;
    }
  }

  private async getChildren(event: WatchEvent | undefined): Promise<void> {
    if (this.isStopped) return;
    const signal = this.lifetime.signal;
    let children: string[];
    let pzxid: bigint;
    try {
      const result = await retryForever(
        this.client,
        () => this.client.getChildrenWithStat(this.path, { watch: this.watcher, signal }),
        signal,
      );
      children = result.children;
      pzxid = result.stat.pzxid;
    } catch (error) {
      if (error instanceof AbortError) return;
      if (error instanceof NoNodeError) this.finish('nonode');
      else if (error instanceof ClientClosedError) this.finish('closed');
      else this.finish('error', error);
      return;
    }
    if (this.isStopped) return;
    const samePzxid = pzxid === this.priorPzxid;
    this.priorPzxid = pzxid;
    if (!this.established) {
      this.established = true;
      if (this.priorChildren !== undefined && sameMembers(this.priorChildren, children)) return;
    }
    if (samePzxid) return;
    this.priorChildren = children;
    await this.invoke((func) => (this.sendEvent ? func(children, event) : func(children)));
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((name) => set.has(name));
}

/** One value of `watchChildren`. */
export interface ChildrenSnapshot {
  children: string[];
  event: WatchEvent | undefined;
}

/** Options of `ChildrenWatch.children()`: a signal that ends the iteration. */
export interface WatchChildrenOptions {
  /** Ends the iteration (cleanly, no error) and removes the watch. */
  signal?: AbortSignal;
  /** As ChildrenWatch's `allowSessionLost` (default true). */
  allowSessionLost?: boolean;
}

/**
 * ChildrenWatch as an async iterator: `{ children, event }` now and after every change, with
 * backpressure (at most one value buffered; a slow consumer sees the latest list). Ends when
 * `signal` aborts, the loop is left, the node is deleted (or missing at the start), or the
 * client is closed; throws the error that stopped the watch otherwise.
 */
export function watchChildren(
  client: ZooKeeperClient,
  path: string,
  options: WatchChildrenOptions = {},
): AsyncIterableIterator<ChildrenSnapshot> {
  validatePath(path, 'watchChildren');
  return callbackIterator<ChildrenSnapshot>(
    (push) =>
      new ChildrenWatch(client, path, (children, event) => push({ children, event }), {
        sendEvent: true,
        allowSessionLost: options.allowSessionLost ?? true,
      }),
    options.signal,
  );
}
