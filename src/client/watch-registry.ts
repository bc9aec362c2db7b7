/**
 * The client side of watches. The server keeps at most one watch per session, server path and
 * table (ZooKeeper's `WatchManager`: a data table, set by getData, exists and addWatch, and a
 * child table, set by getChildren and addWatch), so the registry holds every local listener per
 * (kind, server path), fans a single server event out to all of them, and is the source of truth
 * for re-registering watches after a reconnect (SetWatches/SetWatches2, as the Java client's
 * `ClientCnxn` does).
 *
 * Keys are server paths (the chroot prepended), because the server's watch is what is shared:
 * `getConfig`'s watch on `/zookeeper/config` lies outside any chroot, and must neither be
 * re-registered under the chroot nor collide with a user's `<chroot>/zookeeper/config`. Each
 * listener keeps the path it was registered with, which is what its events carry.
 *
 * Registrations in flight are counted: a request that will set a watch is `expect`ed when
 * submitted and settled by its reply (or failure). `remove` says which server tables no longer
 * have any user — no registered listener and no request in flight that sets that table's watch —
 * so removing one listener never removes the server watch another listener still needs or is
 * about to get (DESIGN.md, Watches). Removing a listener whose registration is in flight cancels
 * it: the reply will not register it, and a request not sent yet goes without its watch (`onCancel`).
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
import {
  watchResyncChannel,
  watchTriggerChannel,
  type WatchResyncEvent,
  type WatchTriggerEvent,
} from './diagnostics.js';
import { parentPath } from './paths.js';
import { EventType, KeeperState, type WatchEvent, type WatchListener } from './states.js';

/** The local watch tables, one per vector of SetWatches2. */
export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';
export const WATCH_KINDS: readonly WatchKind[] = [
  'data',
  'exist',
  'child',
  'persistent',
  'persistentRecursive',
];

/** The server's watch tables (ZooKeeper's `DataTree.dataWatches` and `childWatches`). */
export type ServerTable = 'data' | 'child';

/** Where a watch is: its server path (the registry's key) and the path its events carry. */
export interface WatchPath {
  server: string;
  client: string;
}

/**
 * Which server tables a kind's watch occupies. addWatch sets both, in either mode (ZooKeeper's
 * `DataTree.addWatch`); were a recursive watch kept in the data table only, counting it in the
 * child table too could only keep a server watch longer, never drop one that is needed.
 */
const TABLES: Readonly<Record<WatchKind, readonly ServerTable[]>> = {
  data: ['data'],
  exist: ['data'],
  child: ['child'],
  persistent: ['data', 'child'],
  persistentRecursive: ['data', 'child'],
};

const ONE_SHOT_KINDS: readonly WatchKind[] = ['data', 'exist', 'child'];

/** Which one-shot tables an event type triggers (and clears), as the Java client does. */
const TRIGGERED: Readonly<Partial<Record<EventType, readonly WatchKind[]>>> = {
  [EventType.NodeCreated]: ['data', 'exist'],
  [EventType.NodeDataChanged]: ['data', 'exist'],
  [EventType.NodeDeleted]: ['data', 'exist', 'child'],
  [EventType.NodeChildrenChanged]: ['child'],
};

/** A watch-setting request in flight; `settle` it exactly when its reply arrives or it fails. */
export interface PendingWatch {
  /**
   * The reply arrived and the server set a watch of `kind` (undefined: it set none, or the
   * request failed). Registers the listener unless it was removed meanwhile. Idempotent.
   */
  settle(kind?: WatchKind): void;
}

interface Expected extends PendingWatch {
  readonly kinds: readonly WatchKind[];
  readonly path: WatchPath;
  readonly listener: WatchListener;
  readonly onCancel: (() => void) | undefined;
}

/** What `remove` took away, and which server watches no longer have any user. */
export interface Removal {
  /** Each removed listener (registered, or cancelled while its registration was in flight) with its kind and path. */
  removed: { kind: WatchKind; listener: WatchListener; path: string }[];
  /** Server tables on that path whose watch nobody needs any more: remove these on the server. */
  unused: ServerTable[];
}

