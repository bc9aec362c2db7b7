import { randomUUID } from 'node:crypto';
import type { ZooKeeperClient } from '../../client/client.js';
import {
  AbortError,
  InvalidArgumentError,
  NoNodeError,
  NodeExistsError,
  SessionExpiredError,
  TimeoutError,
} from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { isRetryable, retriesWithinDeadline } from '../../client/retry.js';
import { ChangeWaiter, deadlineOf, nextTry, whileConnected } from '../change-waiter.js';
import { TransactionError } from '../../client/transaction.js';
import { OwnNode, type NodeRequest } from '../own-node.js';
import { Ownership } from '../ownership.js';
import { protectedName } from '../protected-name.js';
import { childrenData } from '../child-data.js';
import { AlreadyAcquiredError, LockLostError, NotHeldError, RecipeMismatchError } from '../errors.js';
import { Lock } from '../lock/lock.js';

/** Options of `new Semaphore(...)`: max leases, identifier, and when the ownership signal fires. */
export interface SemaphoreOptions {
  /** Stored as the lease node's data; what `leaseHolders()` lists. Default: empty. */
  identifier?: string;
  /** How many may hold at once. Must match the value stored by whoever created `<path>`. Default 1. */
  maxLeases?: number;
  /** When a holder's `signal` fires: on SUSPENDED (default, safe) or only on LOST. */
  ownershipLostOn?: 'SUSPENDED' | 'LOST';
  /** A waiter whose session is lost: start over in the new session (default) or fail with `LockLostError`. */
  onSessionLost?: 'requeue' | 'fail';
  /**
   * The layout: kazoo's `Semaphore` (default) or Curator's `InterProcessSemaphoreV2` (`'curator'`:
   * `<path>/locks` + `<path>/leases`, max leases given per client, nothing stored). Each layout
   * fails with `RecipeMismatchError` on a path the other uses.
   */
  naming?: 'kazoo' | 'curator';
}

/** Options of `Semaphore.acquire`: timeout and signal. */
export interface SemaphoreAcquireOptions {
  /** Give up after this many ms (one deadline for the whole acquire) and resolve `false`. */
  timeout?: number;
  /** Abort the acquire: rejects with `AbortError` and leaves no node behind. */
  signal?: AbortSignal;
  /**
   * `false`: resolve `false` at once when no lease is free — or when another process is in the
   * middle of an acquire (it holds the internal lock), as in kazoo. Default true.
   */
  blocking?: boolean;
}

/** The suffix of the internal lock's directory, a sibling of the semaphore node. */
const LOCK_SUFFIX = '-__lock__';
/** InterProcessSemaphoreV2's children of `<path>`: `LOCK_PARENT` and `LEASE_PARENT` (its `LOCK_SCHEMA`). */
const CURATOR_LOCKS = 'locks';
const CURATOR_LEASES = 'leases';

/** `'lost'`: the internal lock was lost (with the session); `'restart'`: the semaphore node was deleted. */
type Attempt = 'acquired' | 'busy' | 'timeout' | 'restart' | 'lost';

/**
 * Python's `int(text)` for the semaphore node's data: optional whitespace and sign, decimal
 * digits with single underscores between them. Anything else is `undefined` (kazoo skips the check).
 */
function parseStoredLeases(data: Buffer): number | undefined {
  const text = data.toString('utf8').trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(text)) return undefined;
  return Number(text.replaceAll('_', ''));
}

/** A directory that does not exist has no children. */
function absentAsEmpty(error: unknown): string[] {
  if (error instanceof NoNodeError) return [];
  throw error;
}

