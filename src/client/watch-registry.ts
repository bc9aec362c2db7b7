/**
 * The client side of watches (spec/protocol.md §5). The server keeps at most one watch per
 * session, path and table, so the registry holds every local listener per (kind, path), fans
 * a single server event out to all of them, and is the source of truth for re-registering
 * watches after a reconnect (SetWatches/SetWatches2).
 *
 * Listeners run one at a time, in server order, on a p-queue with concurrency 1: an async
 * listener that takes long delays later events but never the socket reader, and a listener
 * that throws is logged and skipped. When the queue is idle a listener starts at once, so a
 * watch fired by the session's own write has been called before that write's promise settles
 * (the server sends the event first). The connection tolerates a listener that closes the
 * client from inside that call.
 */
import PQueue from 'p-queue';
import type { Logger } from 'winston';
import { parentPath } from './paths.js';
import { EventType, KeeperState, type WatchEvent, type WatchListener } from './states.js';

/** The local watch tables, one per vector of SetWatches2. */
export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';
export const WATCH_KINDS: readonly WatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];

const ONE_SHOT_KINDS: readonly WatchKind[] = ['data', 'exist', 'child'];

/** Which one-shot tables an event type triggers (and clears), as the Java client does. */
const TRIGGERED: Readonly<Partial<Record<EventType, readonly WatchKind[]>>> = {
  [EventType.NodeCreated]: ['data', 'exist'],
  [EventType.NodeDataChanged]: ['data', 'exist'],
  [EventType.NodeDeleted]: ['data', 'exist', 'child'],
  [EventType.NodeChildrenChanged]: ['child'],
};

export class WatchRegistry {
  private readonly tables: Record<WatchKind, Map<string, Set<WatchListener>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    persistentRecursive: new Map(),
  };
  private readonly delivery = new PQueue({ concurrency: 1 });

  constructor(private readonly logger: Logger) {}

  add(kind: WatchKind, path: string, listener: WatchListener): void {
    let listeners = this.tables[kind].get(path);
    if (listeners === undefined) {
      listeners = new Set();
      this.tables[kind].set(path, listeners);
    }
    listeners.add(listener);
  }

  has(kind: WatchKind, path: string, listener?: WatchListener): boolean {
    const listeners = this.tables[kind].get(path);
    return listeners !== undefined && (listener === undefined || listeners.has(listener));
  }

  /**
   * Remove `listener` (or every listener when absent) of `kind` on `path`.
   * Returns the removed listeners.
   */
  remove(kind: WatchKind, path: string, listener?: WatchListener): WatchListener[] {
    const listeners = this.tables[kind].get(path);
    if (listeners === undefined) return [];
    if (listener === undefined) {
      this.tables[kind].delete(path);
      return [...listeners];
    }
    if (!listeners.delete(listener)) return [];
    if (listeners.size === 0) this.tables[kind].delete(path);
    return [listener];
  }

  /** Number of listeners registered, for tests and diagnostics. */
  get size(): number {
    let total = 0;
    for (const kind of WATCH_KINDS) for (const listeners of this.tables[kind].values()) total += listeners.size;
    return total;
  }

  /** Route a server event (client-relative path): one-shot listeners are consumed, persistent ones stay. */
  dispatch(event: WatchEvent): void {
    const targets = new Set<WatchListener>();
    for (const kind of TRIGGERED[event.type] ?? []) {
      const listeners = this.tables[kind].get(event.path);
      if (listeners === undefined) continue;
      this.tables[kind].delete(event.path);
      for (const listener of listeners) targets.add(listener);
    }
    for (const listener of this.tables.persistent.get(event.path) ?? []) targets.add(listener);
    // Recursive watchers see every create/delete/change below them, but never NodeChildrenChanged
    // (those come from a child watch of the same session, spec §5.4).
    if (event.type !== EventType.NodeChildrenChanged && this.tables.persistentRecursive.size > 0) {
      for (let path = event.path; ; path = parentPath(path)) {
        for (const listener of this.tables.persistentRecursive.get(path) ?? []) targets.add(listener);
        if (path === '/') break;
      }
    }
    this.deliver(targets, event);
  }

  /**
   * The session is gone: every one-shot listener gets a `None` event with `state` and is
   * dropped, so no caller waits forever; persistent listeners get it too (a resync marker)
   * and stay, to be re-registered on the next session.
   */
  sessionLost(state: KeeperState): void {
    for (const kind of WATCH_KINDS) {
      for (const [path, listeners] of this.tables[kind]) {
        this.deliver(listeners, { type: EventType.None, state, path });
      }
      if (ONE_SHOT_KINDS.includes(kind)) this.tables[kind].clear();
    }
  }

  /**
   * The session survived a disconnection: one-shot watches get what they missed from the
   * server (SetWatches catch-up), persistent ones do not, so they get a `None` event with
   * `state` (CONNECTED) as a resync marker: re-read what you track.
   */
  reconnected(state: KeeperState): void {
    for (const kind of ['persistent', 'persistentRecursive'] as const) {
      for (const [path, listeners] of this.tables[kind]) this.deliver(listeners, { type: EventType.None, state, path });
    }
  }

  /** Every registered path per kind, for SetWatches after a reconnect. */
  paths(): Record<WatchKind, string[]> {
    const result = {} as Record<WatchKind, string[]>;
    for (const kind of WATCH_KINDS) result[kind] = [...this.tables[kind].keys()];
    return result;
  }

  /** Deliver a locally produced event (e.g. DataWatchRemoved) to specific listeners. */
  deliver(listeners: Iterable<WatchListener>, event: WatchEvent): void {
    const targets = [...listeners];
    if (targets.length === 0) return;
    void this.delivery.add(async () => {
      for (const listener of targets) {
        try {
          await listener(event);
        } catch (error) {
          this.logger.error(`watch listener for ${event.path} threw: ${(error as Error)?.stack ?? String(error)}`);
        }
      }
    });
  }

  /** Resolves once every queued event has been delivered. */
  idle(): Promise<void> {
    return this.delivery.onIdle();
  }
}
