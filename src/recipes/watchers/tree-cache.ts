import type { ZooKeeperClient } from '../../client/client.js';
import { AbortError, ClientClosedError, NoNodeError } from '../../client/errors.js';
import { joinPath, parentPath, validatePath } from '../../client/paths.js';
import { JuteReader, JuteWriter } from '../../client/protocol/jute.js';
import {
  readGetData,
  STAT_BYTES,
  writeGetData,
  type GetDataResult,
  type Stat,
} from '../../client/protocol/records.js';
import { retriesWithinDeadline, sleep } from '../../client/retry.js';
import { ConnectionState, EventType, type WatchListener } from '../../client/states.js';
import { OutsideTreeError, RecipeStateError } from '../errors.js';
import { retryForever } from './retry-forever.js';

/** The kinds of TreeCache events, kazoo's names (NODE_ADDED, ..., INITIALIZED) plus RESYNC. */
export type TreeEventType =
  | 'NODE_ADDED'
  | 'NODE_UPDATED'
  | 'NODE_REMOVED'
  | 'CONNECTION_SUSPENDED'
  | 'CONNECTION_RECONNECTED'
  | 'CONNECTION_LOST'
  | 'INITIALIZED'
  | 'RESYNC';

/**
 * A cache event. Node events carry the node's path, data and Stat (for NODE_REMOVED the last
 * known ones); the others carry the root path and `null`s.
 */
export interface TreeEvent {
  type: TreeEventType;
  path: string;
  data: Buffer | null;
  stat: Stat | null;
}

/** A cached node (kazoo's NodeData). */
export interface NodeData {
  path: string;
  data: Buffer;
  stat: Stat;
}

/** A TreeCache's life: LATENT before `start()`, STARTED, CLOSED. */
export type TreeCacheState = 'LATENT' | 'STARTED' | 'CLOSED';

/** Options of `new TreeCache(...)`: a signal that closes the cache. */
export interface TreeCacheOptions {
  /** Closes the cache when aborted. */
  signal?: AbortSignal;
  /**
   * `start()` creates the root (persistent, empty) when it is missing. Default true; `false`:
   * a missing root is watched until it is created (e.g. a service's container node).
   */
  createRoot?: boolean;
}

/** Options of `TreeCache.events()`: a signal that ends the iteration. */
export interface TreeEventsOptions {
  /** Ends the iteration (cleanly). */
  signal?: AbortSignal;
}

type NodeState = 'PENDING' | 'LIVE' | 'DEAD';

class TreeNode {
  state: NodeState = 'PENDING';
  /** The getData record (data, then Stat) as a latin1 string: one small heap object per node. */
  record: string | undefined;
  /** Only while the node has children: most nodes of a large tree are leaves. */
  children: Map<string, TreeNode> | undefined;
  constructor(
    /** The path's last segment (the root: its whole path). */
    readonly name: string,
    readonly parent: TreeNode | undefined,
  ) {}

  child(name: string): TreeNode | undefined {
    return this.children?.get(name);
  }

  addChild(name: string): TreeNode {
    const node = new TreeNode(name, this);
    (this.children ??= new Map()).set(name, node);
    return node;
  }
}

/** The compact copy of a getData reply, and back. */
const recordWriter = new JuteWriter(1024);
function pack(result: GetDataResult): string {
  recordWriter.reset();
  writeGetData(recordWriter, result);
  return recordWriter.view().toString('latin1');
}
function unpack(path: string, record: string): NodeData {
  return { path, ...readGetData(new JuteReader(Buffer.from(record, 'latin1'))) };
}
/** The Stat's mzxid inside a record: bytes 8–16 of the Stat, which ends the record. */
const mzxidOf = (record: string) =>
  record.slice(record.length - STAT_BYTES + 8, record.length - STAT_BYTES + 16);

