import type { ZooKeeperClient } from '../../client/client.js';
import { CreateMode } from '../../client/create-mode.js';
import {
  ClientClosedError,
  InvalidArgumentError,
  NoNodeError,
  NodeExistsError,
  TimeoutError,
} from '../../client/errors.js';
import { joinPath, parentPath, validatePath } from '../../client/paths.js';
import { settledWithin } from '../../client/retry.js';
import { ChangeWaiter, deadlineOf, pauseAfterError } from '../change-waiter.js';
import { RecipeStateError } from '../errors.js';
import { Listeners } from '../listeners.js';
import { OwnNode, type NodeRequest } from '../own-node.js';
import { protectedName } from '../protected-name.js';

/** Options of `new PersistentNode(...)`. */
export interface PersistentNodeOptions {
  /**
   * How the node is made: `CreateMode.EPHEMERAL` (default), `EPHEMERAL_SEQUENTIAL`, `PERSISTENT`
   * or `PERSISTENT_SEQUENTIAL` (not `CONTAINER`).
   */
  mode?: CreateMode;
  /**
   * Curator's `withProtection()`: the node is named `_c_<uuid>-<name>` (a UUID per instance), so
   * a create whose reply was lost is found and proven ours. Default: true for the sequential
   * modes (and required there: without it a lost create could not be told from another's node),
   * false otherwise.
   */
  protection?: boolean;
  /** A persistent mode only: the node is a TTL node (`PERSISTENT_WITH_TTL`) with this TTL, ms. */
  ttl?: number;
  /**
   * Curator's `useParentCreation`: make missing parents as container nodes (the server deletes
   * each once it is empty). Default true; when false, the node is made once someone makes its
   * parent (a watch on it).
   */
  creatingParents?: boolean;
  /** Closes the node (as `close()`) when it aborts. */
  signal?: AbortSignal;
}

/** Limits of `waitForInitialCreate` and `setData`. */
export interface PersistentNodeWaitOptions {
  /** Give up after this many ms. Default: no limit. */
  timeout?: number;
  /** Give up when it aborts (`AbortError`). */
  signal?: AbortSignal;
}

/**
 * PersistentNode: Curator's `PersistentNode` — a node that stays in ZooKeeper while this instance
 * runs, through connection loss and session loss, holding the latest data given. `start()` makes
 * it in the background; it is made again whenever it is deleted (a watch on it) and after a new
 * session replaced a lost one; `close()` deletes it.
 *
 * Znode layout (Curator 5): `<path>` itself, or with protection `<parent>/_c_<uuid>-<name>`
 * (Curator's protected create), or for a sequential mode `<path><seq>` / `<parent>/_c_<uuid>-<name><seq>`
 * — made again under the name it first got, non-sequentially, as Curator does. Data: the bytes
 * given (`setData` replaces them; they are written again whenever the node is made again).
 * Missing parents are made as containers (Curator's `creatingParentContainersIfNeeded`).
 *
 * Whose node: the node's life cycle is `OwnNode`'s (DESIGN.md "Recipe node lifecycle"). A
 * protected node is found after a lost create reply and adopted only when this session made it
 * (never twice, never an earlier session's). Without protection the name is fixed and may be
 * another's: an ephemeral held by another session is left alone and watched (made ours once it
 * goes; Curator instead takes it as its own and writes its data); a persistent node there is
 * taken as ours and gets our data, as Curator does.
 *
 * SUSPENDED: nothing changes (the node, ephemeral or not, lives while the session does); on the
 * reconnect the node is looked at again. LOST: an ephemeral node is no longer ours at once
 * (`getActualPath()` undefined, even while the server still lists it); on the new session it is
 * made again with the latest data, and the old session's node, if still there, is deleted —
 * never reported as ours. A persistent node stays ours. After `close()` nothing is made again.
 *
 * @example
 *   await using node = new PersistentNode(zk, '/services/web/host-1', Buffer.from('10.0.0.7:8080'));
 *   node.start();
 *   if (!(await node.waitForInitialCreate({ timeout: 10_000 }))) throw new Error('not registered');
 */
