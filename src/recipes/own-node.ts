/**
 * OwnNode: the one life cycle of a recipe's own node (DESIGN.md "Recipe node lifecycle") — a
 * Lock's contender, a Semaphore's lease, an Election candidate. Not exported from the package.
 *
 * - **Create** under `parent` with an instance-unique `prefix` (the whole name when not
 *   sequential), ephemeral or persistent. A create whose reply never came (connection lost,
 *   request timed out or aborted) leaves its outcome unknown: the node records that, *and the
 *   session it was sent in* (`client.sessionId` at send time).
 * - **Find** after an uncertain create: the children with our prefix, each checked with `exists`.
 *   An ephemeral is adopted only when `stat.ephemeralOwner` is the current session — a node of
 *   an earlier session is never adopted: it is deleted (deleting another session's ephemeral is
 *   allowed; it would go when the server expires that session, but it blocks others till then).
 *   A persistent node (ephemeralOwner 0) is proven ours by the prefix alone. "Not found"
 *   settles the create only when it was sent in the current session: requests never carry
 *   over to a new session (queued ones are rejected at LOST, session.ts `expire`), but one
 *   already on the wire of an earlier session may still be applied after we looked. Such a
 *   late node can never be adopted (its owner is a dead session, or for a persistent node it
 *   is a second one under our prefix): the next look and `remove()` sweep the prefix (for a
 *   persistent node, every later one) — an ephemeral one would otherwise hold its place, e.g.
 *   in a lock's queue, until the server expires that session.
 * - **Forget at session change**: an ephemeral node belongs to the session that created it. Once
 *   `client.sessionId` differs (LOST, then a new session) `name` is undefined at once — even
 *   while the server has not expired the old session yet and still lists the node — and the
 *   next look deletes it. `takeLost()` tells the recipe (e.g. `onSessionLost: 'fail'`).
 * - **Remove** until the session ends: find (if uncertain), then delete, retried through
 *   connection loss; NoNode, SessionExpired and ClientClosed end it (`untilSessionEnds`). After
 *   a delete whose reply was lost it is sent again only while the node there is still the one we
 *   made (its czxid; `deleteOwn`): a node others made at the name since is not ours. A
 *   persistent node outlives its session: its removal goes on in the next one.
 *   Between sessions an ephemeral's look is left to the next one (nothing there can be ours).
 *   A recipe that gives up (timeout, abort) removes in the background (`removeLater`) and
 *   answers at once; its next attempt waits for that removal within its own limits (`removed`).
 *
 * - **Shared names** (`shared`, a fixed name others may use too: Curator's unprotected
 *   `PersistentNode`, a `GroupMember`): a node under our name that we cannot prove ours is left
 *   alone (another process's, or another instance's in this session) — except an ephemeral of a
 *   session this node sent a create in that is no longer current: that session is dead, and its
 *   node is deleted as above. A persistent node at a shared name is taken as ours (Curator adopts
 *   it on NodeExists and writes its data).
 * - **Kept names** (`keepName`, Curator's `PersistentNode`): a sequential node, once made, is
 *   made again under the name it first got (non-sequentially), so others see one name.
 *
 * Nothing here reports a node as ours that this session cannot prove, so the lifecycle never
 * needs `OutcomeUnknownError`; recipes that must prove a write's outcome across a session
 * change (a queue's consume, a counter's update) report that error themselves.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { ClientClosedError, NoNodeError, NodeExistsError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { Stat } from '../client/protocol/records.js';
import {
  isOutcomeUnknown,
  settledWithin,
  untilSessionEnds,
  withinDeadline,
  type RetryLimits,
} from '../client/retry.js';
import { TransactionError, type Transaction } from '../client/transaction.js';
import { whileConnected } from './change-waiter.js';

export interface OwnNodeOptions {
  /** The directory the node lives in. */
  parent: string;
  /** The instance-unique start of the node's name (its whole name when not `sequential`). */
  prefix: string;
  /** A sequential node (`<prefix><10 digits>`). */
  sequential: boolean;
  /** An ephemeral node (it goes with its session); else persistent. */
  ephemeral: boolean;
  /** A persistent node with this TTL, ms (ZooKeeper's `PERSISTENT_WITH_TTL`; the server needs `extendedTypesEnabled`). */
  ttl?: number | undefined;
  /** The name (not sequential) is not instance-unique: a node under it we cannot prove ours is left alone. */
  shared?: boolean | undefined;
  /** A sequential node made again after it is gone keeps the name it first got. */
  keepName?: boolean | undefined;
  /**
   * `parent` is probably missing (e.g. a partitioner's new item lock): the first `create` sends
   * a create of `parent` (empty; a container with `'container'`) just before our node's, in the
   * same round trip, instead of the caller learning it from a NoNode and creating it after.
   * Its NodeExists (or any failure) is ignored: our node's create says what matters.
   */
  createParent?: 'persistent' | 'container' | undefined;
}

