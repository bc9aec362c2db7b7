import { randomUUID } from 'node:crypto';
import type { RequestOptions, ZooKeeperClient } from '../../client/client.js';
import type { Stat } from '../../client/protocol/records.js';
import {
  AbortError,
  ClientClosedError,
  InvalidArgumentError,
  NoNodeError,
  NodeExistsError,
  ProtocolError,
  SessionExpiredError,
  TimeoutError,
} from '../../client/errors.js';
import { joinPath, parentPath, validatePath } from '../../client/paths.js';
import { EventType, type WatchListener } from '../../client/states.js';
import {
  isOutcomeUnknown,
  pause,
  retriesWithinDeadline,
  settledWithin,
  withinDeadline,
} from '../../client/retry.js';
import { TransactionError, type ReadOp, type ReadResult } from '../../client/transaction.js';
import { OutcomeUnknownError } from '../errors.js';
import { fenceAttempt, markerPath, removeMarker } from '../attempt-marker.js';
import { ChangeWaiter, deadlineOf, requestLimits, type WaitLimits } from '../change-waiter.js';
import { EntryListing } from './entry-listing.js';
import { ItemLocks } from './item-lock.js';
import { DEFAULT_PRIORITY, publishTaken, putEntries, putEntry, type EntryTarget } from './queue.js';

/** Options of `LockingQueue.get`: timeout and signal. */
export interface LockingQueueGetOptions {
  /** Give up after this many ms and resolve `null` (`0`: one attempt). Default: wait forever. */
  timeout?: number;
  /** Abort the wait: rejects with `AbortError`. */
  signal?: AbortSignal;
}

/** Options of `new LockingQueue(...)`. */
export interface LockingQueueOptions {
  /**
   * Always take the very first available entry, as kazoo's LockingQueue does, even while other
   * consumers choose at the same moment (they then race for it, and each loser pays a write
   * round trip). Default false: with other consumers' locks present, one of the first few of the
   * first priority, at random (see the class doc). A lone consumer takes entries in order either way.
   */
  strictOrder?: boolean;
}

/** Per-call options of a LockingQueue's calls: timeout and signal. */
export interface LockingQueueCallOptions {
  /** Give up after this many ms with `TimeoutError`. */
  timeout?: number;
  signal?: AbortSignal;
}

type Op = 'consume' | 'release';

/** Prefix of the per-attempt marker children of `<path>` (see the module doc). */
export const QUEUE_MARKER_PREFIX = '__queue_op__';

/**
 * How long a lock that `consume()` took ahead for the next `get()` waits for it, ms; then it is
 * handed back (and the last attempt's marker deleted), so an instance no longer used hides no item.
 */
export const LOCK_AHEAD_MS = 200;

/** At most how many entries a consumer chooses among (see `EntryListing.choices`). */
const MAX_SPREAD = 16;

/** How long the watch that keeps a LockingQueue's listing up to date outlives its last call, ms. */
export const FOLLOW_IDLE_MS = 5_000;

/** A consume or release whose reply may be lost. */
interface Attempt {
  op: Op;
  /** Its marker node, created by its transaction. */
  marker: string;
  /** The session it was sent in. */
  session: bigint;
  /** The marker of the previous applied attempt, deleted by this one's transaction. */
  spent?: string;
  /** A consume's lock on the next entry, created by its transaction (see `finish`). */
  next?: string;
}

/** What `takeListed` checks a listing with: `entries`' Stat (null: gone) and the names in `taken`. */
type ListingCheck = [Stat | null, string[]];

/** A lock consume() took on the next entry (ours in `session`), not yet returned by get(). */
interface Ahead {
  name: string;
  session: bigint;
  /** The entry's read, sent right behind the transaction that created the lock. */
  read: Promise<{ data: Buffer } | 'gone' | undefined>;
  /** The listing's check, sent right behind the read (see `checkOf`); none when the lock's creation was proven by `settle`. */
  check?: SentCheck;
}

/** A listing's check in flight, and the zxid its answer carried (-1 until it came). */
interface SentCheck {
  answer: Promise<ListingCheck>;
  readonly zxid: bigint;
}

interface Held {
  /** The entry's name (also the lock node's name). */
  name: string;
  value: Buffer;
  /** The session that owns the lock node. */
  session: bigint;
  /** An attempt whose reply was lost and whose caller gave up before it was settled. */
  pending?: Attempt;
}