interface Dirty {
  data: boolean;
  children: boolean;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A read in flight: the dirty flags it serves and its replies. */
interface Read {
  path: string;
  what: Dirty;
  data: Promise<Settled<GetDataResult>> | undefined;
  children: Promise<Settled<string[]>> | undefined;
}

/** Most reads in flight (the window slides: replies applied let the next reads go). */
const WINDOW = 1000;
/** The window is refilled once this many of its reads were applied. */
const REFILL = 100;

/**
 * TreeCache: an in-memory mirror of a whole subtree (data, Stat and children of every node)
 * that emits an event for every addition, update and removal — kazoo's `TreeCache` (a port of
 * Curator's), with kazoo's event names.
 *
 * Znode layout: `start()` creates the root (persistent, empty) if it is missing (unless
 * `createRoot: false`); nothing else.
 *
 * How it works: ONE persistent recursive watch on the root (`addWatch(root, …, { recursive })`,
 * ZooKeeper ≥ 3.6) instead of kazoo's two one-shot watches per node. A watch event only marks its
 * path "dirty" (created/deleted: data and children; changed: data); a single worker keeps a
 * sliding window of reads in flight (pipelined, shallowest dirty paths first, then in the order
 * they became dirty) and applies the replies in the order they were sent. Every event is
 * followed by a read issued after it, so the cache always converges to the server's tree,
 * whatever the interleaving of events and replies; each applied reply is real server state, so
 * the events emitted describe a real history:
 * - `get` → NODE_ADDED (a node becomes live) or NODE_UPDATED (its `mzxid` changed: a `set` with
 *   identical bytes counts, a mere re-read does not); NoNode → the node and its subtree are
 *   removed, NODE_REMOVED deepest first, each carrying the last known data and Stat. When the
 *   children are dirty too, the reply's `numChildren` decides: 0 → the node has no children at
 *   that point (cached ones are removed, no `getChildren` is sent: a child created later comes
 *   with its own event), otherwise a `getChildren` follows.
 * - `getChildren` → unknown children are added (in sorted order) and read; cached children that
 *   are no longer listed are removed (this is what catches deletions missed while disconnected).
 * Memory per cached node: its name, parent, state, a children Map only when it has children, and
 * its data and Stat as one compact string (the getData record's bytes), decoded on access.
 * The first time the worker runs dry after `start()` (and after every session loss) INITIALIZED
 * is emitted once; startup order is NODE_ADDED for the root, then each level in sorted order,
 * then INITIALIZED. If the root is deleted it stays in the cache as dead (no data, no children)
 * and comes back with NODE_ADDED when it is re-created.
 *
 * SUSPENDED: CONNECTION_SUSPENDED; the cache keeps serving the last known tree.
 * CONNECTED (same session or a new one): CONNECTION_RECONNECTED, then every cached node is read
 * again (the server does not replay persistent-watch events missed while disconnected) and the
 * differences are emitted as node events; when that re-read is complete, RESYNC (our addition:
 * "the cache equals a server snapshot again"; reconnects that come before the previous re-read
 * finished share one RESYNC). A reconnect with no change emits only
 * CONNECTION_SUSPENDED, CONNECTION_RECONNECTED and RESYNC.
 * LOST: CONNECTION_LOST; after the next CONNECTED the re-read is followed by INITIALIZED (as in
 * kazoo) and RESYNC.
 *
 * Deviations from kazoo: `start()` resolves once INITIALIZED has been emitted; `getData` /
 * `getChildren` check path segments (kazoo's string-prefix test accepts `/ab` for root `/a`) and
 * report live nodes only; `getChildren` returns a sorted array; errors in event listeners go to
 * fault listeners (or the client's logger), never to the caller.
 *
 * @example
 *   const cache = new TreeCache(zk, '/services');
 *   cache.listen((event) => console.log(event.type, event.path));
 *   await cache.start();
 *   cache.getData('/services/api')?.data;
 *   await cache.close();
 *
 * @example
 *   for await (const event of cache.events({ signal })) if (event.type === 'NODE_UPDATED') reload(event.path);
 */
export class TreeCache {
  readonly path: string;
  private stateValue: TreeCacheState = 'LATENT';
  private readonly root: TreeNode;
  private readonly listeners = new Set<(event: TreeEvent) => void>();
  private readonly faultListeners = new Set<(error: unknown) => void>();
  private readonly dirty = new DirtyQueue();
  private readonly inFlight = new ReadQueue();
  private pumping = false;
  private initialized = false;
  private resyncPending = false;
  private readonly lifetime = new AbortController();
  private readonly createRoot: boolean;
  private initializedWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  private readonly watcher: WatchListener = (event) => {
    if (this.stateValue !== 'STARTED') return;
    switch (event.type) {
      case EventType.NodeCreated:
      case EventType.NodeDeleted:
        this.markDirty(event.path, { data: true, children: true });
        break;
      case EventType.NodeDataChanged:
        this.markDirty(event.path, { data: true, children: false });
        break;
      default:
        // None (resync markers: handled through the connection state), *WatchRemoved.
        break;
    }
  };

