import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { RequestOptions, ZooKeeperClient } from '../../client/client.js';
import {
  electionLeaderChannel,
  lockAcquireChannel,
  lockAcquiredChannel,
  lockLostChannel,
  lockReleasedChannel,
  traceAsync,
  type LockAcquireContext,
  type LockEvent,
  type LockRecipe,
} from '../../client/diagnostics.js';
import { AbortError, InvalidArgumentError, NoNodeError, TimeoutError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { remaining, retriesWithinDeadline, sleep } from '../../client/retry.js';
import type { Transaction } from '../../client/transaction.js';
import { AlreadyAcquiredError, LockLostError, NotHeldError, RecipeMismatchError } from '../errors.js';
import { ChangeWaiter, deadlineOf, nextTry, type Wake } from '../change-waiter.js';
import { OwnNode, type NodeRequest } from '../own-node.js';
import { Ownership } from '../ownership.js';
import { protectedName } from '../protected-name.js';
import { attemptRevoke, watchRevocation } from './revocation.js';
import {
  ALL_MARKERS,
  blockersAhead,
  contenderData,
  contenderPattern,
  CURATOR_LOCK_NAME,
  CURATOR_MARKERS,
  foreignPattern,
  LOCK_NAME,
  sequenceOf,
} from './contenders.js';

/** Options of `new Lock(...)`: identifier, extra lock patterns, and when the ownership signal fires. */
export interface LockOptions {
  /** Stored as the node's data; what `contenders()` lists. Default: empty. */
  identifier?: string;
  /** More contender markers to honour, e.g. `['-lock-']` for Curator nodes (kazoo's `extra_lock_patterns`). */
  extraLockPatterns?: readonly string[];
  /**
   * The layout: kazoo's (default; `Lock`: `<32hex>__lock__<seq>`) or Curator's (`Lock`:
   * `_c_<uuid>-lock-<seq>`, its InterProcessMutex; ReadLock/WriteLock: `_c_<uuid>-__READ__<seq>` /
   * `_c_<uuid>-__WRIT__<seq>`, its InterProcessReadWriteLock). Either layout fails with
   * `RecipeMismatchError` when it finds the other's nodes on its path (see `Lock`).
   */
  naming?: 'kazoo' | 'curator';
  /**
   * Re-entrant within one async flow (as Curator's mutex is within one thread): a nested
   * `acquire` in the flow that holds the lock resolves `true` at once and counts up, `release`
   * counts down (the node goes at zero). Another flow waits for this instance, then for the
   * lock. A flow is an `AsyncLocalStorage` context: what runs after `await lock.acquire()` and
   * every async call it makes. `acquire` marks the flow with `AsyncLocalStorage.enterWith`, which
   * also covers the rest of the synchronous code that called it: flows that must exclude each
   * other should each acquire after an `await` of their own (as event handlers and requests do),
   * not from one synchronous loop. Default false (a second acquire throws `AlreadyAcquiredError`).
   */
  reentrant?: boolean;
  /** When a holder's `signal` fires: on SUSPENDED (default, safe) or only on LOST. */
  ownershipLostOn?: 'SUSPENDED' | 'LOST';
  /** A waiter whose session is lost: re-queue at the back (default) or fail with `LockLostError`. */
  onSessionLost?: 'requeue' | 'fail';
  /**
   * The lock directory is probably missing (a new lock name, e.g. a SetPartitioner's item): the
   * first acquire creates it in the same round trip as our node (one more request when it
   * exists) instead of after a failed create. Its parent must exist. Default false.
   */
  createDirectory?: boolean;
}

/** Options of `acquire`: timeout (ms; 0 = try once), signal. */
export interface AcquireOptions {
  /** Give up after this many ms (one deadline for the whole acquire) and resolve `false`. */
  timeout?: number;
  /** Abort the acquire: rejects with `AbortError` and leaves no node behind. */
  signal?: AbortSignal;
  /** `false`: resolve `false` at once when someone is ahead. Default true. */
  blocking?: boolean;
  /** `false`: a persistent contender node that survives the session (kazoo's `ephemeral=False`). */
  ephemeral?: boolean;
}

/** How a lock kind names its nodes and which nodes block it (Lock, ReadLock, WriteLock, Election). */
export interface LockKind {
  /** The marker in our node names, e.g. `__lock__`. */
  nodeName: string;
  /**
   * Curator layouts: the lock name after Curator's protection prefix `_c_<uuid>-` (`lock-`,
   * `__READ__`, `__WRIT__`), so our node is `_c_<uuid>-<curatorName><seq>`. Kazoo layouts: none.
   */
  curatorName?: string;
  /** The same kind in Curator's layout (`naming: 'curator'`); none: the kind has no Curator mode. */
  curator?: LockKind;
  /** Markers of the contenders that block us. */
  blockingNames: readonly string[];
  /** How many may hold at once (1 for a mutex). */
  maxHolders: number;
  /** The recipe its diagnostics events name. */
  recipe: LockRecipe;
}

/**
 * A mutex (N = 1) or an N-leader election: kazoo's `__lock__` nodes, or in Curator's layout its
 * InterProcessMutex / LeaderSelector nodes (lock name `lock-`), which also honour kazoo's.
 */
export function mutexKind(recipe: LockRecipe, maxHolders: number): LockKind {
  return {
    nodeName: LOCK_NAME,
    blockingNames: [LOCK_NAME],
    maxHolders,
    recipe,
    curator: {
      nodeName: CURATOR_LOCK_NAME,
      curatorName: 'lock-',
      blockingNames: [LOCK_NAME, CURATOR_LOCK_NAME],
      maxHolders,
      recipe,
    },
  };
}

const MUTEX = mutexKind('Lock', 1);

/** Who holds a re-entrant lock: the async flow that took it, and how many times. */
interface Reentry {
  /** The flow of each `acquire`: its identity, set by `acquire` for the caller's continuation. */
  readonly flows: AsyncLocalStorage<object>;
  /** The flow that holds (or is acquiring), and its depth. */
  owner: object | undefined;
  depth: number;
  /** Resolved when the instance is idle again (neither held nor acquiring). */
  idle: { promise: Promise<void>; resolve: () => void } | undefined;
}

/**
 * Lock: a fair (FIFO) distributed mutex, wire-compatible with kazoo's `Lock` (and `Election`).
 *
 * Znode layout (kazoo 2.8): `<path>` persistent and empty; one contender node per acquire,
 * `<path>/<32hex>__lock__<seq>`, ephemeral + sequential, data = identifier (UTF-8). The lowest
 * sequence holds the lock; each waiter watches only the node just ahead of it. With
 * `naming: 'curator'` nodes are `_c_<uuid>-lock-<seq>` instead (Curator's InterProcessMutex:
 * a `_c_<uuid>-` protected, ephemeral-sequential `lock-` node; it honours kazoo's `__lock__` too;
 * a missing `<path>` is created as a container node, as Curator does).
 *
 * Layouts that meet: a kazoo-layout lock that finds a node of a Curator recipe on its path
 * (`-lock-`, `__READ__`, `__WRIT__`, `-latch-`, unless named in `extraLockPatterns`) when it
 * looks — before it is granted and after every wake-up — removes its node and rejects with
 * `RecipeMismatchError` instead of granting; a Curator-layout one does so on kazoo reader,
 * LeaderLatch or read-write nodes. A default-named `Lock` cannot be made safe against a Curator
 * mutex that arrives *after* it: Curator orders children by the text after `lock-`, so it never
 * sees our `__lock__` node as ahead of it. Next to Curator processes use `naming: 'curator'`
 * (safe both ways; kazoo peers see those nodes with `extra_lock_patterns=['-lock-']`).
 *
 * SUSPENDED: a holder's `signal` fires (ownership may be lost: stop relying on the lock), unless
 * `ownershipLostOn: 'LOST'`; if the session survives, `isAcquired` stays true and a fresh
 * `signal` is armed. A waiter keeps its place; its reads wait for the reconnect.
 * LOST: the lock node is ours no more. A holder's `isAcquired` becomes false at once and its
 * `signal` fires. A waiter re-queues at the back with a new node (`onSessionLost: 'requeue'`,
 * kazoo's behaviour, the default) or `acquire` rejects with `LockLostError` (`'fail'`).
 *
 * The contender node's life cycle is `OwnNode`'s (DESIGN.md "Recipe node lifecycle"): after a
 * lost create reply our node is found by the instance-unique prefix and adopted only when its
 * `ephemeralOwner` is the current session. A node of an earlier session — our client declared
 * LOST, the server has not expired that session yet — is never adopted (nor kept as a waiter's
 * place): it is deleted, so it neither makes us a second holder nor blocks the others.
 * `ephemeral: false` nodes survive the session; the prefix alone proves them ours.
 *
 * Not re-entrant by default: `acquire()` on an instance that holds or is acquiring throws
 * `AlreadyAcquiredError` (kazoo would return False or hang). `reentrant: true`: re-entrant per
 * async flow, as Curator's mutex is per thread (see `LockOptions.reentrant`).
 * Revocation (Curator's, `revocation.ts`, `LockInternals.internalLockLoop`): `makeRevocable(listener)`
 * has the instance watch its own node's data from the moment the node exists — a waiter as well
 * as a holder; `Lock.attemptRevoke(client, node)` sets it to `__REVOKE__`. The watch follows a
 * re-queued waiter's new node and goes when the acquire ends without the lock (false, abort,
 * error), on release and on LOST; SUSPENDED: a request made meanwhile is seen after the
 * reconnect (the watch is re-registered with the session).
 *
 * @example
 *   await using lock = new Lock(zk, '/locks/billing', { identifier: 'worker-1' });
 *   if (await lock.acquire({ timeout: 5_000 })) {
 *     await chargeCustomers({ signal: lock.signal, fencingToken: lock.fencingToken });
 *   } // released by `await using`
 */
export class Lock implements AsyncDisposable {
  readonly path: string;
  readonly identifier: string;
  private readonly data: Buffer;
  /** Our node-name prefix, unique per instance: finds our node after a lost create reply. */
  private readonly prefix: string;
  /** Our contender node (ephemeral or persistent, per acquire). */
  private own: OwnNode;
  /** The contenders that block us (for a reader: writers only). */
  private readonly blocking: RegExp;
  /** Every contender of the path, for `contenders()` (readers and writers alike). */
  private readonly everyContender: RegExp;
  /** Curator's layout creates a missing lock directory as a container (`creatingParentContainersIfNeeded`). */
  private readonly containerParents: boolean;
  private readonly createDirectory: boolean;
  /** Nodes of another layout that must not share our path (`RecipeMismatchError`). */
  private readonly foreign: RegExp | undefined;
  /** `reentrant: true`: the flow that holds, and its depth. */
  private readonly reentry: Reentry | undefined;
  /** A ReadLock's write lock: while it holds, the reader is granted at once (downgrade). */
  protected downgradeFrom: Lock | undefined;
  private readonly maxHolders: number;
  private readonly onSessionLost: 'requeue' | 'fail';
  private acquiring = false;
  private held = false;
  /** What diagnostics report of the current hold: since when, which node, which token (kept: LOST forgets the node). */
  private heldSince = 0;
  private heldNode: string | undefined;
  private heldToken: bigint | undefined;
  private readonly recipe: LockRecipe;
  private readonly ownership: Ownership;
  private revocationListener: ((lock: Lock) => void) | undefined;
  /** The node whose data we watch for `__REVOKE__`, and how to stop. */
  private revocation: { node: string; stop: () => void } | undefined;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: LockOptions = {},
    kind: LockKind = MUTEX,
  ) {
    validatePath(path, 'Lock');
    const naming = options.naming ?? 'kazoo';
    const layout = naming === 'curator' ? kind.curator : naming === 'kazoo' ? kind : undefined;
    if (layout === undefined) {
      throw new InvalidArgumentError(`naming must be 'kazoo' or 'curator', got ${String(naming)}`, {
        op: kind.recipe,
        path,
      });
    }
    this.path = path;
    this.identifier = options.identifier ?? '';
    this.data = Buffer.from(this.identifier, 'utf8');
    const id = randomUUID();
    const ownName = layout.nodeName;
    // Curator's protected names: `_c_<uuid>-<lock name><seq>` (CreateBuilder.withProtection).
    this.prefix =
      layout.curatorName === undefined
        ? `${id.replaceAll('-', '')}${ownName}`
        : protectedName(layout.curatorName, id);
    const blockingNames = [...new Set([...layout.blockingNames, ...(options.extraLockPatterns ?? [])])];
    this.blocking = contenderPattern(blockingNames);
    this.everyContender = contenderPattern([...new Set([...blockingNames, ownName])]);
    // A Curator layout orders every child (LockInternals.getSortedChildren): any other recipe's
    // node misleads it. A kazoo layout only misses Curator's nodes.
    this.foreign = foreignPattern(layout.curatorName === undefined ? CURATOR_MARKERS : ALL_MARKERS, [
      ...blockingNames,
      ownName,
    ]);
    this.containerParents = layout.curatorName !== undefined;
    this.createDirectory = options.createDirectory ?? false;
    this.reentry = options.reentrant
      ? { flows: new AsyncLocalStorage(), owner: undefined, depth: 0, idle: undefined }
      : undefined;
    this.own = this.ownNode(true);
    this.maxHolders = layout.maxHolders;
    this.recipe = layout.recipe;
    this.onSessionLost = options.onSessionLost ?? 'requeue';
    this.ownership = new Ownership(client, path, 'lock', options.ownershipLostOn ?? 'SUSPENDED');
  }

  /** True while this instance holds the lock (false at once when the session is lost). */
  get isAcquired(): boolean {
    return this.held;
  }

  /**
   * Aborts when ownership may have been lost (SUSPENDED or LOST, per `ownershipLostOn`) or the
   * lock is released. Already aborted when not held. Pass it to the work the lock protects.
   */
  get signal(): AbortSignal {
    return this.ownership.signal;
  }

  /**
   * A number that grows with every acquisition of this lock path (the czxid of our lock node):
   * downstream systems can reject writes carrying an older token than one they have seen.
   */
  get fencingToken(): bigint {
    const token = this.own.czxid;
    if (!this.held || token === undefined) throw new NotHeldError({ path: this.path });
    return token;
  }

  /** Our contender node's full path, while we have one (only in the session that created it). */
  get nodePath(): string | undefined {
    return this.own.path;
  }

  private ownNode(ephemeral: boolean): OwnNode {
    const createParent = this.createDirectory
      ? this.containerParents
        ? 'container'
        : 'persistent'
      : undefined;
    return new OwnNode(this.client, {
      parent: this.path,
      prefix: this.prefix,
      sequential: true,
      ephemeral,
      createParent,
    });
  }

  /**
   * Wait for the lock. Resolves `true` once held; `false` when non-blocking and someone is
   * ahead, or the `timeout` passed. Rejects with `AbortError` when `signal` aborts, and with
   * `AlreadyAcquiredError` when this instance holds or is acquiring. No node is left behind
   * unless the lock is held: when a non-blocking acquire resolves `false` while connected, every
   * session already sees our node gone (within its `timeout`, if given); at the `timeout`, after
   * an abort or while disconnected it answers at once and the removal finishes in the
   * background (a connection that stopped answering looks connected until its read timeout;
   * the deadline is kept all the same). The next acquire of this instance waits for it.
   */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    const reentry = this.reentry;
    if (reentry === undefined) return this.tracedAcquire(options);
    const flow = reentry.flows.getStore();
    if (flow !== undefined && flow === reentry.owner && this.held) {
      reentry.depth += 1;
      return Promise.resolve(true);
    }
    // A new identity for the caller's flow, set synchronously so that what runs after its
    // `await` (and every async call it makes) belongs to it.
    const mine = {};
    reentry.flows.enterWith(mine);
    return this.acquireInTurn(reentry, mine, options);
  }

  /** Re-entrant mode: wait until this instance is idle (another flow's hold), then acquire. */
  private async acquireInTurn(reentry: Reentry, flow: object, options: AcquireOptions): Promise<boolean> {
    const { signal, timeout, blocking = true } = options;
    const deadline = deadlineOf(timeout, { op: 'acquire', path: this.path });
    while (this.held || this.acquiring) {
      if (signal?.aborted) throw new AbortError(signal.reason, { op: 'acquire', path: this.path });
      const left = remaining(deadline);
      if (!blocking || (left !== undefined && left <= 0)) return false;
      if (reentry.idle === undefined) {
        let resolve!: () => void;
        const promise = new Promise<void>((done) => (resolve = done));
        reentry.idle = { promise, resolve };
      }
      const stop = new AbortController();
      const slept = sleep(left ?? Infinity, signal ? AbortSignal.any([signal, stop.signal]) : stop.signal);
      slept.catch(() => {}); // an abort is re-checked at the loop's top
      await Promise.race([reentry.idle.promise, slept.catch(() => {})]);
      stop.abort();
    }
    reentry.owner = flow;
    try {
      const left = deadline === undefined ? {} : { timeout: Math.max(0, deadline - Date.now()) };
      const acquired = await this.tracedAcquire({ ...options, ...left });
      if (acquired) reentry.depth = 1;
      return acquired;
    } finally {
      if (!this.held) this.becameIdle(reentry);
    }
  }

  /** Re-entrant mode: no flow owns the instance any more; wake the flows waiting for it. */
  private becameIdle(reentry: Reentry): void {
    reentry.owner = undefined;
    reentry.depth = 0;
    reentry.idle?.resolve();
    reentry.idle = undefined;
  }

  private tracedAcquire(options: AcquireOptions): Promise<boolean> {
    if (!lockAcquireChannel.hasSubscribers) return this.acquireOnce(options);
    const ctx: LockAcquireContext = { recipe: this.recipe, path: this.path };
    return traceAsync(
      lockAcquireChannel,
      ctx,
      () => this.acquireOnce(options),
      (done, acquired) => {
        done.acquired = acquired;
        if (acquired) {
          done.node = this.heldNode;
          done.fencingToken = this.heldToken;
        }
      },
    );
  }

  private async acquireOnce(options: AcquireOptions): Promise<boolean> {
    if (this.held || this.acquiring) throw new AlreadyAcquiredError({ op: 'acquire', path: this.path });
    const { blocking = true, ephemeral = true, signal, timeout } = options;
    if (signal?.aborted) throw new AbortError(signal.reason, { op: 'acquire', path: this.path });
    const deadline = deadlineOf(timeout, { op: 'acquire', path: this.path });
    this.acquiring = true;
    try {
      if (this.own.options.ephemeral !== ephemeral) this.own.removeLater(); // sweeps what the other kind may have left
      // A previous attempt's node must be gone before we queue again (one node per instance);
      // waited for within this acquire's limits.
      try {
        await this.own.removed({ deadline, signal });
      } catch (error) {
        if (error instanceof TimeoutError) return false;
        throw error;
      }
      if (this.own.options.ephemeral !== ephemeral) this.own = this.ownNode(ephemeral);
      this.own.takeLost(); // a node lost before this acquire is not this acquire's loss
      const acquired = await this.acquireLoop(blocking, deadline, signal);
      if (acquired) this.becomeHolder(ephemeral);
      else await this.own.removeBeforeAnswering({ deadline, signal });
      return acquired;
    } catch (error) {
      // A refused path leaves nothing behind when we answer (a retry would otherwise meet our node).
      if (error instanceof RecipeMismatchError) await this.own.removeBeforeAnswering({ deadline, signal });
      else this.own.removeLater();
      throw error;
    } finally {
      this.acquiring = false;
      if (!this.held) this.stopRevocation(); // a waiter's watch ends with its acquire
    }
  }

  private async acquireLoop(
    blocking: boolean,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    for (;;) {
      const request = nextTry(deadline, signal, { op: 'acquire', path: this.path });
      if (request === undefined) return false;
      let children: string[];
      try {
        children = await this.findOrCreateNode(request);
      } catch (error) {
        // Connection trouble, a request timeout or session expiry: the loop's top re-checks the
        // deadline, the next requests wait for the reconnect, and the next look sees a lost node.
        if (retriesWithinDeadline(error)) continue;
        throw error;
      }
      const node = this.own.name;
      if (node === undefined || !children.includes(node)) {
        // Our node is gone (its session ended while we waited): the next look says so.
        this.own.vanished();
        continue;
      }
      this.watchRevocation(); // a waiter can be asked to give up too (Curator's internalLockLoop)
      if (this.foreign !== undefined) {
        const stranger = children.find((child) => this.foreign!.test(child));
        if (stranger !== undefined)
          throw new RecipeMismatchError(
            `${this.path} holds ${stranger}, a node of another recipe's layout: sharing the path would grant two holders`,
            { op: 'acquire', path: this.path },
          );
      }
      const ahead = blockersAhead(children, this.blocking, sequenceOf(node));
      // Curator's read lock: granted at once while its own write lock holds (downgrade).
      if (ahead.length < this.maxHolders || this.downgradeFrom?.isAcquired === true) return true;
      if (!blocking) return false;
      // A mutex watches the node just ahead (no herd). With several holders any of the nodes
      // ahead may leave first, so watch the directory instead.
      const watched = this.maxHolders === 1 ? joinPath(this.path, ahead[ahead.length - 1]!.name) : undefined;
      const wake = await this.waitForChange(watched, deadline, signal);
      if (wake === 'deadline') return false;
    }
  }

  /**
   * Our node plus the current children. The create and the children read are pipelined (one
   * round trip; the server applies them in order, so the list includes our node). After a
   * lost create reply the OwnNode looks for our node first (by prefix, adopted only when
   * created in this session) instead of creating a second one. A node lost with its session is
   * never reused: the waiter re-queues with a new node, or fails (`onSessionLost: 'fail'`).
   */
  private async findOrCreateNode(request: NodeRequest): Promise<string[]> {
    if (this.own.name !== undefined) {
      const children = await this.client.getChildren(this.path, request);
      const node = this.own.name; // undefined if the session changed while we read
      if (node !== undefined && children.includes(node)) return children;
      this.own.vanished();
    }
    if (this.own.takeLost() && this.onSessionLost === 'fail')
      throw new LockLostError({ op: 'acquire', path: this.path });
    if (this.own.unsettled) {
      const children = await this.own.find(request);
      if (this.own.name !== undefined) return children;
    }
    const created = this.own.create(this.data, request);
    const listed = this.client.getChildren(this.path, request);
    listed.catch(() => {}); // awaited below; keep a failed create from leaving it unhandled
    try {
      await created;
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      // The lock directory does not exist (yet, or any more): create it and try again. Not
      // checking it up front saves a round trip on every acquire.
      await this.client.ensurePath(this.path, { ...request, container: this.containerParents });
      return this.findOrCreateNode(request);
    }
    return listed;
  }

  /**
   * Sleep until the predecessor (or, without one, the directory's children) changes, the
   * connection state changes, the deadline, or abort. Every wake-up is re-checked by the caller.
   */
  private async waitForChange(
    predecessor: string | undefined,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Wake> {
    const waiter = new ChangeWaiter(this.client, { deadline, signal });
    try {
      // A data read, not exists: a vanished predecessor leaves no creation watch behind.
      const watching =
        predecessor === undefined
          ? this.client.getChildren(this.path, { watch: waiter.watch(this.path, 'children'), signal })
          : this.client.get(predecessor, { watch: waiter.watch(predecessor, 'data'), signal });
      // NoNode: the predecessor is gone already; anything else is connection trouble: re-check.
      watching.catch((error: unknown) => waiter.wake(error instanceof NoNodeError ? 'watch' : 'state'));
      return await waiter.wait();
    } finally {
      waiter.dispose(); // removes our listener from a watch that did not fire
    }
  }

  private becomeHolder(ephemeral: boolean): void {
    this.held = true;
    this.heldSince = performance.now();
    this.heldNode = this.own.path;
    this.heldToken = this.own.czxid;
    // On LOST our ephemeral is not ours any more: the OwnNode forgets it by itself.
    this.ownership.hold(() => {
      this.held = false;
      if (this.reentry !== undefined) this.becameIdle(this.reentry);
      this.stopRevocation();
      this.publishHeld(lockLostChannel);
    }, !ephemeral);
    this.watchRevocation(); // already watched since the node was created, unless that read failed
    if (lockAcquiredChannel.hasSubscribers) lockAcquiredChannel.publish(this.lockEvent());
    if (this.recipe === 'Election' && electionLeaderChannel.hasSubscribers)
      electionLeaderChannel.publish(this.lockEvent());
  }

  /** The diagnostics event of this lock: our node and fencing token (DESIGN.md, Observability). */
  private lockEvent(): LockEvent {
    return { recipe: this.recipe, path: this.path, node: this.heldNode, fencingToken: this.heldToken };
  }

  /** Released or lost: how long it was held. */
  private publishHeld(channel: typeof lockReleasedChannel): void {
    if (!channel.hasSubscribers) return;
    const event = this.lockEvent();
    event.heldMs = performance.now() - this.heldSince;
    channel.publish(event);
  }

  /**
   * Release the lock; resolves `false` when it was not held. Not held (e.g. lost with its
   * session) and not acquiring, it still deletes what is left of our nodes: an earlier session's
   * node, which the server may not have expired yet, would block the others till it does.
   */
  async release(): Promise<boolean> {
    const reentry = this.reentry;
    if (reentry !== undefined && this.held) {
      if (reentry.flows.getStore() !== reentry.owner)
        throw new NotHeldError({ op: 'release', path: this.path }, 'the lock is held by another async flow');
      reentry.depth -= 1;
      if (reentry.depth > 0) return true;
    }
    if (!this.held) {
      if (!this.acquiring) await this.own.remove();
      return false;
    }
    this.held = false;
    if (reentry !== undefined) this.becameIdle(reentry);
    this.stopRevocation();
    this.ownership.release();
    this.publishHeld(lockReleasedChannel);
    await this.own.remove();
    return true;
  }

  /**
   * Make the lock revocable (Curator's `makeRevocable`): while this instance holds *or waits*,
   * `listener` is called when someone asks for it with `Lock.attemptRevoke` (or Curator's
   * `Revoker.attemptRevoke`) — the data of our lock node set to `__REVOKE__`. Cooperative: the
   * listener decides. A holder (`lock.isAcquired`) is expected to release; a waiter to give up
   * its place by aborting the `acquire` (the `signal` it passed), which removes its node. Set
   * before or during an acquire, or while holding; the node's data is checked at once.
   *
   * @example
   *   const giveUp = new AbortController();
   *   lock.makeRevocable((l) => (l.isAcquired ? void l.release() : giveUp.abort()));
   *   await lock.acquire({ signal: giveUp.signal });
   */
  makeRevocable(listener: (lock: Lock) => void): void {
    if (typeof listener !== 'function')
      throw new InvalidArgumentError('the revocation listener must be a function', {
        op: 'makeRevocable',
        path: this.path,
      });
    this.revocationListener = listener;
    if (this.held || this.acquiring) this.watchRevocation();
  }

  /**
   * Ask the holder of lock node `nodePath` (a `nodePath` of ours, or a Curator
   * InterProcessMutex's participant node) to release it (Curator's `Revoker.attemptRevoke`).
   * A node that is gone is ignored.
   *
   * @example
   *   await Lock.attemptRevoke(zk, holderNodePath);
   */
  static attemptRevoke(
    client: ZooKeeperClient,
    nodePath: string,
    options: RequestOptions = {},
  ): Promise<void> {
    return attemptRevoke(client, nodePath, options);
  }

  /** Watch our current node for `__REVOKE__` (once per node: a re-queued waiter's new node replaces the old). */
  private watchRevocation(): void {
    const listener = this.revocationListener;
    const node = this.own.path;
    if (!listener || node === undefined || this.revocation?.node === node) return;
    this.stopRevocation();
    const stop = watchRevocation(this.client, node, () => {
      if (this.revocation?.node === node) listener(this);
    });
    this.revocation = { node, stop };
  }

  private stopRevocation(): void {
    this.revocation?.stop();
    this.revocation = undefined;
  }

  /** The identifiers of every contender, holder first (kazoo's `contenders()`). */
  async contenders(): Promise<string[]> {
    return contenderData(this.client, this.path, this.everyContender);
  }

  /**
   * A transaction that commits only while this lock is really held: it starts with a `check`
   * of our lock node, so a write racing with the loss of the lock fails instead of applying.
   *
   * @example
   *   await lock.transaction().set('/config', next).commit();
   */
  transaction(): Transaction {
    const node = this.own.path;
    if (!this.held || node === undefined) throw new NotHeldError({ op: 'transaction', path: this.path });
    return this.client.transaction().check(node, -1);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
