import type { ZooKeeperClient } from '../../client/client.js';
import { CreateMode } from '../../client/create-mode.js';
import { AbortError, InvalidArgumentError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { RecipeStateError } from '../errors.js';
import { Listeners } from '../listeners.js';
import { hostAddress } from '../local-address.js';
import { PersistentNode } from '../node/persistent-node.js';
import { TreeCache, type TreeEvent } from '../watchers/tree-cache.js';

/**
 * One change of the group as `getCurrentMembers()` shows it: a member joined, changed its payload
 * or left (`data`: its payload then, for `'left'` the last one seen).
 */
export interface GroupChange {
  type: 'joined' | 'updated' | 'left';
  id: string;
  data: Buffer;
}

/** Options of `GroupMember.changes()`: a signal that ends the iteration. */
export interface GroupChangesOptions {
  signal?: AbortSignal;
}

/** Limits of `GroupMember.waitForInitialCreate()` and `setThisData()`. */
export interface GroupWaitOptions {
  /** Give up waiting after this many ms. Default: no limit. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * GroupMember: Curator's `GroupMember` (curator-recipes 5, `nodes/GroupMember`) — this process
 * joins a group under a member id with a payload, and sees every member of the group with its
 * payload.
 *
 * Znode layout (Curator 5): `<membershipPath>/<thisId>`, ephemeral, data = the payload's bytes as
 * given (default: this host's address as text, as Curator's `getLocalAddress()`); missing parents
 * are created as containers. The members are the direct children of `membershipPath` (deeper
 * nodes are ignored, as Curator's `parentPathFilter` does). Ids must be unique in the group. Our
 * GroupMember and Curator's on one path see each other and each other's payloads.
 *
 * How it works: one mechanism per concern, as Curator composes it. This member's node is a
 * `PersistentNode` (EPHEMERAL): created on `start()`, created again whenever it is deleted or its
 * session ends, its data set by `setThisData`. The group is a `TreeCache` of `membershipPath`
 * (Curator's `CuratorCache`: one persistent recursive watch; it creates nothing, so a group
 * whose path does not exist yet is watched until it does).
 *
 * `getCurrentMembers()`: this member always (Curator: "this instance is always a member") with
 * the payload it last set — never the bytes cached at its path, which after a session loss may be
 * the ended session's node (until the server expires it) or anything else this session did not
 * write; every other member as the cache last saw it. Whether this member's node exists now,
 * proven by this session, is `joined`.
 *
 * SUSPENDED: the cache's last view (members may have joined or left meanwhile: they are reported
 * once reconnected). This member's node stays if the session survives: the others never see it
 * leave.
 * LOST: this member's node ends with the session — the others see it leave once the server has
 * expired the session — and `joined` is false at once; the `PersistentNode` creates it again in
 * the new session with the latest payload (the others see it come back). A node the ended session
 * left at its path (the server's expiry lags our client's LOST) is never adopted: it is deleted
 * and made again. The cache reads the group again and reports who joined or left meanwhile.
 *
 * @example
 *   await using member = new GroupMember(zk, '/services/billing/members', hostname(), Buffer.from('8080'));
 *   await member.start();
 *   for (const [id, payload] of member.getCurrentMembers()) console.log(id, payload.toString());
 *   for await (const change of member.changes({ signal })) console.log(change.type, change.id);
 */
export class GroupMember implements AsyncDisposable, AsyncIterable<GroupChange> {
  readonly membershipPath: string;
  readonly thisId: string;
  /** This member's node: `<membershipPath>/<thisId>`. */
  readonly path: string;
  private readonly node: PersistentNode;
  private readonly cache: TreeCache;
  private readonly listeners = new Listeners<GroupChange>();
  private state: 'latent' | 'started' | 'closed' = 'latent';
  /** No payload given and none set yet: `start()` joins with this host's address. */
  private addressPayload: boolean;

  /**
   * @param membershipPath the group's node: its children are the members.
   * @param thisId this member's id, one path segment; must be unique in the group.
   * @param payload this member's data; default this host's address as text, exactly Curator's
   *   default (`CuratorFrameworkFactory.getLocalAddress()`: the host name resolved), looked up
   *   by `start()` (until then, and if it does not resolve, empty).
   */
  constructor(
    readonly client: ZooKeeperClient,
    membershipPath: string,
    thisId: string,
    payload?: Buffer,
  ) {
    validatePath(membershipPath, 'GroupMember');
    if (typeof thisId !== 'string' || thisId === '' || thisId.includes('/'))
      throw new InvalidArgumentError("thisId must be a non-empty string without '/'", {
        op: 'GroupMember',
        path: membershipPath,
      });
    this.addressPayload = payload === undefined;
    payload ??= Buffer.alloc(0);
    checkPayload(payload, 'GroupMember', membershipPath);
    this.membershipPath = membershipPath;
    this.thisId = thisId;
    this.path = joinPath(membershipPath, thisId);
    validatePath(this.path, 'GroupMember');
    this.node = new PersistentNode(client, this.path, payload, { mode: CreateMode.EPHEMERAL });
    this.cache = new TreeCache(client, membershipPath, { createRoot: false });
    this.cache.listen((event) => {
      const change = this.changeOf(event);
      if (change) this.listeners.emit(change);
    });
  }

  /**
   * Join the group (this member's node is created in the background, see `waitForInitialCreate`)
   * and read the group; resolves once the group has been read (`AbortError` if `close()` comes
   * first). Once per instance: else `RecipeStateError`.
   */
  async start(): Promise<void> {
    if (this.state !== 'latent')
      throw new RecipeStateError('a GroupMember can be started only once', {
        op: 'start',
        path: this.membershipPath,
      });
    this.state = 'started';
    if (this.addressPayload) {
      const address = Buffer.from(await hostAddress());
      // A setThisData or close() while looking it up wins.
      if (this.addressPayload && this.state === 'started') await this.node.setData(address);
    }
    if (this.state !== 'started') throw new AbortError(undefined, { op: 'start', path: this.membershipPath });
    this.node.start();
    await this.cache.start();
  }

  /**
   * Wait until this member's node has been made the first time (Curator's
   * `PersistentNode.waitForInitialCreate`): resolves `true` then, `false` after `timeout` or once
   * closed; `AbortError` on abort, `RecipeStateError` before `start()`.
   */
  waitForInitialCreate(options: GroupWaitOptions = {}): Promise<boolean> {
    return this.node.waitForInitialCreate(options);
  }

  /**
   * The members now: id → payload (a copy). Includes this member with the payload it last set
   * (also before `start()`, as Curator); after `close()`, empty.
   */
  getCurrentMembers(): Map<string, Buffer> {
    const members = new Map<string, Buffer>();
    if (this.state === 'closed') return members;
    for (const id of this.cache.getChildren(this.membershipPath) ?? []) {
      if (id === this.thisId) continue;
      const cached = this.cache.getData(joinPath(this.membershipPath, id));
      if (cached) members.set(id, cached.data);
    }
    members.set(this.thisId, this.node.getData());
    return new Map([...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /**
   * Change this member's payload (Curator's `setThisData`): `getCurrentMembers()` shows it at
   * once, and it is written to this member's node now and whenever the node is made again.
   * Resolves once the node holds it in the current session (while disconnected: after the
   * reconnect); `timeout` / `signal` bound only that wait (`TimeoutError` / `AbortError`: the
   * payload is written later all the same). Before `start()` it replaces the payload to join with.
   */
  async setThisData(data: Buffer, options: GroupWaitOptions = {}): Promise<void> {
    checkPayload(data, 'setThisData', this.path);
    if (this.state === 'closed')
      throw new RecipeStateError('the GroupMember is closed', { op: 'setThisData', path: this.path });
    this.addressPayload = false;
    const written = this.node.setData(data, options);
    this.listeners.emit({ type: 'updated', id: this.thisId, data: Buffer.from(data) });
    await written;
  }

  /**
   * Whether this member's node exists in the current session, proven (its `PersistentNode`'s
   * actual path): false before it is made, while suspended it stays as it was, false after LOST
   * until the node is made again in the new session, false after `close()`.
   */
  get joined(): boolean {
    return this.node.getActualPath() !== undefined;
  }

  /** The member id of a member node's path: its last segment (Curator's `ZKPaths.getNodeFromPath`). */
  idFromPath(path: string): string {
    validatePath(path, 'idFromPath');
    return path.slice(path.lastIndexOf('/') + 1);
  }

  /**
   * The changes of `getCurrentMembers()` from now on, as an async iterator (buffered while the
   * consumer is busy): other members joining, changing their payload and leaving, and this
   * member's `setThisData` (`'updated'`). Ends when `signal` aborts, the loop is left, or the
   * member is closed.
   */
  changes(options: GroupChangesOptions = {}): AsyncIterableIterator<GroupChange> {
    return this.listeners.iterate(options.signal);
  }

  [Symbol.asyncIterator](): AsyncIterator<GroupChange> {
    return this.changes();
  }

  /**
   * Leave the group: this member's node is deleted and the cache stops (no watch left); change
   * iterators end. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.listeners.end();
    await Promise.all([this.cache.close(), this.node.close()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What a cache event means for another member (a direct child of the membership path). */
  private changeOf(event: TreeEvent): GroupChange | undefined {
    const { path, data } = event;
    const prefix = this.membershipPath === '/' ? '/' : `${this.membershipPath}/`;
    if (data === null || !path.startsWith(prefix) || path.indexOf('/', prefix.length) !== -1)
      return undefined;
    const id = path.slice(prefix.length);
    if (id === '' || id === this.thisId) return undefined;
    switch (event.type) {
      case 'NODE_ADDED':
        return { type: 'joined', id, data };
      case 'NODE_UPDATED':
        return { type: 'updated', id, data };
      case 'NODE_REMOVED':
        return { type: 'left', id, data };
      default:
        return undefined;
    }
  }
}

function checkPayload(payload: unknown, op: string, path: string): asserts payload is Buffer {
  if (!Buffer.isBuffer(payload)) throw new InvalidArgumentError('the payload must be a Buffer', { op, path });
}