/**
 * LockingQueue: a priority queue with at-least-once processing, wire-compatible with kazoo's
 * `LockingQueue`. `get()` locks the next item with an ephemeral node, `consume()` removes it,
 * `release()` — or the consumer's death — puts it back for someone else.
 *
 * Znode layout (kazoo 2.8):
 * - `<path>/entries`, `<path>/taken`: persistent, empty.
 * - entry `<path>/entries/entry-<PPP>-<seq>`: persistent sequential, `PPP` = priority (`%03d`,
 *   lower first), data = the item's bytes.
 * - lock `<path>/taken/<entry name>`: **ephemeral**, data = the consumer instance's id (32 hex
 *   digits, ASCII). Available = entries without a lock, in name order.
 * - `consume()` deletes entry and lock in one transaction (entry first, as kazoo); `release()`
 *   deletes the lock. Each transaction also creates a marker `<path>/__queue_op__<32 hex>`
 *   (ephemeral, unique per attempt, data = our id; deleted by this instance's next transaction,
 *   or after LOCK_AHEAD_MS without one; one we create to settle a lost reply, data `fence`,
 *   stays until its session ends). kazoo never lists the children of `<path>`, so kazoo 2.8
 *   LockingQueues share the path unchanged.
 * - `consume()`'s transaction also creates the lock of the next listed entry not known to be
 *   locked (lock ahead: one round trip per item). The listing's check (reads) is sent right
 *   behind the transaction; the next `get()` returns that entry if the check shows it still the
 *   first available, else hands it back; without a `get()` within LOCK_AHEAD_MS it is handed
 *   back. Meanwhile other consumers, kazoo's too, see the entry locked, as while held. The get
 *   uses that check only while this session has seen no later state (`checkOf`), as any
 *   ZooKeeper read: a put or release by another session that this one has not seen yet may come
 *   after the entry locked ahead; `await client.sync(path)` before `get()` to see it first.
 * - The listing of `entries` is kept: while the queue is used (until FOLLOW_IDLE_MS after its
 *   last call) a persistent recursive watch on `entries` adds the entries others put, so a put
 *   does not make the next get list the whole backlog again; it lists again only when the
 *   watch may have missed one (`EntryListing.covers`).
 *
 * Guarantees:
 * - A locked item is never lost: if its consumer dies before `consume()` (process killed,
 *   session expired), the lock vanishes with the session, waiting consumers are woken by their
 *   watch on `taken`, and exactly one of them (the one whose create of the lock wins) gets it.
 * - A lock create whose reply was lost is settled by reading the lock node (our id and our
 *   session → ours; missing → not applied, since a session's requests are handled in order; so
 *   no orphan locks, kazoo #366). A lock of an earlier session is never adopted, nor deleted by
 *   path (by then the path may be another consumer's lock): it goes with its session. A lock
 *   delete whose reply was lost is sent again only while the lock is still ours: the first may
 *   have been applied, and another consumer may hold the item since (`ItemLocks`). The lock's
 *   name is the entry's, shared by every consumer, so the own-node lifecycle's look by an
 *   instance prefix (`own-node.ts`) does not apply; our id in the data stands in for the prefix.
 * - A `consume()`/`release()` whose reply was lost is proven by its marker (see `settle`): it
 *   resolves true only if that attempt was applied, in this session or the one that ended.
 *   Where neither can be proven (the session ended, and its lock and marker are both gone) it
 *   rejects with `OutcomeUnknownError`; so does a caller's `timeout`/`signal` ending first, and
 *   the next call (`get`, `consume`, `release`) settles that attempt. "The entry is gone" is no
 *   proof: after our session ended, another consumer may have consumed it.
 * - `put()`/`putAll()` are not retried (kazoo neither): on `ConnectionLossError` the items may
 *   or may not be enqueued.
 *
 * SUSPENDED: a waiting `get()` keeps waiting; its watches are re-registered on reconnect and it
 * re-checks then (kazoo's watches are dropped and its `get` can sleep despite available items).
 * A held item stays held if the session survives. The listing's watch may have missed puts
 * meanwhile: the next get lists `entries` again (so after LOST too).
 * LOST: the lock node is gone, and others may take the item. The held item is forgotten (kazoo
 * keeps returning it): `holdsLock()`, `consume()` and `release()` resolve false (a call whose
 * reply was lost as the session ended: proven, or `OutcomeUnknownError`), the next `get()` locks
 * a fresh item. Check `holdsLock()` (or watch for LOST) before acting on a long-held item.
 *
 * Deviations (on the wire, only the markers): while other consumers hold locks, a consumer
 * takes one of the first few available entries of the first priority, at random (see `spread`),
 * not always the very first — consumers choosing at the same moment would otherwise all race
 * for one entry, and every loser pays a write round trip (alone, a consumer takes them in
 * order, as kazoo's); a better priority is never passed over; `strictOrder` turns it off. `holdsLock()` resolves false when the lock node
 * is gone (kazoo raises NoNodeError); a `get()` that loses the race for the first available
 * entry tries the next one at once (kazoo waits for the next child event); one-shot watches are
 * removed when `get()` returns (kazoo #175 leaks them), the listing's watch FOLLOW_IDLE_MS after
 * the queue's last call.
 *
 * @example
 *   const queue = new LockingQueue(zk, '/jobs');
 *   await queue.put(Buffer.from('resize 42.jpg'));
 *   const job = await queue.get({ timeout: 30_000 }); // locked for us, or null
 *   if (job) {
 *     await resize(job);
 *     await queue.consume(); // or queue.release() to hand it back
 *   }
 */
