import type { ZooKeeperClient } from '../../client/client.js';
import {
  AbortError,
  ClientClosedError,
  ConnectionLossError,
  InvalidArgumentError,
  NoNodeError,
} from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { ConnectionState } from '../../client/states.js';
import { startTimer } from '../../client/timer.js';
import { ChangeWaiter, deadlineOf, pauseAfterError } from '../change-waiter.js';
import { LockLostError, NotHeldError, RecipeStateError } from '../errors.js';
import { Listeners } from '../listeners.js';
import { contenderData, contenderPattern, sortedContenders } from '../lock/contenders.js';
import { OwnNode, type NodeRequest } from '../own-node.js';
import { Ownership } from '../ownership.js';
import { protectedName } from '../protected-name.js';

/** Curator's `LeaderLatch.LOCK_NAME`: the marker before a latch node's sequence. */
const LATCH_NAME = 'latch-';
/** Curator's order (`StandardLockInternalsDriver.standardFixForSorting`): the text after `latch-`. */
const LATCH_NODE = contenderPattern([LATCH_NAME]);

/** Options of `new LeaderLatch(...)`. */
export interface LeaderLatchOptions {
  /** Curator's participant id: stored as the node's data (UTF-8). Default: empty. */
  identifier?: string;
  /**
   * When leadership ends on a connection problem: on SUSPENDED (default, Curator's
   * `StandardConnectionStateErrorPolicy`) or only on LOST (`SessionConnectionStateErrorPolicy`).
   */
  ownershipLostOn?: 'SUSPENDED' | 'LOST';
  /**
   * Curator's `CloseMode`: `'silent'` (default) ends the `events()` iterators before leadership
   * is dropped; `'notifyLeader'` delivers a last `'notLeader'` first.
   */
  closeMode?: 'silent' | 'notifyLeader';
}

/** What `events()` yields: Curator's `LeaderLatchListener.isLeader()` / `notLeader()`. */
export type LeaderLatchEvent = 'isLeader' | 'notLeader';

/** One latch participant (Curator's `Participant`): its id and whether it leads. */
export interface LatchParticipant {
  id: string;
  isLeader: boolean;
}

/** Limits of `awaitLeadership`. */
export interface AwaitLeadershipOptions {
  /** Resolve `false` after this many ms without leadership. Default: no limit. */
  timeout?: number;
  /** Abort the wait: rejects with `AbortError` (the latch stays in the election). */
  signal?: AbortSignal;
}

/**
 * LeaderLatch: Curator's `LeaderLatch` — join an election, learn (without blocking) whether this
 * instance leads, and stay a candidate until `close()`. Unlike `Election`, leadership is not
 * tied to a function: the latch leads until it is closed or its connection fails.
 *
 * Znode layout (Curator 5): `<path>/_c_<uuid>-latch-<seq>`, ephemeral + sequential (Curator's
 * protected create: `_c_` + a UUID + `-` before the node name), data = the identifier (UTF-8).
 * `<path>` and its missing parents are created as containers (Curator's
 * `creatingParentContainersIfNeeded`: the server removes an emptied latch). The lowest sequence leads; the others each watch the node
 * just ahead of them (a `getData` watch, as Curator does). Our latch and a Curator `LeaderLatch`
 * on one path elect one leader between them.
 *
 * SUSPENDED: leadership ends at once (`hasLeadership()` false, a `'notLeader'` event, the
 * `signal` fires with `ConnectionLossError`), as Curator's default error policy does; on the
 * reconnect of the same session the latch looks again and leads again if its node is still the
 * lowest (a new `'isLeader'`, a new `signal`, the same fencing token). With
 * `ownershipLostOn: 'LOST'` SUSPENDED changes nothing.
 * LOST: leadership ends (the `signal` fires with `LockLostError`) and the node is forgotten at
 * once, even while the server still lists it; on the new session the latch deletes it if it is
 * still there and joins again with a new node (Curator's reset). The node's life cycle is
 * `OwnNode`'s: after a lost create reply our node is found by its protected prefix and adopted
 * only when this session made it, so a node of an earlier session never makes a second leader.
 *
 * @example
 *   await using latch = new LeaderLatch(zk, '/services/billing/latch', { identifier: hostname() });
 *   await latch.start();
 *   if (await latch.awaitLeadership({ timeout: 10_000 })) {
 *     await billOnePage({ signal: latch.signal, fencingToken: latch.fencingToken });
 *   }
 */