/** Per-request limits passed through to the client. */
export interface NodeRequest {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

interface Held {
  name: string;
  /** Its czxid (a fencing token); undefined when it could not be read (see `createIn`). */
  czxid: bigint | undefined;
  /** The session that owns it (an ephemeral's `ephemeralOwner`); 0n for a persistent node. */
  session: bigint;
}

const EMPTY = Buffer.alloc(0);

/** ZooKeeper's sequence suffix: the parent's cversion as `%010d` (negative once it wrapped). */
const SEQUENCE_SUFFIX = /^(\d{10}|-\d{9})$/;

export class OwnNode {
  private held: Held | undefined;
  /** A create was sent whose outcome is unknown, and the session it was sent in (0n: none yet). */
  private pending: { session: bigint } | undefined;
  /** Nodes under our prefix other than `held` may exist: delete them when we next look. */
  private strays = false;
  /** Our node was lost (its session ended, or it vanished) since `takeLost()` was last asked. */
  private lost = false;
  /** The removal under way (`remove`, `removeLater`) until it ends; never rejects. */
  private removing: Promise<void> | undefined;
  /** Every session a create was sent in: an ephemeral of one that is not current is dead. */
  private readonly sentIn = new Set<bigint>();
  /** `keepName`: the name our sequential node first got. */
  private kept: string | undefined;
  /** `createParent`: the parent's create was sent. */
  private parentSent = false;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly options: OwnNodeOptions,
  ) {}

  /** Our node's name while it is ours: for an ephemeral, only while its session is current. */
  get name(): string | undefined {
    this.checkSession();
    return this.held?.name;
  }

  /** Our node's full path while it is ours. */
  get path(): string | undefined {
    const name = this.name;
    return name === undefined ? undefined : joinPath(this.options.parent, name);
  }

  /** Our node's czxid while it is ours (undefined also when it could not be read). */
  get czxid(): bigint | undefined {
    this.checkSession();
    return this.held?.czxid;
  }

  /** True when a look (`find`) is due before the next create: an uncertain create, or strays. */
  get unsettled(): boolean {
    this.checkSession();
    return this.pending !== undefined || this.strays;
  }

  /** True once after our node was lost (session change, or `vanished()`); resets the flag. */
  takeLost(): boolean {
    this.checkSession();
    const lost = this.lost;
    this.lost = false;
    return lost;
  }

  /** The recipe saw our node missing from its parent's children: it is gone (not deleted by us). */
  vanished(): void {
    if (this.held === undefined) return;
    this.held = undefined;
    this.lost = true;
  }

  /** An ephemeral of an earlier session is not ours any more: forget it; the next look deletes it. */
  private checkSession(): void {
    if (this.held === undefined || !this.options.ephemeral || this.held.session === this.client.sessionId)
      return;
    this.held = undefined;
    this.lost = true;
    this.strays = true;
  }

  private get fullPrefix(): string {
    return joinPath(this.options.parent, this.options.prefix);
  }

  /** Record the send (synchronously, before the caller's first await) and settle it from the reply. */
  private async track<T>(send: () => Promise<T>): Promise<T> {
    this.checkSession();
    this.pending = { session: this.client.sessionId };
    if (this.client.sessionId !== 0n) this.sentIn.add(this.client.sessionId);
    try {
      return await send();
    } catch (error) {
      // An answer (NoNode, NodeExists, a failed transaction, SessionExpired: never sent or refused)
      // means nothing was created; anything else leaves the outcome unknown.
      if (!isOutcomeUnknown(error)) this.pending = undefined;
      // A node under our name that we do not hold: an earlier session's, the next look deletes it
      // (a shared name: the caller looks whose it is).
      if (
        !this.options.shared &&
        (error instanceof NodeExistsError ||
          (error instanceof TransactionError && error.error instanceof NodeExistsError))
      )
        this.strays = true;
      throw error;
    }
  }

  /**
   * Create our node. The request is sent before this returns its promise, so a caller may
   * pipeline a read behind it (the server applies one session's requests in order).
   */
  async create(data: Buffer, request: NodeRequest = {}): Promise<{ name: string; stat: Stat }> {
    const parentMode = this.options.createParent;
    if (parentMode !== undefined && !this.parentSent) {
      this.parentSent = true; // once: after this the parent is there or the caller ensures it
      const container = parentMode === 'container';
      this.client.create(this.options.parent, EMPTY, { ...request, container }).catch(() => {});
    }
    const { path, stat } = await this.track(() =>
      this.client.createWithStat(this.target, data, { ...this.mode, ...request }),
    );
    const name = path.slice(path.lastIndexOf('/') + 1);
    this.pending = undefined;
    this.hold({ name, czxid: stat.czxid, session: stat.ephemeralOwner });
    return { name, stat };
  }