export class LockingQueue {
  readonly path: string;
  /** This instance's consumer id (32 hex digits), the data of its lock nodes. */
  readonly id: string;
  readonly entriesPath: string;
  readonly takenPath: string;
  private readonly idBytes: Buffer;
  private pathsEnsured = false;
  private held: Held | undefined;
  /** The last listing of `entries`, kept up to date by `watch` while it lasts (see `takeListed`). */
  private listing: EntryListing | undefined;
  /** A persistent recursive watch on `entries` that adds created entries to the listing (see `follow`). */
  private watch: { listener: WatchListener; usedAt: number; timer: NodeJS.Timeout } | undefined;
  /** The names in `taken` when last listed, but our lock ahead: the lock `takeListed` tries is the first listed entry not among them. */
  private locked = new Set<string>();
  /** get, consume and release run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The lock the last consume took on the next entry, for the next get (see `finish`). */
  private ahead: Ahead | undefined;
  /** The marker of the last applied attempt: the next attempt's transaction deletes it. */
  private spent: { path: string; session: bigint } | undefined;
  /** Hands back an unclaimed `ahead` and deletes `spent` once no call came for LOCK_AHEAD_MS. */
  private idle: NodeJS.Timeout | undefined;

  private readonly strictOrder: boolean;
  private readonly locks: ItemLocks;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: LockingQueueOptions = {},
  ) {
    validatePath(path, 'LockingQueue');
    if (options.strictOrder !== undefined && typeof options.strictOrder !== 'boolean')
      throw new InvalidArgumentError('strictOrder must be a boolean', { op: 'LockingQueue', path });
    this.strictOrder = options.strictOrder ?? false;
    this.path = path;
    this.id = randomUUID().replaceAll('-', '');
    this.idBytes = Buffer.from(this.id, 'ascii');
    this.locks = new ItemLocks(client, this.idBytes, 'LockingQueue');
    this.entriesPath = joinPath(path, 'entries');
    this.takenPath = joinPath(path, 'taken');
  }

  /** Put an item (priority 0–999, lower first; default 100). Not retried. Resolves with the entry path. */
  async put(
    value: Buffer | Uint8Array,
    priority = DEFAULT_PRIORITY,
    options: LockingQueueCallOptions = {},
  ): Promise<string> {
    return putEntry(this.entryTarget, value, priority, options);
  }

  /** Put several items in one transaction (all or none). Not retried. Resolves with the entry paths. */
  async putAll(
    values: readonly (Buffer | Uint8Array)[],
    priority = DEFAULT_PRIORITY,
    options: LockingQueueCallOptions = {},
  ): Promise<string[]> {
    return putEntries(this.entryTarget, values, priority, options);
  }

  /**
   * Lock and return the next available item, waiting up to `timeout` ms for one (`null` then).
   * While this instance holds an unconsumed item (in a live session) it returns that item again.
   */
  get(options: LockingQueueGetOptions = {}): Promise<Buffer | null> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    return this.serialize(
      limits,
      (error) => {
        if (error instanceof TimeoutError) return null;
        throw error;
      },
      () => this.getItem(limits),
    );
  }

  /**
   * Whether this instance still holds the lock of its current item: the lock node exists, has
   * our id and belongs to our session (read after a `sync`, as kazoo).
   */
  async holdsLock(options: LockingQueueCallOptions = {}): Promise<boolean> {
    const held = this.held;
    if (!held || held.session !== this.client.sessionId) return false; // a lock of an ended session is gone
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    const lockPath = joinPath(this.takenPath, held.name);
    try {
      await withinDeadline(() => this.client.sync(lockPath, requestLimits(limits)), limits);
      const { data, stat } = await withinDeadline(
        () => this.client.get(lockPath, requestLimits(limits)),
        limits,
      );
      if (data.equals(this.idBytes) && stat.ephemeralOwner === held.session) return true;
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
    if (this.held === held && !held.pending) this.held = undefined; // not ours any more
    return false;
  }

  /**
   * Remove the held item from the queue. Resolves false when nothing is held (any more); rejects
   * with `OutcomeUnknownError` when a lost reply cannot be proven either way (see the module doc).
   */
  consume(options: LockingQueueCallOptions = {}): Promise<boolean> {
    return this.finishing('consume', options);
  }

  /** Unlock the held item without consuming it: it is available again. False when nothing is held; lost replies as `consume()`. */
  release(options: LockingQueueCallOptions = {}): Promise<boolean> {
    return this.finishing('release', options);
  }

  /** Number of items, locked ones included (`numChildren` of `entries`). */
  get length(): Promise<number> {
    return this.size();
  }

  /** Number of items, locked ones included (`numChildren` of `entries`). */
  async size(options: LockingQueueCallOptions = {}): Promise<number> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    await this.ensure(limits);
    const stat = await withinDeadline(
      () => this.client.exists(this.entriesPath, requestLimits(limits)),
      limits,
    );
    return stat?.numChildren ?? 0;
  }

  /**
   * The held item, if its lock still belongs to the current session. An item whose session
   * ended is forgotten, unless an attempt on it is pending (the next call settles it).
   */
  private current(): Held | undefined {
    const held = this.held;
    if (!held || held.pending) return undefined;
    if (held.session === this.client.sessionId) return held;
    this.held = undefined; // the session ended
    return undefined;
  }

  private get entryTarget(): EntryTarget {
    return {
      client: this.client,
      path: this.path,
      dir: this.entriesPath,
      ensure: (limits) => this.ensure(limits),
    };
  }

  private async ensure(limits: WaitLimits): Promise<void> {
    if (this.pathsEnsured) return;
    for (const path of [this.takenPath, this.entriesPath]) {
      await withinDeadline(() => this.client.ensurePath(path, requestLimits(limits)), limits);
    }
    this.pathsEnsured = true;
  }

  private async getItem(limits: WaitLimits): Promise<Buffer | null> {
    if (this.watch) this.watch.usedAt = Date.now();
    const { held } = await this.settled(limits);
    if (held) return held.value;
    await this.ensure(limits);
    for (let first = true; ; first = false) {
      if (limits.signal?.aborted) throw new AbortError(limits.signal.reason, { op: 'get', path: this.path });
      if (!first && limits.deadline !== undefined && Date.now() >= limits.deadline) return null;
      const waiter = new ChangeWaiter(this.client, limits);
      let holding: Held | undefined;
      try {
        try {
          const listed = await this.takeListed(limits);
          if (listed !== undefined && !('session' in listed)) return listed;
          holding = listed;
          // Nothing from the last listing: list again, watching both directories for a change.
          const request = requestLimits(limits);
          const followed = await this.follow(request); // in place before the listing is read
          const [entries, taken] = await Promise.all([
            this.client.getChildrenWithStat(this.entriesPath, {
              watch: waiter.watch(this.entriesPath, 'children'),
              ...request,
            }),
            this.client.getChildren(this.takenPath, {
              watch: waiter.watch(this.takenPath, 'children'),
              ...request,
            }),
          ]);
          this.listing = new EntryListing(entries.children, entries.stat, followed);
          this.locked = new Set(taken);
          if (holding) this.locked.delete(holding.name); // ours
          const keep = holding;
          // takeAvailable keeps or drops it before any other request: once dropped, the lock
          // may be another consumer's, so no failure after that must delete it again.
          holding = undefined;
          const value = await this.takeAvailable(this.locked, limits, keep);
          if (value !== undefined) return value;
        } catch (error) {
          if (holding) await this.drop(holding);
          if (error instanceof NoNodeError) {
            this.pathsEnsured = false; // the structure was deleted: create it again
            this.listing = undefined;
            await this.ensure(limits);
            continue;
          }
          if (error instanceof TimeoutError && !retriesWithinDeadline(error, limits.deadline)) return null;
          if (!retriesWithinDeadline(error, limits.deadline)) throw error;
          await pause(limits.deadline, limits.signal);
          continue;
        }
        const reason = await waiter.wait();
        if (reason === 'abort') throw new AbortError(limits.signal?.reason, { op: 'get', path: this.path });
        if (reason === 'deadline') return null;
      } finally {
        waiter.dispose();
      }
    }
  }

  /**
   * An item from the last listing, without listing `entries` again (the cost of a get then does
   * not grow with the backlog), in one round trip: a check of the listing (`entries`' Stat and
   * the `taken` names), then the lock of the entry the listing puts first, sent behind it (a
   * session's requests are handled in order, so the check saw the queue as it was just before our
   * lock). The lock is kept only if the listing was complete and that entry the first available:
   * every entry created since the listing was read is in it (none was, or the watch added each,
   * as `entries`' Stat tells: `EntryListing.covers`) — the listing minus what was consumed is then
   * every entry there is, so its first unlocked one is the one kazoo's full listing would pick.
   * A lock taken on a listing that turned out incomplete is handed back (`Held`, not yet held) for
   * the caller to keep or drop after listing again; undefined when nothing was taken.
   */
  private async takeListed(limits: WaitLimits): Promise<Buffer | Held | undefined> {
    const listing = this.listing;
    const ahead = this.claimAhead();
    if (!listing || listing.empty) {
      if (ahead) await this.locks.unlock(joinPath(this.takenPath, ahead.name), ahead.session);
      return undefined;
    }
    // The lock consume() took ahead is checked like one sent now: the check sees the queue as it is with it.
    const checked = this.checkOf(ahead, limits);
    const candidate = ahead ? ahead.name : listing.pick(this.locked, this.spread);
    const [check, took] = await Promise.allSettled([
      checked,
      ahead
        ? this.readLocked(ahead.name, ahead.session, ahead.read)
        : candidate === undefined
          ? undefined
          : this.take(candidate, limits),
    ]);
    if (took.status === 'rejected') throw took.reason; // take holds no lock when it fails
    const taken = typeof took.value === 'object' ? took.value : undefined;
    if (took.value === 'gone') listing.remove(candidate!);
    if (check.status === 'rejected') {
      if (taken) await this.drop(taken);
      throw check.reason;
    }
    const [stat, names] = check.value;
    if (stat === null) {
      if (taken) await this.drop(taken);
      throw new NoNodeError({ op: 'get', path: this.entriesPath });
    }
    if (this.listing !== listing || !listing.covers(stat)) return taken; // list again
    this.locked = new Set(names);
    if (ahead) this.locked.delete(ahead.name); // ours: `locked` holds the others' locks
    // Lost the race for it: locked since the check (sent before our create) looked, so not in `names`.
    if (took.value === 'theirs') this.locked.add(candidate!);
    return this.takeAvailable(this.locked, limits, taken);
  }

  /**
   * The listing's check: `entries`' Stat and the names in `taken`, read now — or, for a lock
   * ahead, the check consume() sent right behind the transaction that created it, if no reply
   * since has carried a later zxid than its answers did: they then show the newest state this
   * session has seen, which is all a read sent now is owed (ZooKeeper answers a read in any
   * state at least as new as the client's last zxid). A reply with a later zxid — a write of
   * ours, or a read that saw another session's — means the state may have moved: read again.
   */
  private async checkOf(ahead: Ahead | undefined, limits: WaitLimits): Promise<ListingCheck> {
    const early = ahead?.check;
    if (early) {
      const answer = await early.answer.catch(() => undefined); // failed: read again
      if (answer && this.client.lastZxid === early.zxid) return answer;
    }
    return this.sendCheck(requestLimits(limits)).check.answer;
  }

  /**
   * Send the listing's check — `entries`' Stat and the names in `taken` — in one multiRead,
   * noting the zxid its answer carries; with `entry`, that entry's read too (see `readEntry`).
   */
  private sendCheck(request: RequestOptions, entry?: string): { check: SentCheck; read?: Ahead['read'] } {
    const ops: ReadOp[] = [
      { type: 'getData', path: this.entriesPath },
      { type: 'getChildren', path: this.takenPath },
    ];
    if (entry !== undefined) ops.push({ type: 'getData', path: joinPath(this.entriesPath, entry) });
    let zxid = -1n;
    const results = this.client.multiRead(ops, {
      ...request,
      onZxid: (seen) => {
        zxid = seen;
      },
    });
    const check: SentCheck = {
      get zxid() {
        return zxid;
      },
      answer: results.then(([dir, taken]) => [statOf(dir), childrenOf(taken)]),
    };
    if (entry === undefined) return { check };
    return {
      check,
      read: results.then(
        ([, , read]) => entryOf(read),
        () => undefined,
      ),
    };
  }

  /**
   * Lock the first listed entry that is not locked, in name order (priority, then sequence) —
   * or, while others hold locks, one of the first few (`spread`, `EntryListing.choices`).
   * `holding`, a lock taken before this listing, is kept if its entry is one of those and its
   * session is still ours, else dropped.
   */
  private async takeAvailable(
    locked: ReadonlySet<string>,
    limits: WaitLimits,
    holding?: Held,
  ): Promise<Buffer | undefined> {
    const listing = this.listing!;
    const spread = this.spread;
    if (holding) {
      const others = { has: (name: string) => name !== holding.name && locked.has(name) };
      // Only while its session lasts: this listing may have been read in a later one.
      const ours = holding.session === this.client.sessionId;
      if (ours && listing.choices(others, spread).includes(holding.name)) return this.hold(holding);
      await this.drop(holding); // a no-op once its session ended
    }
    const tried = new Set<string>();
    const taken = { has: (name: string) => tried.has(name) || locked.has(name) };
    for (let name = listing.pick(taken, spread); name !== undefined; name = listing.pick(taken, spread)) {
      tried.add(name);
      const took = await this.take(name, limits);
      if (typeof took === 'object') return this.hold(took);
      if (this.listing !== listing) return undefined;
      if (took === 'gone') listing.remove(name);
    }
    return undefined;
  }

  /**
   * How many entries a consumer chooses among (`EntryListing.choices`): 1 alone; else twice the
   * others' locks when last looked, plus one — each other consumer holds one or two (its item,
   * its lock ahead), and the last look is one item old, so the ones they chose since are not
   * known: a window that wide keeps a collision (a lost write round trip) to about one item in
   * four with four consumers.
   */
  private get spread(): number {
    return this.strictOrder ? 1 : Math.min(2 * this.locked.size + 1, MAX_SPREAD);
  }

  /** A lock we took becomes the held item. */
  private hold(taken: Held): Buffer {
    this.held = taken;
    publishTaken('LockingQueue', this.path, taken.name);
    return taken.value;
  }

  /** Delete a lock we took but do not hold (the item is available again). */
  private async drop(taken: Held): Promise<void> {
    await this.locks.unlock(joinPath(this.takenPath, taken.name), taken.session);
  }

  /**
   * Keep a persistent recursive watch on `entries` while this queue is used (until FOLLOW_IDLE_MS
   * pass without a call): created entries are added to the listing, consumed ones removed, so a
   * put does not make the next get list the whole backlog again. True when it is in place (set
   * before the listing is read, a session's requests being handled in order). Its events only
   * add evidence: one missed — a resync after a reconnect, the watch removed — stops the count
   * (`EntryListing.unfollow`) and the next get lists again.
   */
  private async follow(request: RequestOptions): Promise<boolean> {
    if (this.watch) {
      this.watch.usedAt = Date.now();
      return true;
    }
    const listener: WatchListener = (event) => {
      const listing = this.listing;
      if (!listing) return;
      if (event.type === EventType.None) listing.unfollow();
      if (parentPath(event.path) !== this.entriesPath) return; // `entries` itself
      const name = event.path.slice(this.entriesPath.length + 1);
      if (event.type === EventType.NodeCreated) listing.add(name);
      else if (event.type === EventType.NodeDeleted) listing.remove(name);
    };
    try {
      await this.client.addWatch(this.entriesPath, listener, { recursive: true, ...request });
    } catch (error) {
      this.client.logger.debug(`LockingQueue ${this.path}: no watch on entries (${String(error)})`);
      return false;
    }
    const expire = () => {
      const watch = this.watch!;
      const left = watch.usedAt + FOLLOW_IDLE_MS - Date.now();
      if (left > 0) {
        watch.timer = setTimeout(expire, left).unref();
        return;
      }
      this.watch = undefined;
      this.listing?.unfollow();
      this.client.removeWatches(this.entriesPath, 'persistentRecursive', listener).catch(() => {}); // gone with the client or session
    };
    this.watch = { listener, usedAt: Date.now(), timer: setTimeout(expire, FOLLOW_IDLE_MS).unref() };
    return true;
  }

  /**
   * Lock one entry and read it (`readEntry`, no extra round trip): the lock (not yet held: see
   * `hold`), or 'theirs' (another consumer's lock is there), 'locked' (not ours for another
   * reason: never sent, a lost create not applied, the session ended) or 'gone' (consumed).
   */
  private async take(name: string, limits: WaitLimits): Promise<Held | 'theirs' | 'locked' | 'gone'> {
    const locking = this.locks.lock(joinPath(this.takenPath, name), limits);
    const read = this.readEntry(name); // sent behind the create
    const session = await locking;
    if (session === 'theirs') return 'theirs';
    return session === undefined ? 'locked' : this.readLocked(name, session, read);
  }

  /**
   * Read an entry, sent right behind the request that locks it: a session's requests are
   * handled in order, so a read that finds the entry found it after our lock was created
   * (kazoo #366/#523: an entry consumed between the listing and the lock). Undefined when the
   * read failed (read again by `readLocked`).
   */
  private readEntry(name: string): Ahead['read'] {
    return this.client.get(joinPath(this.entriesPath, name)).then(
      (entry) => entry,
      (error: unknown) => (error instanceof NoNodeError ? ('gone' as const) : undefined),
    );
  }

  /**
   * The entry `name`, whose lock we created in `session`, read behind the lock (`read`): the lock
   * (not yet held: see `hold`), or 'gone' (consumed by its previous holder between our listing
   * and our lock; our lock is dropped) or 'locked' (the session ended, and our lock with it).
   */
  private async readLocked(
    name: string,
    session: bigint,
    read: Ahead['read'],
  ): Promise<Held | 'locked' | 'gone'> {
    const lockPath = joinPath(this.takenPath, name);
    const entryPath = joinPath(this.entriesPath, name);
    // Whatever the caller's limits: we hold a lock that must not be leaked.
    let entry: Awaited<Ahead['read']>;
    try {
      // Only while the lock's session lasts (undefined once it ended, or on NoNode): once it
      // ended, the lock is gone and so is our claim.
      entry = (await read) ?? (await this.locks.whileSession(session, () => this.client.get(entryPath)));
    } catch (error) {
      await this.locks.unlock(lockPath, session); // an unexpected failure: don't leak our lock
      throw error;
    }
    if (this.client.sessionId !== session) return 'locked'; // our lock went with it; the entry may be there
    if (entry !== undefined && entry !== 'gone') return { name, value: entry.data, session };
    await this.locks.unlock(lockPath, session); // consumed (NoNode in the lock's session): drop our lock
    return 'gone';
  }

  /** The lock consume() took ahead, if it belongs to the current session (else it went, or goes, with its own). */
  private claimAhead(): Ahead | undefined {
    const ahead = this.ahead;
    this.ahead = undefined;
    return ahead?.session === this.client.sessionId ? ahead : undefined;
  }

  /** `finish`, after the calls before it: nothing is sent when the caller's limits end first. */
  private finishing(op: Op, options: LockingQueueCallOptions): Promise<boolean> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    return this.serialize(
      limits,
      (error) => {
        throw error; // TimeoutError or AbortError: nothing was sent
      },
      () => this.finish(op, limits),
    );
  }

  /**
   * `transact`, with the idle hand-back held off meanwhile (an attempt may use `spent`) and set
   * again when the call ends, whatever it found: after `consume(); consume()` (false: nothing
   * held) the first one's lock ahead and marker still go when no get comes.
   */
  private async finish(op: Op, limits: WaitLimits): Promise<boolean> {
    this.stopIdle();
    try {
      return await this.transact(op, limits);
    } finally {
      if (this.idle === undefined && (this.ahead !== undefined || this.spent !== undefined)) this.startIdle();
    }
  }

  /**
   * consume (delete entry + lock) or release (delete lock) the held item, proving the outcome of
   * a lost reply. The transaction also deletes the previous attempt's marker (`spent`), and a
   * consume locks the next entry of the listing for the next get (`ahead`, its read sent right
   * behind): so an item costs one round trip of writes, the transaction, and the next get only
   * checks the listing (reads). All or none (a multi): the marker proves the lock ahead too.
   */
  private async transact(op: Op, limits: WaitLimits): Promise<boolean> {
    if (this.watch) this.watch.usedAt = Date.now();
    const { held, applied } = await this.settled(limits);
    if (applied) return applied === op;
    if (!held) return false;
    const entryPath = joinPath(this.entriesPath, held.name);
    const lockPath = joinPath(this.takenPath, held.name);
    let lockAhead = op === 'consume';
    for (;;) {
      if (held.session !== this.client.sessionId) {
        this.held = undefined; // the session ended, and with it our lock; no attempt of ours was applied
        return false;
      }
      const attempt: Attempt = {
        op,
        marker: markerPath(this.path, QUEUE_MARKER_PREFIX),
        session: held.session,
        spent: this.spent?.session === held.session ? this.spent.path : undefined,
        next: lockAhead ? this.nextCandidate(held.name) : undefined,
      };
      this.spent = undefined; // the attempt's now (given back below when it was not applied)
      const transaction = this.client.transaction();
      if (op === 'consume') transaction.delete(entryPath);
      transaction.delete(lockPath).create(attempt.marker, this.idBytes, { ephemeral: true });
      const spentAt = attempt.spent === undefined ? -1 : transaction.size;
      if (attempt.spent !== undefined) transaction.delete(attempt.spent);
      const nextAt = attempt.next === undefined ? -1 : transaction.size;
      if (attempt.next !== undefined)
        transaction.create(joinPath(this.takenPath, attempt.next), this.idBytes, { ephemeral: true });
      const committed = transaction.commit(requestLimits(limits));
      // Sent behind the transaction: the next get finds the answer waiting (see `checkOf`).
      const behind = attempt.next === undefined ? undefined : this.sendCheck({}, attempt.next);
      behind?.check.answer.catch(() => {}); // a failed check is read again by the next get
      const read = behind?.read;
      try {
        await committed;
        this.finished(held, attempt, true, read, behind?.check);
        return true;
      } catch (error) {
        if (error instanceof TransactionError) {
          if (error.failedIndex !== spentAt) this.giveBack(attempt); // not applied: still there
          if (error.failedIndex === nextAt && error.error instanceof NodeExistsError) {
            lockAhead = false; // locked by someone else meanwhile: consume without it
            continue;
          }
          if (error.failedIndex === spentAt) continue; // deleted by hand: retry without it
          if (error.error instanceof NoNodeError) {
            // Deleted by hand (only the holder deletes them otherwise): nothing to do.
            this.held = undefined;
            if (op === 'consume' && error.failedIndex === 0) await this.locks.unlock(lockPath, held.session); // don't leak our lock
            return false;
          }
          throw error;
        }
        if (error instanceof SessionExpiredError) continue; // never sent; the loop sees the session change
        if (!isOutcomeUnknown(error)) throw error;
      }
      if (await this.settle(held, attempt, limits)) {
        this.finished(held, attempt, false, read);
        return true;
      }
      this.giveBack(attempt); // proven not applied
    }
  }

  /** The entry a consume of `current` locks ahead: the first listed after it that no one had locked when last looked. */
  private nextCandidate(current: string): string | undefined {
    const locked = this.locked;
    return this.listing?.pick({ has: (name) => name === current || locked.has(name) }, this.spread);
  }

  /** An attempt that was not applied leaves the marker it would have deleted to the next one. */
  private giveBack(attempt: Attempt): void {
    if (attempt.spent !== undefined && this.spent === undefined)
      this.spent = { path: attempt.spent, session: attempt.session };
  }

  /**
   * `attempt` was applied to the held item: nothing is held, a consumed entry leaves the listing,
   * and, while its session lasts, its marker (`markerLeft`: not deleted by `settle`) is the next
   * attempt's to delete and its lock ahead is the next get's.
   */
  private finished(
    held: Held,
    attempt: Attempt,
    markerLeft: boolean,
    read?: Ahead['read'],
    check?: SentCheck,
  ): void {
    if (this.held === held) this.held = undefined;
    if (attempt.op === 'consume') this.listing?.remove(held.name);
    if (attempt.session !== this.client.sessionId) return; // its nodes went with its session
    if (markerLeft) this.spent = { path: attempt.marker, session: attempt.session };
    if (attempt.next !== undefined) {
      const ahead: Ahead = {
        name: attempt.next,
        session: attempt.session,
        read: read ?? this.readEntry(attempt.next),
        check,
      };
      this.ahead = ahead;
      // Consumed by its previous holder after our listing: hand the lock back at once (no entry, no item).
      void ahead.read.then((entry) => {
        if (entry !== 'gone' || this.ahead !== ahead) return;
        this.listing?.remove(ahead.name);
        this.handBack();
      });
    }
    this.startIdle();
  }

  /**
   * Delete the lock ahead, unless a get claimed it already: in the background, but in turn with
   * the queue's calls (`serialize`), so no get of ours locks that name again while it goes.
   */
  private handBack(): void {
    const ahead = this.claimAhead();
    if (!ahead) return;
    const unlock = () => this.locks.unlock(joinPath(this.takenPath, ahead.name), ahead.session);
    this.serialize({}, () => undefined, unlock).catch((error: unknown) =>
      this.client.logger.warn(`could not hand back lock ${ahead.name}: ${String(error)}`),
    );
  }

  /** Hand back an unclaimed lock ahead and delete the last marker once no call came for LOCK_AHEAD_MS. */
  private startIdle(): void {
    this.stopIdle();
    this.idle = setTimeout(() => {
      this.idle = undefined;
      this.handBack();
      const spent = this.spent;
      this.spent = undefined;
      if (spent?.session === this.client.sessionId) removeMarker(this.client, spent.path);
    }, LOCK_AHEAD_MS);
    this.idle.unref();
  }

  private stopIdle(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  /**
   * The held item, after settling an attempt whose caller gave up on it (`applied`: the op that
   * attempt applied; nothing is held then). Undefined once our session ended.
   */
  private async settled(limits: WaitLimits): Promise<{ held?: Held; applied?: Op }> {
    const held = this.held;
    const pending = held?.pending;
    if (held && pending) {
      held.pending = undefined;
      if (await this.settle(held, pending, limits)) {
        this.finished(held, pending, false);
        return { applied: pending.op };
      }
      this.giveBack(pending);
    }
    return { held: this.current() };
  }

  /**
   * Whether `attempt`, whose reply was lost, was applied. The proof is its marker (written by
   * the attempt's own transaction), fenced by `fenceAttempt` so that the attempt can never apply
   * after we looked:
   * - the marker has the attempt's data → applied;
   * - our fence was created in the attempt's session → not applied (the attempt's marker,
   *   ephemeral, would still exist);
   * - our fence was created in a later session → not applied if the attempt's session still
   *   held our lock after the fence (the attempt deletes the lock); otherwise the attempt's
   *   marker may have gone with its session: `OutcomeUnknownError`.
   * The fence is left to its session: deleting it would let the lost attempt apply later.
   * Gives up with `OutcomeUnknownError` when `limits` end; the attempt is then settled by the
   * next call.
   */
  private async settle(held: Held, attempt: Attempt, limits: WaitLimits): Promise<boolean> {
    const unknown = (cause?: unknown) => new OutcomeUnknownError({ op: attempt.op, path: this.path, cause });
    for (;;) {
      try {
        const request = requestLimits(limits);
        const fence = await fenceAttempt(this.client, attempt.marker, request);
        if (fence.applied) return true;
        const { fencedIn } = fence;
        if (fencedIn === attempt.session) return false;
        const lock = await this.client
          .get(joinPath(this.takenPath, held.name), request)
          .catch((error: unknown) => {
            if (error instanceof NoNodeError) return undefined;
            throw error;
          });
        if (lock?.data.equals(this.idBytes) && lock.stat.ephemeralOwner === attempt.session) return false;
        if (this.held === held) this.held = undefined;
        throw unknown();
      } catch (error) {
        if (error instanceof OutcomeUnknownError) throw error;
        const gaveUp =
          limits.signal?.aborted || (limits.deadline !== undefined && Date.now() >= limits.deadline);
        if (
          error instanceof ClientClosedError ||
          error instanceof TimeoutError ||
          error instanceof AbortError ||
          gaveUp
        ) {
          held.pending = attempt;
          throw unknown(error);
        }
        if (!retriesWithinDeadline(error)) throw error;
        await pause(limits.deadline, limits.signal).catch((reason: unknown) => {
          held.pending = attempt;
          throw unknown(reason);
        });
      }
    }
  }

  /**
   * Run `fn` once the calls before it (get, consume, release) have settled — one at a time —
   * but wait for them only within `limits`: past them (`TimeoutError`, `AbortError`) `gaveUp`
   * says what this call returns or throws; the calls after it still wait for the earlier ones.
   */
  private serialize<T>(limits: WaitLimits, gaveUp: (error: unknown) => T, fn: () => Promise<T>): Promise<T> {
    const previous = this.queue;
    const run = settledWithin(previous, limits).then(fn, gaveUp);
    this.queue = Promise.allSettled([previous, run]);
    return run;
  }
}

/** `entries`' Stat from a check's read of it: null when it is gone. */
function statOf(result: ReadResult | undefined): Stat | null {
  if (result?.type === 'getData') return result.stat;
  if (result?.type === 'error' && result.error instanceof NoNodeError) return null;
  throw failureOf(result);
}

/** The names in `taken` from a check's read of it. */
function childrenOf(result: ReadResult | undefined): string[] {
  if (result?.type === 'getChildren') return result.children;
  throw failureOf(result);
}

/** Why a read of a check did not answer as asked. */
function failureOf(result: ReadResult | undefined): Error {
  return result?.type === 'error'
    ? result.error
    : new ProtocolError('a multiRead answered fewer reads than it asked');
}

/** An entry's read as `readEntry` gives it: the entry, 'gone', or undefined when the read failed. */
function entryOf(result: ReadResult | undefined): { data: Buffer } | 'gone' | undefined {
  if (result?.type === 'getData') return { data: result.data };
  return result?.type === 'error' && result.error instanceof NoNodeError ? 'gone' : undefined;
}