export class WatchRegistry {
  /** kind → server path → listener → the client path it was registered with. */
  private readonly tables: Record<WatchKind, Map<string, Map<WatchListener, string>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    persistentRecursive: new Map(),
  };
  /** server path → registrations in flight. */
  private readonly expected = new Map<string, Set<Expected>>();
  private readonly delivery = new PQueue({ concurrency: 1 });

  /**
   * `toClient` maps a server path below a recursive watch to the path its event carries (the
   * chroot stripped); `sessionId` names the session in diagnostics events.
   */
  constructor(
    private readonly logger: Logger,
    private readonly toClient: (serverPath: string) => string = (path) => path,
    private readonly sessionId: () => bigint = () => 0n,
  ) {}

  /** Register `listener` now (a reply said the server set the watch). */
  private add(kind: WatchKind, { server, client }: WatchPath, listener: WatchListener): void {
    let listeners = this.tables[kind].get(server);
    if (listeners === undefined) {
      listeners = new Map();
      this.tables[kind].set(server, listeners);
    }
    listeners.set(listener, client);
  }

  /**
   * A request that sets a watch of one of `kinds` for `listener` is being submitted. `onCancel`
   * runs when `remove` cancels it (a request not sent yet then goes without its watch).
   */
  expect(
    kinds: readonly WatchKind[],
    path: WatchPath,
    listener: WatchListener,
    onCancel?: () => void,
  ): PendingWatch {
    let inFlight = this.expected.get(path.server);
    if (inFlight === undefined) {
      inFlight = new Set();
      this.expected.set(path.server, inFlight);
    }
    const set = inFlight;
    const expected: Expected = {
      kinds,
      path,
      listener,
      onCancel,
      settle: (kind) => {
        if (!set.delete(expected)) return; // settled already, or cancelled by `remove`
        if (set.size === 0 && this.expected.get(path.server) === set) this.expected.delete(path.server);
        if (kind !== undefined) this.add(kind, path, listener);
      },
    };
    set.add(expected);
    return expected;
  }

  /**
   * Remove `listener` (or every listener) of `kinds` at `serverPath`, registered or in flight
   * (an in-flight one is cancelled: its reply registers nothing). Also says which server
   * tables on that path are left without any user.
   */
  remove(kinds: readonly WatchKind[], serverPath: string, listener?: WatchListener): Removal {
    const removed: Removal['removed'] = [];
    for (const kind of kinds) {
      const listeners = this.tables[kind].get(serverPath);
      if (listeners === undefined) continue;
      for (const [registered, path] of listeners) {
        if (listener !== undefined && registered !== listener) continue;
        listeners.delete(registered);
        removed.push({ kind, listener: registered, path });
      }
      if (listeners.size === 0) this.tables[kind].delete(serverPath);
    }
    for (const expected of this.expected.get(serverPath) ?? []) {
      if (listener !== undefined && expected.listener !== listener) continue;
      const kind = expected.kinds.find((k) => kinds.includes(k));
      if (kind === undefined) continue;
      expected.settle(); // cancelled: its reply registers nothing
      expected.onCancel?.();
      removed.push({ kind, listener: expected.listener, path: expected.path.client });
    }
    return {
      removed,
      unused: this.unused(
        removed.map(({ kind }) => kind),
        serverPath,
      ),
    };
  }

  /** The server tables watches of `kinds` at `serverPath` occupy that no listener, registered or in flight, needs. */
  unused(kinds: readonly WatchKind[], serverPath: string): ServerTable[] {
    const touched = new Set(kinds.flatMap((kind) => TABLES[kind]));
    return [...touched].filter((table) => !this.inUse(table, serverPath));
  }

  /** Whether a registered listener or a registration in flight needs the server's `table` watch at `serverPath`. */
  private inUse(table: ServerTable, serverPath: string): boolean {
    for (const kind of WATCH_KINDS) {
      if (TABLES[kind].includes(table) && this.tables[kind].has(serverPath)) return true;
    }
    for (const expected of this.expected.get(serverPath) ?? []) {
      if (expected.kinds.some((kind) => TABLES[kind].includes(table))) return true;
    }
    return false;
  }

  /** Number of listeners registered (not counting those in flight), for tests and diagnostics. */
  get size(): number {
    let total = 0;
    for (const kind of WATCH_KINDS)
      for (const listeners of this.tables[kind].values()) total += listeners.size;
    return total;
  }

  /** Route a server event (`path`: the server path): one-shot listeners are consumed, persistent ones stay. */
  dispatch({ type, state, path: serverPath }: WatchEvent): void {
    // listener → the path its event carries; a listener in several tables is called once.
    const targets = new Map<WatchListener, string>();
    const traced = watchTriggerChannel.hasSubscribers;
    const collect = (kind: WatchKind, listeners: Map<WatchListener, string> | undefined, path?: string) => {
      if (listeners === undefined) return;
      if (traced) publishTrigger(this.sessionId(), type, kind, listeners, path);
      for (const [listener, registeredAs] of listeners)
        if (!targets.has(listener)) targets.set(listener, path ?? registeredAs);
    };
    for (const kind of TRIGGERED[type] ?? []) {
      const listeners = this.tables[kind].get(serverPath);
      if (listeners === undefined) continue;
      this.tables[kind].delete(serverPath);
      collect(kind, listeners);
    }
    collect('persistent', this.tables.persistent.get(serverPath));
    // Recursive watchers see every create/delete/change below them, but never NodeChildrenChanged
    // (those come from a child watch of the same session; Java fixed this in ZOOKEEPER-4475).
    if (type !== EventType.NodeChildrenChanged && this.tables.persistentRecursive.size > 0) {
      let eventPath: string | undefined;
      for (let path = serverPath; ; path = parentPath(path)) {
        const listeners = this.tables.persistentRecursive.get(path);
        if (listeners !== undefined)
          collect('persistentRecursive', listeners, (eventPath ??= this.toClient(serverPath)));
        if (path === '/') break;
      }
    }
    this.deliverAll(targets, type, state);
  }

  /**
   * The session is gone: every one-shot listener gets a `None` event with `state` and is
   * dropped, so no caller waits forever; persistent listeners get it too (a resync marker)
   * and stay, to be re-registered on the next session.
   */
  sessionLost(state: KeeperState): void {
    let told = 0;
    for (const kind of WATCH_KINDS) {
      for (const listeners of this.tables[kind].values()) {
        told += listeners.size;
        this.deliverAll(listeners, EventType.None, state);
      }
      if (ONE_SHOT_KINDS.includes(kind)) this.tables[kind].clear();
    }
    publishResync('sessionLost', state, told);
  }

  /**
   * The session survived a disconnection: one-shot watches get what they missed from the
   * server (SetWatches catch-up), persistent ones do not, so they get a `None` event with
   * `state` (CONNECTED) as a resync marker: re-read what you track.
   */
  reconnected(state: KeeperState): void {
    let told = 0;
    for (const kind of ['persistent', 'persistentRecursive'] as const) {
      for (const listeners of this.tables[kind].values()) {
        told += listeners.size;
        this.deliverAll(listeners, EventType.None, state);
      }
    }
    publishResync('reconnected', state, told);
  }

  /** Every registered server path per kind, for SetWatches after a reconnect. */
  paths(): Record<WatchKind, string[]> {
    const result = {} as Record<WatchKind, string[]>;
    for (const kind of WATCH_KINDS) result[kind] = [...this.tables[kind].keys()];
    return result;
  }

  /** Deliver one event of `type` to each listener, carrying that listener's path. */
  deliverAll(targets: Iterable<[WatchListener, string]>, type: EventType, state: KeeperState): void {
    const events = new Map<string, WatchEvent>();
    const deliveries: [WatchListener, WatchEvent][] = [];
    for (const [listener, path] of targets) {
      let event = events.get(path);
      if (event === undefined) events.set(path, (event = { type, state, path }));
      deliveries.push([listener, event]);
    }
    if (deliveries.length === 0) return;
    void this.delivery.add(async () => {
      for (const [listener, event] of deliveries) {
        try {
          await listener(event);
        } catch (error) {
          this.logger.error(
            `watch listener for ${event.path} threw: ${(error as Error)?.stack ?? String(error)}`,
          );
        }
      }
    });
  }

  /** Resolves once every queued event has been delivered. */
  idle(): Promise<void> {
    return this.delivery.onIdle();
  }
}

/** One trigger event per table a server event fired in (`eventPath`: a recursive watch's event path). */
function publishTrigger(
  sessionId: bigint,
  type: EventType,
  kind: WatchKind,
  listeners: Map<WatchListener, string>,
  eventPath: string | undefined,
): void {
  const watchPath = listeners.values().next().value ?? '';
  const event: WatchTriggerEvent = {
    sessionId,
    type,
    path: eventPath ?? watchPath,
    kind,
    watchPath,
    listeners: listeners.size,
  };
  watchTriggerChannel.publish(event);
}

function publishResync(
  reason: WatchResyncEvent['reason'],
  keeperState: KeeperState,
  listeners: number,
): void {
  if (listeners === 0 || !watchResyncChannel.hasSubscribers) return;
  const event: WatchResyncEvent = { reason, keeperState, listeners };
  watchResyncChannel.publish(event);
}