  private readonly onState = (state: ConnectionState) => {
    if (this.stateValue !== 'STARTED') return;
    if (state === ConnectionState.SUSPENDED) {
      this.publish('CONNECTION_SUSPENDED');
    } else if (state === ConnectionState.CONNECTED) {
      this.resyncPending = true;
      this.markSubtreeDirty(this.root, this.path);
      this.publish('CONNECTION_RECONNECTED');
    } else {
      this.initialized = false;
      this.publish('CONNECTION_LOST');
    }
  };

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: TreeCacheOptions = {},
  ) {
    validatePath(path, 'TreeCache');
    this.path = path;
    this.root = new TreeNode(path, undefined);
    this.createRoot = options.createRoot ?? true;
    const { signal } = options;
    if (signal) {
      if (signal.aborted) this.stateValue = 'CLOSED';
      else signal.addEventListener('abort', () => void this.close(), { once: true });
    }
  }

  /** LATENT (created), STARTED, or CLOSED (cannot be restarted). */
  get state(): TreeCacheState {
    return this.stateValue;
  }

  /**
   * Start caching: create the root if missing, set the recursive watch, load the tree. Resolves
   * once INITIALIZED has been emitted. `RecipeStateError` when already started or closed; rejects
   * with `AbortError` if the cache is closed before it is initialized.
   */
  async start(): Promise<void> {
    if (this.stateValue === 'STARTED')
      throw new RecipeStateError('the TreeCache is already started', { op: 'start', path: this.path });
    if (this.stateValue === 'CLOSED')
      throw new RecipeStateError('the TreeCache is already closed', { op: 'start', path: this.path });
    this.stateValue = 'STARTED';
    const initialized = new Promise<void>((resolve, reject) =>
      this.initializedWaiters.push({ resolve, reject }),
    );
    initialized.catch(() => {}); // awaited below, unless the set-up fails first
    const signal = this.lifetime.signal;
    this.client.on('state', this.onState);
    try {
      if (this.createRoot)
        await retryForever(this.client, () => this.client.ensurePath(this.path, { signal }), signal);
      await retryForever(
        this.client,
        () => this.client.addWatch(this.path, this.watcher, { recursive: true, signal }),
        signal,
      );
    } catch (error) {
      if (this.stateValue === 'STARTED') await this.close();
      throw error instanceof AbortError ? new AbortError(undefined, { op: 'start', path: this.path }) : error;
    }
    this.markDirty(this.path, { data: true, children: true });
    await initialized;
  }