export class LeaderLatch implements AsyncDisposable {
  readonly path: string;
  readonly identifier: string;
  private readonly data: Buffer;
  private readonly own: OwnNode;
  private readonly lostOn: 'SUSPENDED' | 'LOST';
  private readonly closeMode: 'silent' | 'notifyLeader';
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private leading = false;
  private readonly ownership: Ownership;
  private readonly listeners = new Listeners<LeaderLatchEvent>();
  /** Called on every change of leadership and on close (`awaitLeadership`). */
  private readonly changed = new Set<() => void>();
  private readonly closing = new AbortController();
  private loop: Promise<void> | undefined;
  private firstLook: Promise<void> | undefined;
  private readonly onState = (state: ConnectionState) => {
    if (state === ConnectionState.LOST) {
      this.setLeadership(
        false,
        () => new LockLostError({ path: this.path }, 'the session was lost: leadership is gone'),
      );
    } else if (state === ConnectionState.SUSPENDED && this.lostOn === 'SUSPENDED') {
      this.setLeadership(
        false,
        () =>
          new ConnectionLossError({ path: this.path }, 'the connection is suspended: leadership may be lost'),
      );
    }
    // CONNECTED: the loop's waiter wakes on every state change and looks again.
  };

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    options: LeaderLatchOptions = {},
  ) {
    validatePath(path, 'LeaderLatch');
    const { identifier = '', ownershipLostOn = 'SUSPENDED', closeMode = 'silent' } = options;
    if (typeof identifier !== 'string')
      throw new InvalidArgumentError('identifier must be a string', { op: 'LeaderLatch', path });
    this.path = path;
    this.identifier = identifier;
    this.data = Buffer.from(identifier, 'utf8');
    this.lostOn = ownershipLostOn;
    this.closeMode = closeMode;
    this.own = new OwnNode(client, {
      parent: path,
      prefix: protectedName(LATCH_NAME),
      sequential: true,
      ephemeral: true,
    });
    this.ownership = new Ownership(client, path, 'leadership', ownershipLostOn);
  }

  /**
   * Join the election (once per instance: a second `start()` or one after `close()` throws
   * `RecipeStateError`). Resolves once the latch has its node and has looked whether it leads
   * (it keeps looking in the background until `close()`); while the client cannot reach a
   * server that takes as long as the outage, so awaiting it is optional.
   *
   * @example
   *   const latch = new LeaderLatch(zk, '/election/latch');
   *   await latch.start();
   */
  start(): Promise<void> {
    if (this.state !== 'latent')
      throw new RecipeStateError('a LeaderLatch can be started only once', { op: 'start', path: this.path });
    this.state = 'started';
    this.client.on('state', this.onState);
    let looked!: () => void;
    this.firstLook = new Promise((resolve) => (looked = resolve));
    this.loop = this.run(looked).finally(looked);
    return this.firstLook;
  }

  /** True while this instance leads (Curator's `hasLeadership()`); never blocks. */
  hasLeadership(): boolean {
    return this.state === 'started' && this.leading;
  }

  /**
   * Aborts when leadership ends (SUSPENDED or LOST, per `ownershipLostOn`, or `close()`);
   * already aborted when not leading. Pass it to the work only the leader may do.
   */
  get signal(): AbortSignal {
    return this.ownership.signal;
  }

  /**
   * Grows with every new leader of this path (the czxid of the leader's node): downstream
   * systems can reject writes carrying an older token than one they have seen. Throws
   * `NotHeldError` when not leading.
   */
  get fencingToken(): bigint {
    const token = this.own.czxid;
    if (!this.hasLeadership() || token === undefined)
      throw new NotHeldError({ path: this.path }, 'not the leader');
    return token;
  }

  /** Our node's full path while we have one in the current session (Curator's `getOurPath()`). */
  get nodePath(): string | undefined {
    return this.own.path;
  }

  /**
   * Wait until this instance leads (Curator's `await`). Resolves `true` once it leads, `false`
   * after `timeout` ms or when the latch is not started or is closed meanwhile; rejects with
   * `AbortError` when `signal` aborts.
   */
  awaitLeadership(options: AwaitLeadershipOptions = {}): Promise<boolean> {
    const { signal } = options;
    const deadline = deadlineOf(options.timeout, { op: 'awaitLeadership', path: this.path });
    if (signal?.aborted)
      return Promise.reject(new AbortError(signal.reason, { op: 'awaitLeadership', path: this.path }));
    if (this.hasLeadership() || this.state !== 'started') return Promise.resolve(this.hasLeadership());
    return new Promise((resolve, reject) => {
      const finish = (outcome: boolean | Error) => {
        this.changed.delete(check);
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const check = () => {
        if (this.hasLeadership() || this.state !== 'started') finish(this.hasLeadership());
      };
      const onAbort = () =>
        finish(new AbortError(signal?.reason, { op: 'awaitLeadership', path: this.path }));
      const timer =
        deadline === undefined
          ? undefined
          : startTimer(Math.max(0, deadline - Date.now()), () => finish(false));
      this.changed.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Leadership changes from now on, as an async iterator of `'isLeader'` / `'notLeader'`
   * (Curator's `LeaderLatchListener`). It ends when `signal` aborts, the loop breaks, or the
   * latch is closed. Events wait in the iterator until taken.
   *
   * @example
   *   for await (const event of latch.events({ signal })) {
   *     if (event === 'isLeader') startServing();
   *     else stopServing();
   *   }
   */
  events(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<LeaderLatchEvent> {
    return this.listeners.iterate(options.signal);
  }

  /** Every participant, leader first (Curator's `getParticipants()`). */
  async participants(): Promise<LatchParticipant[]> {
    const ids = await contenderData(this.client, this.path, LATCH_NODE);
    return ids.map((id, index) => ({ id, isLeader: index === 0 }));
  }

  /** The current leader (Curator's `getLeader()`), or undefined when there is no participant. */
  async leader(): Promise<LatchParticipant | undefined> {
    return (await this.participants())[0];
  }

  /**
   * Leave the election: leadership ends (the `signal` fires), `events()` iterators end, and our
   * node is deleted (retried through connection loss until it is gone or the session is).
   * Idempotent; closing a latch never started just marks it closed.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.client.off('state', this.onState);
    this.closing.abort();
    const released = () => new NotHeldError({ path: this.path }, 'the latch was closed');
    if (this.closeMode === 'notifyLeader') {
      this.setLeadership(false, released);
      this.listeners.end();
    } else {
      this.listeners.end();
      this.setLeadership(false, released);
    }
    for (const check of [...this.changed]) check();
    await this.loop;
    await this.own.remove();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private setLeadership(leader: boolean, reason?: () => Error): void {
    if (this.leading === leader) return;
    this.leading = leader;
    if (leader) this.ownership.holdUntilReleased();
    else this.ownership.release(reason);
    this.listeners.emit(leader ? 'isLeader' : 'notLeader');
    for (const check of [...this.changed]) check();
  }

  /** Look, then sleep until something may have changed; again until closed. */
  private async run(looked: () => void): Promise<void> {
    while (this.state === 'started') {
      const waiter = new ChangeWaiter(this.client, { signal: this.closing.signal });
      try {
        const again = await this.look(waiter);
        looked();
        if (!again) await waiter.wait();
      } catch (error) {
        if (this.state !== 'started') return;
        if (error instanceof ClientClosedError) {
          this.setLeadership(false, () => new NotHeldError({ path: this.path }, 'the client was closed'));
          return;
        }
        if (waiter.woken === undefined) {
          await pauseAfterError(this.client, error, `LeaderLatch ${this.path}`, this.closing.signal);
        }
      } finally {
        waiter.dispose();
      }
    }
  }

  /**
   * One look (Curator's `reset` / `getChildren` / `checkLeadership`): have our node, list the
   * latch, lead when ours is the lowest, else watch the node just ahead. Resolves true to look
   * again at once; watches set here wake `waiter`.
   */
  private async look(waiter: ChangeWaiter): Promise<boolean> {
    const request: NodeRequest = { signal: this.closing.signal };
    if (this.own.name === undefined) await this.join(request);
    const ours = this.own.path;
    if (ours === undefined) return true; // the session changed meanwhile
    // Our own node is watched too: deleted by hand, we join again (Curator would not notice).
    const watchingOwn = this.client.get(ours, { watch: waiter.watch(ours, 'data'), ...request });
    watchingOwn.catch(() => {}); // awaited below
    const children = await this.client.getChildren(this.path, request);
    const name = this.own.name;
    if (name === undefined || !children.includes(name)) {
      this.own.vanished();
      this.setLeadership(false, () => new LockLostError({ path: this.path }, 'our latch node is gone'));
      return true;
    }
    await watchingOwn;
    const sorted = sortedContenders(children, LATCH_NODE);
    const index = sorted.findIndex((contender) => contender.name === name);
    if (index === 0) {
      // A reply came over a connection; claim only while it is still up (a SUSPENDED since then
      // already woke the waiter, which looks again once reconnected).
      if (this.client.state === ConnectionState.CONNECTED && waiter.woken === undefined)
        this.setLeadership(true);
      return false;
    }
    this.setLeadership(false, () => new NotHeldError({ path: this.path }, 'another participant leads'));
    const ahead = joinPath(this.path, sorted[index - 1]!.name);
    try {
      await this.client.get(ahead, { watch: waiter.watch(ahead, 'data'), ...request });
    } catch (error) {
      if (error instanceof NoNodeError) return true; // gone already: look again
      throw error;
    }
    return false;
  }

  /** Have a node in the latch: settle an uncertain create (adopting only this session's node), else create one. */
  private async join(request: NodeRequest): Promise<void> {
    if (this.own.unsettled) await this.own.find(request);
    if (this.own.name !== undefined) return;
    try {
      await this.own.create(this.data, request);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      await this.client.ensurePath(this.path, { ...request, container: true });
      await this.own.create(this.data, request);
    }
  }
}