export class PersistentNode implements AsyncDisposable {
  readonly path: string;
  private readonly own: OwnNode;
  private readonly creatingParents: boolean;
  private state: 'latent' | 'started' | 'closed' = 'latent';
  /** The data the node should hold, and how many times it was given (`setData`). */
  private latest: { data: Buffer; version: number };
  /** The version of the data our node holds, while it is ours and known. */
  private written: number | undefined;
  private initialized = false;
  /** Replaced (after resolving) whenever the node's state may have moved on: waits look again. */
  private progress = deferred();
  private readonly closing = new AbortController();
  private waiter: ChangeWaiter | undefined;
  private loop: Promise<void> | undefined;
  private readonly listeners = new Listeners<string | undefined>();
  /** The node last reported by `changes()`: its path and czxid. */
  private reported: string | undefined;
  private readonly onAbort = () => {
    this.close().catch((error: unknown) => {
      this.client.logger.error(`PersistentNode ${this.path}: close failed: ${String(error)}`);
    });
  };

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    data: Buffer,
    private readonly options: PersistentNodeOptions = {},
  ) {
    validatePath(path, 'PersistentNode');
    if (path === '/')
      throw new InvalidArgumentError('a PersistentNode cannot be /', { op: 'PersistentNode' });
    const mode = options.mode ?? CreateMode.EPHEMERAL;
    const context = { op: 'PersistentNode', path };
    if (typeof mode !== 'object' || mode === null || 'container' in mode)
      throw new InvalidArgumentError(
        'mode must be EPHEMERAL(_SEQUENTIAL) or PERSISTENT(_SEQUENTIAL)',
        context,
      );
    const ephemeral = 'ephemeral' in mode && mode.ephemeral;
    const sequential = 'sequence' in mode && mode.sequence;
    const { protection = sequential, ttl, creatingParents = true } = options;
    if (typeof protection !== 'boolean' || typeof creatingParents !== 'boolean')
      throw new InvalidArgumentError('protection and creatingParents must be booleans', context);
    if (sequential && !protection)
      throw new InvalidArgumentError(
        'a sequential PersistentNode needs protection: a create whose reply is lost could not be told from another node',
        context,
      );
    if (ttl !== undefined && ephemeral)
      throw new InvalidArgumentError('an ephemeral node cannot have a TTL', context);
    this.path = path;
    this.latest = { data: copyData(data, context), version: 0 };
    this.creatingParents = creatingParents;
    const name = path.slice(path.lastIndexOf('/') + 1);
    this.own = new OwnNode(client, {
      parent: parentPath(path),
      prefix: protection ? protectedName(name) : name,
      sequential,
      ephemeral,
      ttl,
      shared: !protection,
      keepName: true,
    });
  }

  /**
   * Make the node in the background and keep it (once per instance: a second `start()` or one
   * after `close()` throws `RecipeStateError`). Use `waitForInitialCreate` to wait for it.
   */
  start(): void {
    if (this.state !== 'latent')
      throw new RecipeStateError('a PersistentNode can be started only once', {
        op: 'start',
        path: this.path,
      });
    this.state = 'started';
    const { signal } = this.options;
    if (signal?.aborted) return this.onAbort();
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.loop = this.run();
  }

  /**
   * Wait until the node was made (and holds our data) for the first time (Curator's
   * `waitForInitialCreate`): resolves true then, false after `timeout` ms or once closed;
   * rejects with `AbortError` when `signal` aborts, `RecipeStateError` when not started.
   */
  async waitForInitialCreate(options: PersistentNodeWaitOptions = {}): Promise<boolean> {
    if (this.state === 'latent')
      throw new RecipeStateError('start() the PersistentNode first', {
        op: 'waitForInitialCreate',
        path: this.path,
      });
    try {
      await this.until(() => this.initialized, options, 'waitForInitialCreate');
      return this.initialized;
    } catch (error) {
      if (error instanceof TimeoutError) return false;
      throw error;
    }
  }

  /**
   * The node's full path while it is ours in the current session (Curator's `getActualPath()`),
   * else undefined: before it was made, after LOST until it is made again, while another
   * session holds an unprotected ephemeral at our path, after `close()`.
   */
  getActualPath(): string | undefined {
    return this.state === 'started' ? this.own.path : undefined;
  }

  /** The data the node should hold (a copy): the latest given. */
  getData(): Buffer {
    return Buffer.from(this.latest.data);
  }

  /**
   * Replace the node's data: kept, written to the node now and whenever it is made again.
   * Resolves once the node holds it (or later data) in the current session; `timeout` /
   * `signal` bound only that wait (`TimeoutError` / `AbortError`: the data is written later
   * all the same). Before `start()` it just replaces the data to create with; after `close()`
   * it throws `RecipeStateError`.
   */
  async setData(data: Buffer, options: PersistentNodeWaitOptions = {}): Promise<void> {
    const context = { op: 'setData', path: this.path };
    if (this.state === 'closed') throw new RecipeStateError('the PersistentNode is closed', context);
    const version = this.latest.version + 1;
    this.latest = { data: copyData(data, context), version };
    if (this.state === 'latent') return;
    this.waiter?.wake('watch');
    await this.until(() => this.written !== undefined && this.written >= version, options, 'setData');
    if (this.written === undefined || this.written < version)
      throw new RecipeStateError('the PersistentNode was closed', context);
  }

  /**
   * Changes of the actual path from now on (`getActualPath()`), as an async iterator: the path
   * each time the node is made (Curator's `PersistentNodeListener.nodeCreated`) and undefined
   * when it stops being ours (deleted, session lost). Ends on `signal`, `break` or `close()`.
   */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<string | undefined> {
    return this.listeners.iterate(options.signal);
  }

  /**
   * Stop keeping the node and delete it (retried through connection loss until it is gone or,
   * for an ephemeral, its session is). Nothing is made again afterwards. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const started = this.state === 'started';
    this.state = 'closed';
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.closing.abort();
    this.moved();
    this.listeners.end();
    await this.loop;
    if (started) await this.deleteNode();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What `close()` does with the node: delete it (a PersistentTtlNode leaves it to its TTL). */
  protected async deleteNode(): Promise<void> {
    await this.own.remove();
  }

  /** Wait until `done()` (or close), bounded by `options`. */
  private async until(done: () => boolean, options: PersistentNodeWaitOptions, op: string): Promise<void> {
    const limits = { deadline: deadlineOf(options.timeout, { op, path: this.path }), signal: options.signal };
    while (!done() && this.state === 'started') await settledWithin(this.progress.promise, limits);
  }

  /** Something moved on: wake the waits, report a new actual path. */
  private moved(): void {
    // A node made again at the same path is reported again: it is told apart by its czxid.
    const path = this.getActualPath();
    const key = path === undefined ? undefined : `${path}@${String(this.own.czxid)}`;
    if (key !== this.reported) {
      this.reported = key;
      this.listeners.emit(path);
    }
    this.progress.resolve();
    this.progress = deferred();
  }

  /** Look, then sleep until something may have changed; again until closed. */
  private async run(): Promise<void> {
    while (this.state === 'started') {
      const waiter = new ChangeWaiter(this.client, { signal: this.closing.signal });
      this.waiter = waiter;
      try {
        const again = await this.look(waiter);
        this.moved();
        if (!again) await waiter.wait();
        this.moved();
      } catch (error) {
        if (this.state !== 'started' || error instanceof ClientClosedError) return;
        if (waiter.woken === undefined) {
          await pauseAfterError(this.client, error, `PersistentNode ${this.path}`, this.closing.signal);
        }
      } finally {
        this.waiter = undefined;
        waiter.dispose();
      }
    }
  }

  /**
   * One look (Curator's `createNode` / `watchNode`): have our node, write the latest data to it,
   * and watch it. Resolves true to look again at once; watches set here wake `waiter`.
   */
  private async look(waiter: ChangeWaiter): Promise<boolean> {
    const request: NodeRequest = { signal: this.closing.signal };
    if (this.own.unsettled) await this.own.find(request);
    if (this.own.path === undefined) {
      this.written = undefined;
      if (!(await this.create(waiter, request))) return false;
    }
    const path = this.own.path;
    if (path === undefined) return true; // the session changed meanwhile
    const latest = this.latest;
    if (this.written === undefined || this.written < latest.version) {
      try {
        await this.client.set(path, latest.data, request);
        this.written = latest.version;
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        this.own.vanished(); // deleted by someone else: made again
        return true;
      }
    }
    const stat = await this.client.exists(path, { watch: waiter.watch(path, 'data'), ...request });
    if (stat === null) {
      this.own.vanished();
      return true;
    }
    if (this.own.path === path) this.initialized = true;
    return false;
  }

  /**
   * Make our node. Resolves true when made (or a look found ours), false when the name is held
   * by another session (a shared name): it is watched, and the look runs again when it goes.
   */
  private async create(waiter: ChangeWaiter, request: NodeRequest): Promise<boolean> {
    const latest = this.latest;
    try {
      await this.own.create(latest.data, request);
      this.written = latest.version;
      return true;
    } catch (error) {
      if (error instanceof NoNodeError) {
        const { parent } = this.own.options;
        if (this.creatingParents) {
          await this.client.ensurePath(parent, { ...request, container: true });
          return true;
        }
        // Without parent creation, wait until someone makes the parent (Curator gives up instead).
        const stat = await this.client.exists(parent, { watch: waiter.watch(parent, 'data'), ...request });
        return stat !== null;
      }
      if (!(error instanceof NodeExistsError)) throw error;
    }
    // A node of our name: the look adopts it when it is ours (a persistent one at a shared name,
    // or one this session made) and deletes one of ours from an earlier session.
    const children = await this.own.find(request);
    if (this.own.path !== undefined) return true;
    const name = this.own.options.prefix;
    if (!children.includes(name)) return true;
    const occupied = joinPath(this.own.options.parent, name);
    const stat = await this.client.exists(occupied, { watch: waiter.watch(occupied, 'data'), ...request });
    return stat === null;
  }
}

function copyData(data: unknown, context: { op: string; path: string }): Buffer {
  if (!Buffer.isBuffer(data)) throw new InvalidArgumentError('data must be a Buffer', context);
  return Buffer.from(data);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
