/**
 * The one core of the Curator queues (Curator's DistributedPriorityQueue and
 * DistributedDelayQueue wrap its DistributedQueue the same way): items are persistent
 * sequential children `<path>/<prefix><suffix><seq>`; a consumer lists them (watching the
 * directory), orders them (`order`), skips those not due yet (`delay`) and takes the first it
 * can. Taking an item:
 * - without a lock directory: read it, then delete it proven (`takeNode`): ours, or someone
 *   else's — never both, never dropped on a lost reply;
 * - with a lock directory (Curator's `lockPath`): create the ephemeral lock
 *   `<lockPath>/<item name>` first (Curator's layout; data = our id: `ItemLocks` settles a lost
 *   create or delete), read the item, and delete it only when `finish` is called
 *   (then the lock). A consumer that dies meanwhile loses its lock with its session, and the
 *   item is taken again.
 */
import { randomUUID } from 'node:crypto';
import type { RequestOptions, ZooKeeperClient } from '../../client/client.js';
import {
  AbortError,
  InvalidArgumentError,
  NodeExistsError,
  NoNodeError,
  TimeoutError,
} from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { pause, retriesWithinDeadline, withinDeadline } from '../../client/retry.js';
import { startTimer, type Timer } from '../../client/timer.js';
import type { Transaction } from '../../client/transaction.js';
import { ChangeWaiter, requestLimits, type WaitLimits } from '../change-waiter.js';
import { LockLostError } from '../errors.js';
import { ItemLocks } from './item-lock.js';
import { takeNode, type TakeTarget } from './take-node.js';

/** An item node this consumer took (or, with a lock directory, locked). */
export interface Claimed {
  /** The node's name. */
  name: string;
  data: Buffer;
  /** Our lock on it (lock directory only): its path and the session that owns it. */
  lock?: { path: string; session: bigint };
}

/** How a queue names and orders its items. */
export interface QueueShape {
  /** The item name prefix: Curator's `queue-`, or `qn-` (SimpleDistributedQueue). */
  prefix: string;
  /** Names (prefix included) in the order they are served; default plain string order. */
  order?: (names: string[], now: number) => string[];
  /** Milliseconds until `name` is due (> 0: not yet); default always due. */
  delay?: (name: string, now: number) => number;
}

/** Options shared by the Curator queues' constructors. */
export interface CoreOptions {
  /** Curator's `lockPath`: lock each item while it is processed (see the class docs). */
  lockPath?: string | undefined;
  /**
   * Where the take markers go (ephemeral, unique per take, deleted once settled). Default: the
   * lock directory when there is one (Curator never lists it), else the queue's own path
   * (Curator's consumers skip them with a "Foreign node in queue path" warning).
   */
  markerPath?: string | undefined;
}

/** Which of a queue's directories are containers (see `QueueCore.ensure`). */
export type QueueContainers = 'parents' | 'all';