  /** Where the next create goes: our prefix, or the name our sequential node first got (`keepName`). */
  private get target(): string {
    return this.kept === undefined ? this.fullPrefix : joinPath(this.options.parent, this.kept);
  }

  /** The create mode of the next create (a kept name is made non-sequentially). */
  private get mode(): { ephemeral: boolean; sequence: boolean; ttl?: number } {
    const { ephemeral, sequential, ttl } = this.options;
    const sequence = sequential && this.kept === undefined;
    return ttl === undefined ? { ephemeral, sequence } : { ephemeral, sequence, ttl };
  }

  private hold(held: Held): void {
    this.held = held;
    if (this.options.keepName) this.kept = held.name;
  }

  /**
   * Create our node as the last op of `transaction` (e.g. after a `check` of a lock node) and
   * commit it. A create inside a multi returns no Stat (ZooKeeper's `MultiResponse` carries
   * only the path of a create), so the czxid is read afterwards; undefined if that read fails.
   */
  async createIn(transaction: Transaction, data: Buffer, request: NodeRequest = {}): Promise<void> {
    const { ephemeral } = this.options;
    const target = this.target;
    const results = await this.track(() => transaction.create(target, data, this.mode).commit(request));
    const created = results[results.length - 1];
    const path = created?.type === 'create' ? created.path : target;
    // A reply comes in the session its request was sent in, which is the current one now.
    const held: Held = {
      name: path.slice(path.lastIndexOf('/') + 1),
      czxid: undefined,
      session: ephemeral ? this.client.sessionId : 0n,
    };
    this.pending = undefined;
    this.hold(held);
    held.czxid = (await this.client.exists(path, request).catch(() => null))?.czxid;
  }

  /**
   * Whether `child` has our name: the prefix itself, or (sequential) the prefix and a sequence
   * suffix — not merely a name that starts with it (ids `web-1` and `web-10` of one service).
   */
  private named(child: string): boolean {
    const { prefix, sequential } = this.options;
    if (!sequential) return child === prefix;
    return child.startsWith(prefix) && SEQUENCE_SUFFIX.test(child.slice(prefix.length));
  }

  /** Whether `stat` proves a node under our prefix ours: created in the current session, or persistent. */
  private owns(stat: Stat): boolean {
    if (!this.options.ephemeral) return stat.ephemeralOwner === 0n;
    return this.client.sessionId !== 0n && stat.ephemeralOwner === this.client.sessionId;
  }

  /** Whether the look takes the node `name` as ours (we hold none). */
  private adoptable(name: string, stat: Stat): boolean {
    if (this.kept !== undefined && name !== this.kept) return false;
    if (this.pending !== undefined && this.owns(stat)) return true;
    return this.options.shared === true && !this.options.ephemeral && stat.ephemeralOwner === 0n;
  }

  /** A node at a shared name that the look leaves alone: not an ephemeral of a dead session of ours. */
  private othersAt(stat: Stat): boolean {
    if (!this.options.shared) return false;
    const owner = stat.ephemeralOwner;
    return owner === 0n || owner === this.client.sessionId || !this.sentIn.has(owner);
  }

  /**
   * Settle an uncertain create and delete strays: look at `parent`'s children (pass them if
   * just read) for our prefix; adopt a node proven ours, delete every other. Resolves with the
   * children, minus what was deleted (`[]` when `parent` does not exist).
   */
  async find(request: NodeRequest = {}, known?: readonly string[]): Promise<string[]> {
    this.checkSession();
    const session = this.client.sessionId;
    let children: string[];
    try {
      children = known ? [...known] : await this.client.getChildren(this.options.parent, request);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      children = [];
    }
    const ours = children.filter((child) => this.named(child) && child !== this.held?.name);
    for (const name of ours) {
      const path = joinPath(this.options.parent, name);
      const stat = await this.client.exists(path, request);
      if (stat !== null && this.held === undefined && this.adoptable(name, stat)) {
        this.hold({ name, czxid: stat.czxid, session: stat.ephemeralOwner });
        continue;
      }
      if (stat !== null && this.othersAt(stat)) continue;
      if (stat !== null) {
        try {
          await this.client.delete(path, request);
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
        }
      }
      children.splice(children.indexOf(name), 1);
    }
    // "Not found" settles a create sent in this session. One sent in an earlier session may still
    // land: never adopted (`owns`), but deleted by the next look. An ephemeral one would go when
    // that session expires, yet until then it holds a place (a lock contender others queue
    // behind); a persistent one would be a second node under our prefix: keep sweeping.
    const late = this.pending !== undefined && this.held === undefined && this.pending.session !== session;
    if (late) this.strays = true;
    else if (this.options.ephemeral) this.strays = false;
    this.pending = undefined;
    return children;
  }