  /**
   * Stop: no more events, the watch is removed (other watches on these paths are untouched),
   * the cached tree is cleared, event iterators end. Idempotent; the cache cannot be restarted.
   */
  async close(): Promise<void> {
    if (this.stateValue === 'CLOSED') return;
    const wasStarted = this.stateValue === 'STARTED';
    this.stateValue = 'CLOSED';
    this.lifetime.abort();
    this.client.off('state', this.onState);
    this.dirty.clear();
    this.root.children = undefined;
    this.root.record = undefined;
    this.root.state = 'PENDING'; // not DEAD (kazoo): the tree is just forgotten
    for (const { reject } of this.initializedWaiters.splice(0))
      reject(new AbortError(undefined, { op: 'start', path: this.path }));
    for (const end of [...this.iteratorEnds]) end();
    if (wasStarted && !this.client.closed) {
      await this.client.removeWatches(this.path, 'persistentRecursive', this.watcher).catch(() => {});
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Register an event listener (kazoo's `listen`); returns a function that removes it. */
  listen(listener: (event: TreeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Register a fault listener (kazoo's `listen_fault`): errors thrown by event listeners and
   * read errors that retrying cannot fix (e.g. NoAuth). Without one they are logged.
   */
  listenFault(listener: (error: unknown) => void): () => void {
    this.faultListeners.add(listener);
    return () => this.faultListeners.delete(listener);
  }

  /**
   * The events from now on, as an async iterator (buffered while the consumer is busy). Ends
   * when `signal` aborts, the loop is left, or the cache is closed.
   */
  events(options: TreeEventsOptions = {}): AsyncIterableIterator<TreeEvent> {
    const { signal } = options;
    const buffered: TreeEvent[] = [];
    let waiting: ((result: IteratorResult<TreeEvent>) => void) | undefined;
    let done = this.stateValue === 'CLOSED' || signal?.aborted === true;
    const end = (): IteratorResult<TreeEvent> => {
      if (!done) {
        done = true;
        unlisten();
        this.iteratorEnds.delete(end);
        signal?.removeEventListener('abort', end);
        waiting?.({ value: undefined, done: true });
        waiting = undefined;
      }
      return { value: undefined, done: true };
    };
    const unlisten = this.listen((event) => {
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve({ value: event, done: false });
      } else buffered.push(event);
    });
    if (done) end();
    else {
      this.iteratorEnds.add(end);
      signal?.addEventListener('abort', end, { once: true });
    }
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: async () => {
        const head = buffered.shift();
        if (head) return { value: head, done: false };
        if (done) return { value: undefined, done: true };
        return new Promise((resolve) => (waiting = resolve));
      },
      return: async () => end(),
    };
  }
  private readonly iteratorEnds = new Set<() => void>();

  [Symbol.asyncIterator](): AsyncIterableIterator<TreeEvent> {
    return this.events();
  }

  /** The cached data and Stat of `path`, or `undefined` when not cached. `OutsideTreeError` for a path outside the root. */
  getData(path: string): NodeData | undefined {
    const node = this.find(path, 'getData');
    return node?.state === 'LIVE' && node.record !== undefined ? unpack(path, node.record) : undefined;
  }

  /** The cached child names of `path` (sorted), or `undefined` when not cached. `OutsideTreeError` outside the root. */
  getChildren(path: string): string[] | undefined {
    const node = this.find(path, 'getChildren');
    if (node?.state !== 'LIVE') return undefined;
    const names: string[] = [];
    for (const [name, child] of node.children ?? []) if (child.state === 'LIVE') names.push(name);
    return names.sort();
  }

  private find(path: string, op: string): TreeNode | undefined {
    validatePath(path, op);
    if (this.relative(path) === -1) throw new OutsideTreeError(this.path, path);
    return this.lookup(path);
  }

  /** The path's components below the root, or undefined when it is not in the tree. */
  /** Where the path's components below the root start, or -1 when it is not in the tree (the root: its length). */
  private relative(path: string): number {
    if (path === this.path) return path.length;
    const start = this.path === '/' ? 1 : this.path.length + 1;
    return path.startsWith(this.path) && path.charCodeAt(start - 1) === 47 /* '/' */ ? start : -1;
  }

  // ---- the worker ----

  private markDirty(path: string, what: Dirty): void {
    if (this.stateValue !== 'STARTED') return;
    this.dirty.mark(path, what);
    void this.pump();
  }

  private markSubtreeDirty(node: TreeNode, path: string): void {
    this.markDirty(path, { data: true, children: true });
    for (const [name, child] of node.children ?? []) this.markSubtreeDirty(child, joinPath(path, name));
  }

  /**
   * The worker: keeps up to WINDOW reads in flight and applies their replies in the order they
   * were sent. Reads that failed for a connection reason are marked dirty again; they wait for
   * the reconnect in the client, but the worker pauses (once the window drained) instead of
   * spinning if the client fails them at once.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let transient = false;
    try {
      while (this.stateValue === 'STARTED') {
        // Refill in groups, so that one socket write carries many requests.
        if (!transient && this.inFlight.length <= WINDOW - REFILL)
          while (this.inFlight.length < WINDOW && this.send());
        const read = this.inFlight.shift();
        if (read === undefined) {
          if (!transient) break;
          transient = false;
          await sleep(100, this.lifetime.signal).catch(() => {});
          continue;
        }
        if (await this.apply(read)) transient = true;
      }
    } catch (error) {
      this.fault(error);
    } finally {
      this.pumping = false;
      this.inFlight.clear();
    }
    if (this.stateValue !== 'STARTED') return;
    if (this.dirty.size > 0) {
      void this.pump();
      return;
    }
    if (!this.initialized) {
      this.initialized = true;
      this.publish('INITIALIZED');
      for (const { resolve } of this.initializedWaiters.splice(0)) resolve();
    }
    if (this.resyncPending) {
      this.resyncPending = false;
      this.publish('RESYNC');
    }
  }

  /**
   * Send the reads of the next dirty path; false when none is dirty. Data dirty → `get` only
   * (its `numChildren` decides whether `getChildren` follows); children only → `getChildren`.
   * No per-read signal: closing the cache drops the replies (`apply` checks the state).
   */
  private send(): boolean {
    const next = this.dirty.shift();
    if (next === undefined) return false;
    const { path, what } = next;
    this.inFlight.push({
      path,
      what,
      data: what.data ? settle(this.client.get(path)) : undefined,
      children: what.data ? undefined : settle(this.client.getChildren(path)),
    });
    return true;
  }

  /** Apply one read's replies; true when one failed transiently (it is dirty again). */
  private async apply(read: Read): Promise<boolean> {
    const data = await read.data;
    const children = await read.children;
    if (this.stateValue !== 'STARTED') return false;
    let retryData = false;
    let retryChildren = false;
    if (data !== undefined) {
      retryData = this.applyData(read.path, data);
      if (read.what.children) {
        if (retryData) retryChildren = true;
        else if (data.ok) this.childrenAfterData(read.path, data.value.stat.numChildren);
      }
    }
    if (children !== undefined) retryChildren = this.applyChildren(read.path, children);
    if (!retryData && !retryChildren) return false;
    this.markDirty(read.path, { data: retryData, children: retryChildren });
    return true;
  }

  /** The children were dirty along with the data: none listed by the Stat → none cached; else read them. */
  private childrenAfterData(path: string, numChildren: number): void {
    if (numChildren > 0) this.markDirty(path, { data: false, children: true });
    else this.applyChildren(path, { ok: true, value: [] });
  }

  /** Apply a `get` reply; true when it failed transiently (read again). */
  private applyData(path: string, result: Settled<GetDataResult>): boolean {
    if (!result.ok) return this.readFailed(path, result.error);
    let node = this.lookup(path);
    if (node === undefined) {
      // Created (an event) and not listed by its parent yet: adopt it under a live parent (a
      // parent still pending will list it when its own read is applied).
      const parent = path === this.path ? undefined : this.lookup(parentPath(path));
      if (parent === undefined || parent.state !== 'LIVE') return false;
      node = parent.addChild(path.slice(path.lastIndexOf('/') + 1));
      this.markDirty(path, { data: false, children: true });
    }
    const { data, stat } = result.value;
    const old = node.record;
    const record = pack(result.value);
    node.record = record;
    if (node.state === 'LIVE') {
      if (old === undefined || mzxidOf(old) !== mzxidOf(record))
        this.publish('NODE_UPDATED', path, data, stat);
    } else {
      node.state = 'LIVE';
      this.publish('NODE_ADDED', path, data, stat);
    }
    return false;
  }

  /** Apply a `getChildren` reply; true when it failed transiently (read again). */
  private applyChildren(path: string, result: Settled<string[]>): boolean {
    if (!result.ok) return this.readFailed(path, result.error);
    const node = this.lookup(path);
    if (node === undefined || node.state === 'DEAD') return false;
    const listed = result.value;
    if (node.children !== undefined) {
      const names = new Set(listed);
      for (const [name, child] of [...node.children])
        if (!names.has(name)) this.removeNode(child, joinPath(path, name));
    }
    for (const name of [...listed].sort()) {
      if (node.child(name) !== undefined) continue;
      node.addChild(name);
      this.markDirty(joinPath(path, name), { data: true, children: true });
    }
    return false;
  }

  private readFailed(path: string, error: unknown): boolean {
    if (error instanceof NoNodeError) {
      const node = this.lookup(path);
      if (node !== undefined) this.removeNode(node, path);
      return false;
    }
    if (error instanceof AbortError || error instanceof ClientClosedError) return false;
    if (retriesWithinDeadline(error)) return true;
    this.fault(error);
    return false;
  }

  /** The node and its subtree are gone: NODE_REMOVED deepest first, for the nodes that were live. */
  private removeNode(node: TreeNode, path: string): void {
    for (const [name, child] of [...(node.children ?? [])]) this.removeNode(child, joinPath(path, name));
    node.children = undefined;
    const old = node.record;
    const wasLive = node.state === 'LIVE';
    node.record = undefined;
    node.state = 'DEAD';
    const { parent } = node;
    if (parent?.children?.get(node.name) === node) {
      parent.children.delete(node.name);
      if (parent.children.size === 0) parent.children = undefined;
    }
    if (wasLive && old !== undefined) {
      const { data, stat } = unpack(path, old);
      this.publish('NODE_REMOVED', path, data, stat);
    }
  }

  /** The cached node at `path` (any state), or undefined. */
  private lookup(path: string): TreeNode | undefined {
    let start = this.relative(path);
    if (start === -1) return undefined;
    let node: TreeNode | undefined = this.root;
    while (start < path.length) {
      const end = path.indexOf('/', start);
      node = node.child(path.slice(start, end === -1 ? undefined : end));
      if (node === undefined) return undefined;
      start = end === -1 ? path.length : end + 1;
    }
    return node;
  }

  /** Emit an event: a node event with the node's path, data and Stat, or a state event (the root, nulls). */
  private publish(
    type: TreeEventType,
    path = this.path,
    data: Buffer | null = null,
    stat: Stat | null = null,
  ): void {
    if (this.stateValue !== 'STARTED') return;
    const event: TreeEvent = { type, path, data, stat };
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.fault(error);
      }
    }
  }

  private fault(error: unknown): void {
    if (this.faultListeners.size === 0) {
      this.client.logger.error(`TreeCache ${this.path}: ${(error as Error)?.stack ?? String(error)}`);
      return;
    }
    for (const listener of [...this.faultListeners]) {
      try {
        listener(error);
      } catch (inner) {
        this.client.logger.error(`TreeCache ${this.path}: a fault listener threw: ${String(inner)}`);
      }
    }
  }
}

/** The reads in flight, oldest first: an array with a moving head (`Array#shift` copies). */
class ReadQueue {
  private items: Read[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(read: Read): void {
    this.items.push(read);
  }

  shift(): Read | undefined {
    if (this.head === this.items.length) return undefined;
    const read = this.items[this.head++];
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return read;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/** A dirty path and what of it is dirty. */
interface DirtyEntry extends Dirty {
  readonly path: string;
}

/**
 * The dirty paths, shallowest first and then in the order they became dirty (a path marked
 * again keeps its place, its flags merged): per depth, a FIFO array with a moving head plus a
 * Map for the merge, so taking the next path neither sorts nor iterates a Map (iterating from
 * the front of a Map whose front was deleted skips every deleted slot).
 */
class DirtyQueue {
  private readonly byDepth: { entries: DirtyEntry[]; head: number }[] = [];
  private readonly byPath = new Map<string, DirtyEntry>();
  private lowest = 0;

  get size(): number {
    return this.byPath.size;
  }

  mark(path: string, what: Dirty): void {
    const entry = this.byPath.get(path);
    if (entry) {
      entry.data ||= what.data;
      entry.children ||= what.children;
      return;
    }
    const added = { path, data: what.data, children: what.children };
    this.byPath.set(path, added);
    const depth = depthOf(path);
    (this.byDepth[depth] ??= { entries: [], head: 0 }).entries.push(added);
    if (depth < this.lowest) this.lowest = depth;
  }

  shift(): { path: string; what: Dirty } | undefined {
    if (this.byPath.size === 0) return undefined;
    for (;;) {
      const level = this.byDepth[this.lowest];
      if (level !== undefined && level.head < level.entries.length) {
        const entry = level.entries[level.head++]!;
        if (level.head === level.entries.length) {
          level.entries = [];
          level.head = 0;
        }
        this.byPath.delete(entry.path);
        return { path: entry.path, what: { data: entry.data, children: entry.children } };
      }
      this.lowest++;
    }
  }

  clear(): void {
    this.byDepth.length = 0;
    this.byPath.clear();
    this.lowest = 0;
  }
}

function depthOf(path: string): number {
  if (path === '/') return 0;
  let depth = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47 /* '/' */) depth++;
  return depth;
}

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}