/**
 * Semaphore: up to `maxLeases` concurrent holders, wire-compatible with kazoo's `Semaphore`
 * (a kazoo process and this class share one semaphore; each counts the other's holders).
 *
 * Znode layout (kazoo 2.8):
 * - `<path>`: persistent; data = max leases as ASCII decimal (e.g. `2`), written only by the
 *   process that creates the node. An existing node whose data is a different number is a
 *   `RecipeMismatchError` (kazoo's ValueError "Inconsistent max leases"); non-numeric or empty
 *   data is not checked (kazoo's rule). Changing max leases means deleting the node.
 * - `<path>/<32hex>`: one ephemeral node per holder, data = identifier (UTF-8); the name is fixed
 *   per instance. **Every** child of `<path>` counts as a lease: put nothing else there.
 * - `<path>-__lock__` (a sibling, not a child): a kazoo `Lock` directory. An acquirer takes that
 *   lock, counts the leases, creates its lease node if one is free (else, blocking, watches the
 *   children and waits), then releases the lock. Only the lock holder watches the lease pool;
 *   the other waiters queue on the lock (no herd).
 *
 * SUSPENDED: a holder's `signal` fires (stop relying on the lease), unless
 * `ownershipLostOn: 'LOST'`; if the session survives, `isAcquired` stays true and a fresh
 * `signal` is armed. A waiter keeps its place; its reads wait for the reconnect.
 * LOST: the lease node is ours no more. A holder's `isAcquired` becomes false at once and its
 * `signal` fires (kazoo leaves `is_acquired` true). A waiter starts over in the new session
 * (`onSessionLost: 'requeue'`, kazoo's behaviour, the default) or `acquire` rejects with
 * `LockLostError` (`'fail'`). The lease node's life cycle is `OwnNode`'s (DESIGN.md "Recipe node
 * lifecycle"): after a lost create reply the lease is adopted only when its `ephemeralOwner` is
 * the current session; a lease (or internal lock node) of an earlier session, which the server
 * may not have expired yet, is never adopted but deleted.
 *
 * `naming: 'curator'`: Curator's InterProcessSemaphoreV2 layout instead (curator-recipes 5.4):
 * - `<path>/locks`: an InterProcessMutex (`_c_<uuid>-lock-<seq>` nodes; our `Lock` with
 *   `naming: 'curator'`) that guards taking a lease: the acquirer holds it while it counts and
 *   waits, so only one waiter watches the pool.
 * - `<path>/leases/_c_<uuid>-lease-<seq>`: one protected ephemeral-sequential node per holder,
 *   data = identifier. Every child of `leases` counts; a lease is free while fewer than
 *   `maxLeases` exist. Max leases are not stored: each client gives its own (Curator's rule), so
 *   every client of one path must give the same number.
 * Curator creates its lease first and then waits for `children <= maxLeases` while holding the
 * mutex; we count first and create only when one is free (in a transaction with a check of our
 * mutex node), which grants the same leases, since only the mutex holder takes one. Missing
 * parents are created as container nodes, as Curator does.
 * A kazoo-layout semaphore that finds `locks`/`leases` children, and a Curator-layout one that
 * finds any other child of `<path>` (a kazoo lease), reject `acquire` with `RecipeMismatchError`
 * instead of granting: the two layouts do not count each other's leases.
 *
 * Deviations from kazoo (none visible on the wire): a `timeout` resolves `false` instead of
 * raising LockTimeout, and bounds the whole acquire; `signal` replaces `cancel()` (a stale abort
 * never affects a later acquire); the semaphore node is created with its data in one step (kazoo
 * creates it empty, then writes); the lease node is created in a transaction that checks our node
 * of the internal lock, so a lease is never taken after the lock was lost; an interrupted
 * acquire deletes its lease node, retrying through connection loss (in the background when
 * disconnected: the acquire answers at its deadline; the next one waits for it); one internal `Lock`
 * instance serves every attempt (kazoo makes one per attempt), so the next attempt sweeps its
 * node of a lost session instead of queueing behind it.
 *
 * @example
 *   await using sem = new Semaphore(zk, '/limits/exports', { identifier: 'worker-7', maxLeases: 3 });
 *   if (await sem.acquire({ timeout: 30_000 })) {
 *     await runExport({ signal: sem.signal });
 *   } // released by `await using`
 */