  /**
   * Have our node in the current session, for a node that is not `sequential`: settle an
   * uncertain create (adopting the node if this session made it), else create it. Resolves
   * false when a node of our name that this session cannot prove its own (an earlier session's,
   * or one made by hand) was found and deleted: call again.
   */
  async ensure(data: Buffer, request: NodeRequest = {}): Promise<boolean> {
    if (this.unsettled) await this.find(request);
    if (this.name !== undefined) return true;
    try {
      await this.create(data, request);
      return true;
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
      await this.find(request);
      return false;
    }
  }

  /**
   * Delete our node (and, after an uncertain create, whatever the look finds), retrying through
   * connection loss until it is gone or the session is (`untilSessionEnds`). The delete is sent
   * at once (after a removal still under way), so this session's later requests see it gone.
   */
  remove(): Promise<void> {
    const run = this.removing ? this.removing.then(() => this.removeNow()) : this.removeNow();
    const tracked: Promise<void> = run
      .catch(() => {}) // reported to remove()'s caller
      .finally(() => {
        if (this.removing === tracked) this.removing = undefined;
      });
    this.removing = tracked;
    return run;
  }

  /**
   * `remove()` without making the caller wait: a timeout or abort is answered at once, even
   * while disconnected. A failure is logged. Before creating again, wait for it (`removed`).
   */
  removeLater(): void {
    this.remove().catch((error: unknown) => {
      this.client.logger.error(`removing our node under ${this.options.parent} failed: ${String(error)}`);
    });
  }

  /**
   * Resolves once no removal is under way; bounded by the caller's `limits` (`TimeoutError`
   * past the deadline, `AbortError` on abort — the removal goes on). A recipe awaits this before
   * creating again: a node name fixed per instance would otherwise be deleted by the old removal.
   */
  removed(limits: RetryLimits = {}): Promise<void> {
    return this.removing ? settledWithin(this.removing, limits) : Promise.resolve();
  }

  /**
   * After a non-blocking or timed-out attempt: like kazoo, answer once our node is gone for
   * every session, but wait only while connected (until the state changes) and within the
   * attempt's own `limits` — a timed-out attempt answers at its deadline, since a connection
   * that stopped answering (a partition) looks connected until its read timeout. Otherwise
   * answer now and let the removal finish in the background.
   */
  async removeBeforeAnswering(limits: RetryLimits = {}): Promise<void> {
    this.removeLater();
    if (this.removing) await whileConnected(this.client, this.removing, limits);
  }

  private async removeNow(): Promise<void> {
    // Between sessions (LOST, no new one yet) every ephemeral we may have made belongs to a dead
    // session: none can be adopted, and waiting for a new session to sweep them would hold the
    // caller up as long as the servers are unreachable. The next look sweeps them.
    const betweenSessions = this.options.ephemeral && this.client.sessionId === 0n;
    const retry = this.options.ephemeral ? untilSessionEnds : acrossSessions;
    if (this.unsettled && !betweenSessions) await retry(() => this.find());
    const held = this.held;
    this.held = undefined;
    if (held === undefined) return;
    const path = joinPath(this.options.parent, held.name);
    await deleteOwn(this.client, path, retry, async () => {
      const stat = await this.client.exists(path);
      if (stat === null) return false;
      if (held.czxid !== undefined) return stat.czxid === held.czxid; // the very node we made
      return !this.options.ephemeral || stat.ephemeralOwner === held.session;
    });
  }
}

/**
 * Delete a node of ours at `path`, retried through connection loss by `retry` (NoNode ends it).
 * After a delete whose reply was lost, the delete is sent again only while `stillOurs()` says
 * the node at `path` is still ours: the lost one may have been applied, and another client (at a
 * name others use too: a queue's item lock, a shared member name) may have created a node there
 * since — deleting it again by path would delete theirs.
 */
export async function deleteOwn(
  client: ZooKeeperClient,
  path: string,
  retry: (fn: () => Promise<void>) => Promise<void | undefined>,
  stillOurs: () => Promise<boolean>,
): Promise<void> {
  let unsure = false;
  await retry(async () => {
    if (unsure && !(await stillOurs())) return; // gone, or someone else's now
    unsure = false;
    try {
      await client.delete(path);
    } catch (error) {
      if (isOutcomeUnknown(error)) unsure = true;
      throw error; // retried (connection loss) or settled (NoNode: gone)
    }
  });
}

/**
 * `untilSessionEnds` for a persistent node, which outlives its session: retried in the next
 * session too (`withinDeadline` without a deadline), until it lands, the node is gone (NoNode)
 * or the client closed.
 */
async function acrossSessions<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await withinDeadline(fn);
  } catch (error) {
    if (error instanceof NoNodeError || error instanceof ClientClosedError) return undefined;
    throw error;
  }
}