export class QueueCore {
  readonly path: string;
  readonly lockPath: string | undefined;
  readonly markerPath: string;
  /** This instance's id (32 hex digits): the data of its locks and markers. */
  readonly id: string;
  private readonly idBytes: Buffer;
  /** Our locks on items (lock directory only). */
  private readonly locks: ItemLocks;
  private readonly target: TakeTarget;
  private ensured = false;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    readonly recipe: string,
    private readonly shape: QueueShape,
    options: CoreOptions,
    private readonly containers: QueueContainers = 'parents',
  ) {
    validatePath(path, recipe);
    this.path = path;
    if (options.lockPath !== undefined) validatePath(options.lockPath, recipe);
    if (options.markerPath !== undefined) validatePath(options.markerPath, recipe);
    this.lockPath = options.lockPath;
    this.markerPath = options.markerPath ?? options.lockPath ?? path;
    if (this.lockPath === path)
      throw new InvalidArgumentError('lockPath must differ from the queue path', { op: recipe, path });
    this.id = randomUUID().replaceAll('-', '');
    this.idBytes = Buffer.from(this.id, 'ascii');
    this.target = {
      client,
      path,
      markerDir: this.markerPath,
      id: this.idBytes,
      ensureMarkerDir: () => {
        this.ensured = false; // a container reaped, or the directory deleted
        return this.ensure({});
      },
    };
    this.locks = new ItemLocks(client, this.idBytes, 'take');
  }

  /**
   * Create the queue's directories if missing, as Curator 5 does: each directory persistent with
   * its missing parents as containers (`DistributedQueue.start`'s `creatingParentContainersIfNeeded`),
   * or, with `containers: 'all'`, the directory a container too (`SimpleDistributedQueue`'s
   * `EnsureContainers`: the server removes an emptied queue; a put or a take creates it again).
   */
  async ensure(limits: WaitLimits): Promise<void> {
    if (this.ensured) return;
    const dirs = new Set([this.path, this.lockPath ?? this.path, this.markerPath]);
    for (const dir of dirs) await withinDeadline(() => this.ensureDir(dir, requestLimits(limits)), limits);
    this.ensured = true;
  }

  private async ensureDir(dir: string, request: RequestOptions): Promise<void> {
    if (this.containers === 'all') return this.client.ensurePath(dir, { ...request, container: true });
    if ((await this.client.exists(dir, request)) !== null) return;
    const parent = dir.slice(0, dir.lastIndexOf('/'));
    if (parent !== '') await this.client.ensurePath(parent, { ...request, container: true });
    await this.client.create(dir, null, request).catch((error: unknown) => {
      if (!(error instanceof NodeExistsError)) throw error;
    });
  }

  /**
   * Create one item node `<path>/<prefix><suffix><seq>`; resolves with its path. Not retried,
   * but for a directory found missing (NoNode: nothing was created), which is created again.
   */
  async put(suffix: string, data: Buffer, limits: WaitLimits): Promise<string> {
    for (;;) {
      await this.ensure(limits);
      try {
        return await this.client.create(joinPath(this.path, `${this.shape.prefix}${suffix}`), data, {
          sequence: true,
          ...requestLimits(limits),
        });
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        this.ensured = false; // a container reaped, or the queue deleted
      }
    }
  }

  /**
   * Wait until the queue holds fewer than `maxItems` items (Curator's `blockIfMaxed`): true
   * then, false when the deadline passed first, `AbortError` on abort.
   */
  async waitForRoom(maxItems: number, limits: WaitLimits): Promise<boolean> {
    const room = await this.whileListing(limits, true, async (names) =>
      names.length < maxItems ? { found: true } : {},
    );
    return room === true;
  }

  /**
   * The first due item: taken (`remove`; with a lock directory: locked), or only read.
   * `wait`: until one is due, the deadline (null) or the signal (`AbortError`); else one pass.
   */
  async claim(limits: WaitLimits, options: { remove: boolean; wait: boolean }): Promise<Claimed | null> {
    const claimed = await this.whileListing<Claimed>(limits, options.wait, async (names, waiter) => {
      const now = Date.now();
      const locked: string[] = [];
      let dueIn: number | undefined;
      for (const name of this.shape.order ? this.shape.order(names, now) : names.sort()) {
        const delay = this.shape.delay?.(name, now) ?? 0;
        if (delay > 0) {
          dueIn = delay; // ordered by due time: the rest are later still
          break;
        }
        const found = await this.claimNode(name, limits, options.remove);
        if (found === 'locked') locked.push(name);
        else if (found) return { found };
      }
      // Wake when a lock goes too: its holder may have died (Curator waits for the next put).
      if (options.wait && (await this.watchLocks(locked, waiter, limits))) return { again: true };
      return { dueIn };
    });
    return claimed ?? null;
  }

  /**
   * The one loop of the queue's readers: list the items (watching the directory when `wait`)
   * and `look` at them until it finds something (`found`); after a look that found nothing,
   * wait for a change (or `dueIn` ms), or return undefined without `wait` or at the deadline.
   * `again`: list at once. Connection trouble is retried within the deadline; a missing
   * directory is created again.
   */
  private async whileListing<R>(
    limits: WaitLimits,
    wait: boolean,
    look: (names: string[], waiter: ChangeWaiter) => Promise<{ found?: R; dueIn?: number; again?: boolean }>,
  ): Promise<R | undefined> {
    await this.ensure(limits);
    for (let first = true; ; first = false) {
      if (limits.signal?.aborted) throw new AbortError(limits.signal.reason, { op: 'take', path: this.path });
      if (!first && limits.deadline !== undefined && Date.now() >= limits.deadline) return undefined;
      const waiter = new ChangeWaiter(this.client, limits);
      let timer: Timer | undefined;
      try {
        let dueIn: number | undefined;
        try {
          const children = await this.client.getChildren(this.path, {
            watch: wait ? waiter.watch(this.path, 'children') : undefined,
            ...requestLimits(limits),
          });
          const seen = await look(
            children.filter((name) => name.startsWith(this.shape.prefix)),
            waiter,
          );
          if (seen.found !== undefined) return seen.found;
          if (seen.again) continue;
          dueIn = seen.dueIn;
        } catch (error) {
          if (error instanceof NoNodeError) {
            this.ensured = false; // a directory was deleted: create it again
            await this.ensure(limits);
            continue;
          }
          if (error instanceof TimeoutError && !retriesWithinDeadline(error, limits.deadline))
            return undefined;
          if (!retriesWithinDeadline(error, limits.deadline)) throw error;
          await pause(limits.deadline, limits.signal);
          continue;
        }
        if (!wait) return undefined;
        if (dueIn !== undefined) timer = startTimer(dueIn, () => waiter.wake('watch'));
        const reason = await waiter.wait();
        if (reason === 'abort') throw new AbortError(limits.signal?.reason, { op: 'take', path: this.path });
        if (reason === 'deadline') return undefined;
      } finally {
        timer?.cancel();
        waiter.dispose();
      }
    }
  }

  /**
   * Delete a locked item (plus what `more` adds to the transaction), then its lock. True when
   * our delete was applied, false when the item was gone. The delete goes out only in the
   * session of our lock: if that session ended (before, or while the delete was on its way),
   * the item is locked again first: `LockLostError` when another consumer holds it now (it may
   * be processed twice).
   */
  async finish(claimed: Claimed, more?: (transaction: Transaction) => void): Promise<boolean> {
    const lock = claimed.lock!;
    const node = joinPath(this.path, claimed.name);
    try {
      for (;;) {
        if (lock.session !== this.client.sessionId) {
          const session = await this.locks.lock(lock.path, {});
          if (session === undefined) continue; // not sent, or not applied: nobody holds it, lock again
          if (session === 'theirs')
            throw new LockLostError(
              { op: 'take', path: node },
              'the session that locked the item ended while it was processed, and another consumer locked it: it may be processed twice',
            );
          lock.session = session;
        }
        const taken = await takeNode(this.target, node, -1, more, lock.session);
        if (taken !== 'lockLost') return taken;
      }
    } finally {
      await this.unlock(claimed);
    }
  }

  /** Delete our lock on a claimed item (a no-op once its session ended). */
  async unlock(claimed: Claimed): Promise<void> {
    const lock = claimed.lock;
    if (lock) await this.locks.unlock(lock.path, lock.session);
  }

  /**
   * Watch the locks of `names` (exists watches) so their deletion wakes `waiter`; true when one
   * is gone already (list again).
   */
  private async watchLocks(names: string[], waiter: ChangeWaiter, limits: WaitLimits): Promise<boolean> {
    const stats = await Promise.all(
      names.map((name) => {
        const lockPath = joinPath(this.lockPath!, name);
        return this.client.exists(lockPath, {
          watch: waiter.watch(lockPath, 'data'),
          ...requestLimits(limits),
        });
      }),
    );
    return stats.some((stat) => stat === null);
  }

  /** The item taken (or read, or locked), 'locked' by another consumer, or undefined (gone). */
  private async claimNode(
    name: string,
    limits: WaitLimits,
    remove: boolean,
  ): Promise<Claimed | 'locked' | undefined> {
    const node = joinPath(this.path, name);
    if (this.lockPath !== undefined && remove) {
      const lockPath = joinPath(this.lockPath, name);
      const session = await this.locks.lock(lockPath, limits);
      if (typeof session !== 'bigint') return 'locked';
      const claimed: Claimed = { name, data: Buffer.alloc(0), lock: { path: lockPath, session } };
      try {
        // Whatever the caller's limits: we hold a lock that must not be leaked.
        const entry = await this.locks.whileSession(session, () => this.client.get(node));
        if (entry !== undefined && this.client.sessionId === session) return { ...claimed, data: entry.data };
      } catch (error) {
        await this.unlock(claimed);
        throw error;
      }
      await this.unlock(claimed); // taken and deleted by its previous holder, or our session ended
      return undefined;
    }
    let entry;
    try {
      entry = await withinDeadline(() => this.client.get(node, requestLimits(limits)), limits);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
    if (!remove) return { name, data: entry.data };
    if (limits.signal?.aborted) throw new AbortError(limits.signal.reason, { op: 'take', path: this.path });
    return (await takeNode(this.target, node, entry.stat.version)) === true
      ? { name, data: entry.data }
      : undefined;
  }
}