export class Semaphore implements AsyncDisposable {
  readonly path: string;
  readonly identifier: string;
  readonly maxLeases: number;
  /** The internal lock's directory: `<path>-__lock__` (Curator layout: `<path>/locks`). */
  readonly lockPath: string;
  /** The directory whose children are the leases: `<path>` (Curator layout: `<path>/leases`). */
  readonly leasesPath: string;
  /**
   * Our lease node, `<path>/<32hex>` (fixed for the instance); in Curator's layout its prefix,
   * `<path>/leases/_c_<uuid>-lease-`, which the server follows with a sequence number.
   */
  readonly leasePath: string;
  private readonly curator: boolean;
  private readonly data: Buffer;
  private readonly onSessionLost: 'requeue' | 'fail';
  /** The semaphore node exists and its max leases were checked (once per instance, like kazoo). */
  private pathEnsured = false;
  /** Our lease node's life cycle: a lease of an earlier session is never adopted. */
  private readonly own: OwnNode;
  /**
   * The internal lock, one instance for every attempt (kazoo makes a new one per attempt; the
   * wire is the same): its node of a lost session is swept by the next attempt's look.
   */
  private readonly lock: Lock;
  private acquiring = false;
  private held = false;
  private readonly ownership: Ownership;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: SemaphoreOptions = {},
  ) {
    validatePath(path, 'Semaphore');
    if (path === '/')
      throw new InvalidArgumentError('a Semaphore cannot use the root node', { op: 'Semaphore', path });
    const maxLeases = options.maxLeases ?? 1;
    if (!Number.isSafeInteger(maxLeases) || maxLeases < 1) {
      throw new InvalidArgumentError(`maxLeases must be a positive integer, got ${String(maxLeases)}`, {
        op: 'Semaphore',
        path,
      });
    }
    this.path = path;
    this.identifier = options.identifier ?? '';
    this.data = Buffer.from(this.identifier, 'utf8');
    this.maxLeases = maxLeases;
    const naming = options.naming ?? 'kazoo';
    if (naming !== 'kazoo' && naming !== 'curator')
      throw new InvalidArgumentError(`naming must be 'kazoo' or 'curator', got ${String(naming)}`, {
        op: 'Semaphore',
        path,
      });
    this.curator = naming === 'curator';
    this.lockPath = this.curator ? joinPath(path, CURATOR_LOCKS) : path + LOCK_SUFFIX;
    this.leasesPath = this.curator ? joinPath(path, CURATOR_LEASES) : path;
    // Curator: a protected sequential `lease-` (CreateBuilder.withProtection); kazoo: a fixed name.
    const leaseName = this.curator ? protectedName('lease-') : randomUUID().replaceAll('-', '');
    this.leasePath = joinPath(this.leasesPath, leaseName);
    this.own = new OwnNode(client, {
      parent: this.leasesPath,
      prefix: leaseName,
      sequential: this.curator,
      ephemeral: true,
    });
    // Curator stores no max leases: nothing to create or check.
    this.pathEnsured = this.curator;
    this.ownership = new Ownership(client, path, 'semaphore lease', options.ownershipLostOn ?? 'SUSPENDED');
    this.onSessionLost = options.onSessionLost ?? 'requeue';
    // Its data is our identifier, as kazoo's.
    this.lock = new Lock(client, this.lockPath, {
      identifier: this.identifier,
      onSessionLost: this.onSessionLost,
      naming,
    });
  }

  /** True while this instance holds a lease (false at once when the session is lost). */
  get isAcquired(): boolean {
    return this.held;
  }

  /**
   * Aborts when the lease may have been lost (SUSPENDED or LOST, per `ownershipLostOn`) or is
   * released. Already aborted when not held. Pass it to the work the lease protects.
   */
  get signal(): AbortSignal {
    return this.ownership.signal;
  }

  /**
   * Grows with every lease taken on this semaphore (our lease node's czxid): a fencing token.
   * Undefined in the rare case the connection dropped right after the lease was taken.
   */
  get fencingToken(): bigint | undefined {
    if (!this.held) throw new NotHeldError({ path: this.path }, 'the semaphore lease is not held');
    return this.own.czxid;
  }

  /**
   * Wait for a lease. Resolves `true` once held (at once if this instance already holds one,
   * as kazoo's acquire is idempotent); `false` when non-blocking and none is free, or the
   * `timeout` passed. Rejects with `AbortError` when `signal` aborts, `RecipeMismatchError` when
   * the stored max leases differ from ours, and `AlreadyAcquiredError` when this instance is
   * already acquiring. No node (lease or lock) is left behind unless the lease is held: a
   * non-blocking acquire answers once it is gone (while connected); at the `timeout` or an
   * abort it answers at once and the removal finishes in the background (as Lock's `acquire`).
   */
  async acquire(options: SemaphoreAcquireOptions = {}): Promise<boolean> {
    if (this.acquiring)
      throw new AlreadyAcquiredError(
        { op: 'acquire', path: this.path },
        'this semaphore instance is already acquiring',
      );
    if (this.held) return true;
    const { blocking = true, signal, timeout } = options;
    if (signal?.aborted) throw new AbortError(signal.reason, { op: 'acquire', path: this.path });
    const deadline = deadlineOf(timeout, { op: 'acquire', path: this.path });
    this.acquiring = true;
    try {
      // An earlier attempt's lease (its name is fixed per instance) must be gone before we take
      // one again; waited for within this acquire's limits.
      try {
        await this.own.removed({ deadline, signal });
      } catch (error) {
        if (error instanceof TimeoutError) return false;
        throw error;
      }
      const acquired = await this.acquireLoop(blocking, deadline, signal);
      if (acquired) this.becomeHolder();
      else await this.own.removeBeforeAnswering({ deadline, signal });
      return acquired;
    } catch (error) {
      this.own.removeLater(); // answered at once; the lease node goes in the background
      throw error;
    } finally {
      this.acquiring = false;
    }
  }

  /** kazoo's `client.retry(_inner_acquire)`: start over after connection or session loss. */
  private async acquireLoop(
    blocking: boolean,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    for (;;) {
      const request = nextTry(deadline, signal, { op: 'acquire', path: this.path });
      if (request === undefined) return false;
      try {
        if (!this.pathEnsured) await this.ensureSemaphoreNode(request);
        // A create whose reply was lost may have made our lease node (kazoo checks every time);
        // it is ours only if made in this session (OwnNode), else it is deleted.
        if (this.own.unsettled) {
          await this.own.find(request);
          if (this.own.name !== undefined) return true;
        }
      } catch (error) {
        // A TimeoutError may be the client's requestTimeout, not our deadline: the loop top decides.
        if (retriesWithinDeadline(error)) continue;
        throw error;
      }
      const lock = this.lock;
      if (!(await lock.acquire({ blocking, timeout: request.timeout, signal }))) return false;
      let outcome: Attempt;
      try {
        outcome = await this.takeLease(lock, blocking, deadline, signal);
      } finally {
        // Not held up by an outage nor past our limits: the lock's node goes in the background,
        // and the lock's next acquire waits for that within its limits.
        const released = lock.release().catch((error: unknown) => {
          this.client.logger.error(`releasing the lock of semaphore ${this.path} failed: ${String(error)}`);
        });
        await whileConnected(this.client, released, { deadline, signal });
      }
      if (outcome === 'acquired') return true;
      if (outcome === 'busy' || outcome === 'timeout') return false;
      if (outcome === 'lost' && this.onSessionLost === 'fail')
        throw new LockLostError(
          { op: 'acquire', path: this.path },
          'the session was lost while waiting for a semaphore lease',
        );
    }
  }

  /**
   * Create `<path>` with our max leases as data, or check the value stored there. The node is
   * created with its data in one step; kazoo creates it empty and then writes, so a node seen
   * empty may be a kazoo creator's that has not written yet: not checked, like kazoo.
   */
  private async ensureSemaphoreNode(request: {
    timeout?: number | undefined;
    signal?: AbortSignal | undefined;
  }): Promise<void> {
    if (!(await this.client.exists(this.path, request))) {
      try {
        await this.client.create(this.path, String(this.maxLeases), { makePath: true, ...request });
        this.pathEnsured = true;
        return;
      } catch (error) {
        if (!(error instanceof NodeExistsError)) throw error;
      }
    }
    const { data } = await this.client.get(this.path, request);
    const stored = parseStoredLeases(data);
    if (stored !== undefined && stored !== this.maxLeases) {
      throw new RecipeMismatchError(`Inconsistent max leases: ${stored}, expected: ${this.maxLeases}`, {
        op: 'acquire',
        path: this.path,
      });
    }
    this.pathEnsured = true;
  }

  /**
   * Holding the internal lock: take a lease if fewer than `maxLeases` exist; blocking, watch
   * the lease pool and try again on every change. `'lost'` when the lock was lost with the
   * session (kazoo's ForceRetryError).
   */
  private async takeLease(
    lock: Lock,
    blocking: boolean,
    deadline: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Attempt> {
    for (;;) {
      if (!lock.isAcquired) return 'lost';
      const request = nextTry(deadline, signal, { op: 'acquire', path: this.path });
      if (request === undefined) return 'timeout';
      // Listens to state changes from before the read, so none is missed.
      const waiter = blocking ? new ChangeWaiter(this.client, { deadline, signal }) : undefined;
      try {
        let children = await this.listLeases(request, waiter);
        if (this.own.unsettled) {
          // Our create's reply was lost: adopt the lease if it was made in this session; a lease
          // of our previous session, which the server has not removed yet, is deleted.
          children = await this.own.find(request, children);
          if (this.own.name !== undefined) return 'acquired';
        }
        if (children.length < this.maxLeases) {
          waiter?.dispose();
          const created = await this.createLease(lock, request);
          if (created === 'again') continue;
          return created;
        }
        if (!waiter) return 'busy';
        if ((await waiter.wait()) === 'deadline') return 'timeout';
      } catch (error) {
        // ConnectionLoss: the next request waits for the reconnect. TimeoutError: our deadline
        // (the loop top returns 'timeout') or the client's requestTimeout (look again).
        if (isRetryable(error) || error instanceof TimeoutError) continue;
        // NotHeldError: lock.transaction() after LOST took our lock node.
        if (error instanceof SessionExpiredError || error instanceof NotHeldError) return 'lost';
        if (error instanceof NoNodeError && !this.curator) {
          // Someone deleted the semaphore node under us: create it again from the top.
          this.pathEnsured = false;
          return 'restart';
        }
        throw error;
      } finally {
        waiter?.dispose();
      }
    }
  }

  /**
   * Create our lease node, but only while our internal lock node still exists: the transaction
   * starts with a check of it. `'again'`: look at the pool again; `'lost'`: our lock node is
   * gone (session lost, or deleted by someone), take the lock again.
   */
  private async createLease(lock: Lock, request: NodeRequest): Promise<'acquired' | 'again' | 'lost'> {
    try {
      await this.own.createIn(lock.transaction(), this.data, request);
    } catch (error) {
      if (!(error instanceof TransactionError)) throw error; // outcome unknown: the OwnNode looks next time
      // NodeExists: a lease of our previous session, not yet expired (the next look deletes it).
      if (error.failedIndex === 1 && error.error instanceof NodeExistsError) return 'again';
      if (error.failedIndex === 1 && error.error instanceof NoNodeError) {
        if (!this.curator) throw error.error; // the semaphore node is gone
        await this.client.ensurePath(this.leasesPath, { ...request, container: true }); // as Curator makes it
        return 'again';
      }
      return 'lost';
    }
    return 'acquired';
  }

  /**
   * The leases (with a watch for the waiter), after checking that the other layout does not
   * use the path: kazoo's leases are every child of `<path>`, Curator's live under `leases`.
   */
  private async listLeases(request: NodeRequest, waiter: ChangeWaiter | undefined): Promise<string[]> {
    const watch = waiter?.watch(this.leasesPath, 'children');
    if (!this.curator) {
      const children = await this.client.getChildren(this.path, { ...request, watch });
      this.checkLayout(children.filter((child) => child === CURATOR_LOCKS || child === CURATOR_LEASES));
      return children;
    }
    // Both reads in one round trip; a missing directory has no leases.
    const top = this.client.getChildren(this.path, request).catch(absentAsEmpty);
    const leases = this.client.getChildren(this.leasesPath, { ...request, watch }).catch(absentAsEmpty);
    const [children, listed] = await Promise.all([top, leases]);
    this.checkLayout(children.filter((child) => child !== CURATOR_LOCKS && child !== CURATOR_LEASES));
    return listed;
  }

  /** `strangers`: children of `<path>` that belong to the other layout. */
  private checkLayout(strangers: readonly string[]): void {
    if (strangers.length === 0) return;
    const layout = this.curator ? 'a kazoo Semaphore' : "Curator's InterProcessSemaphoreV2";
    throw new RecipeMismatchError(
      `${this.path} holds ${strangers.join(', ')}, the layout of ${layout}: neither would count the other's leases`,
      { op: 'acquire', path: this.path },
    );
  }

  private becomeHolder(): void {
    this.held = true;
    // On LOST our lease is not ours any more: the OwnNode forgets it by itself.
    this.ownership.hold(() => (this.held = false));
  }

  /** Release the lease; resolves `false` when none was held. */
  async release(): Promise<boolean> {
    if (!this.held) return false;
    this.held = false;
    this.ownership.release();
    await this.own.remove();
    return true;
  }

  /** The identifiers of every lease holder, unordered (kazoo's `lease_holders()`); `[]` when the semaphore does not exist. */
  async leaseHolders(): Promise<string[]> {
    const children = await this.client.getChildren(this.leasesPath).catch(absentAsEmpty);
    return childrenData(this.client, this.leasesPath, children);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}
