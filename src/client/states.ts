/**
 * The two state vocabularies (kazoo's KazooState and ZooKeeper's Watcher.Event.KeeperState): the kazoo-style connection state users
 * and recipes react to, and the detailed keeper (wire-level) state.
 */

/** kazoo's model: what a recipe needs to know about its session. */
export const ConnectionState = {
  /** The session is established and the connection is up. */
  CONNECTED: 'CONNECTED',
  /** The connection is down; the session may still be alive. Locks may be lost: pause. */
  SUSPENDED: 'SUSPENDED',
  /** The session is gone (expired, closed or never started); ephemerals and watches are gone. */
  LOST: 'LOST',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** The detailed state of the session at the wire level. */
export const KeeperState = {
  CONNECTING: 'CONNECTING',
  CONNECTED: 'CONNECTED',
  /** Connected to a read-only server: reads work, writes fail with `NotReadOnlyError`. */
  CONNECTED_RO: 'CONNECTED_RO',
  /** Authentication was rejected; terminal. */
  AUTH_FAILED: 'AUTH_FAILED',
  EXPIRED_SESSION: 'EXPIRED_SESSION',
  CLOSED: 'CLOSED',
} as const;
export type KeeperState = (typeof KeeperState)[keyof typeof KeeperState];

/** What a watch event reports. Server events are the `Node*` types; `None` carries a session state change. */
export const EventType = {
  None: 'None',
  NodeCreated: 'NodeCreated',
  NodeDeleted: 'NodeDeleted',
  NodeDataChanged: 'NodeDataChanged',
  NodeChildrenChanged: 'NodeChildrenChanged',
  DataWatchRemoved: 'DataWatchRemoved',
  ChildWatchRemoved: 'ChildWatchRemoved',
  PersistentWatchRemoved: 'PersistentWatchRemoved',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** Wire values of EventType (Watcher.Event.EventType). */
export const eventTypeFromWire: Readonly<Record<number, EventType>> = {
  [-1]: EventType.None,
  1: EventType.NodeCreated,
  2: EventType.NodeDeleted,
  3: EventType.NodeDataChanged,
  4: EventType.NodeChildrenChanged,
  5: EventType.DataWatchRemoved,
  6: EventType.ChildWatchRemoved,
  7: EventType.PersistentWatchRemoved,
};

/** A watch notification, with its path relative to the chroot. */
export interface WatchEvent {
  type: EventType;
  /** The keeper state when the event was produced (`CONNECTED` for server events). */
  state: KeeperState;
  /** The znode path (client-relative); for `None` events the watched path. */
  path: string;
}

/** A watch callback: receives the one event that fired the watch. */
export type WatchListener = (event: WatchEvent) => void | Promise<void>;
