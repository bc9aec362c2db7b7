import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ZooKeeperClient } from '../../client/client.js';
import {
  AbortError,
  InvalidArgumentError,
  NoNodeError,
  SessionExpiredError,
  TimeoutError,
} from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { EventType, type WatchEvent } from '../../client/states.js';
import { SessionLostError } from '../errors.js';
import { pause, retriesWithinDeadline, withinDeadline } from '../../client/retry.js';
import { ChangeWaiter, deadlineOf, requestLimits, type WaitLimits } from '../change-waiter.js';
import { OwnNode } from '../own-node.js';

/** Options of `new DoubleBarrier(...)`: the participant's identifier. */
export interface DoubleBarrierOptions {
  /** Stored as our participant node's data. Default `<hostname>-<pid>` (kazoo: `<fqdn>-<pid>`). */
  identifier?: string;
}

/** Options of `enter` / `leave`: timeout and signal. */
export interface DoubleBarrierWaitOptions {
  /** Give up after this many ms with `TimeoutError` (our node is then deleted). Default: wait forever. */
  timeout?: number;
  /** Abort: rejects with `AbortError` (our node is then deleted). */
  signal?: AbortSignal;
}

const READY = 'ready';

/**
 * DoubleBarrier: start and finish a computation together, wire-compatible with kazoo's
 * `DoubleBarrier`. `enter()` blocks until `numClients` participants are in; `leave()` blocks
 * until every participant has left.
 *
 * Znode layout (kazoo 2.8):
 * - `<path>`: persistent, empty.
 * - `<path>/<32hex>`: one per participant, **ephemeral**, data = identifier (UTF-8; default
 *   `<hostname>-<pid>`); the name is fixed per instance.
 * - `<path>/ready`: persistent, empty; created by the participant that sees the quorum, deleted
 *   by the first to leave.
 *
 * Entering counts **every** child of `<path>`, `ready` included (kazoo's rule, kept so that kazoo
 * and TS participants agree: a stale `ready` lets an under-sized group through). Leaving ignores
 * `ready`: the lowest-named participant waits for all others to delete their nodes, the others
 * delete theirs and wait for the lowest to go.
 *
 * SUSPENDED: waits continue; watches are re-registered on reconnect and the state is re-checked.
 * LOST: our participant node is gone, so the group can no longer count us: a waiting `enter()`
 * (or a `leave()` whose node was not yet deleted) rejects with `SessionLostError` instead of
 * waiting forever (kazoo would hang). A `leave()` that already deleted its node keeps waiting in
 * the new session (it has nothing ephemeral left to lose).
 *
 * Our node follows the recipes' one own-node lifecycle (`own-node.ts`): a create whose reply was
 * lost is settled in the current session; a node of our name that this session did not make (an
 * earlier session's, or one made by hand — kazoo reuses it) is deleted and created again, never
 * adopted.
 *
 * Deviations from kazoo (none on the wire): failures are thrown, not swallowed (kazoo sets
 * `participating = False` and returns); `{ timeout, signal }` bound the waits (`TimeoutError`,
 * `AbortError`). As in kazoo, a failed `enter()`/`leave()` deletes our node (retried through
 * connection loss until it is gone or the session is), so the others may proceed without us.
 *
 * @example
 *   const barrier = new DoubleBarrier(zk, '/jobs/reindex/barrier', 3, { identifier: 'worker-2' });
 *   await barrier.enter({ timeout: 60_000 }); // all 3 are in
 *   await reindexMyShard();
 *   await barrier.leave({ timeout: 60_000 }); // all 3 are done
 */
export class DoubleBarrier {
  readonly path: string;
  readonly numClients: number;
  readonly identifier: string;
  /** Our participant node's name (`<32hex>`), fixed per instance. */
  readonly nodeName: string;
  private readonly data: Buffer;
  private readonly readyPath: string;
  private pathEnsured = false;
  private inside = false;
  /** Our participant node, in the current session (the recipes' own-node lifecycle). */
  private readonly own: OwnNode;
  private busy = false;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    numClients: number,
    options: DoubleBarrierOptions = {},
  ) {
    validatePath(path, 'DoubleBarrier');
    if (!Number.isSafeInteger(numClients) || numClients < 1) {
      throw new InvalidArgumentError(`numClients must be a positive integer, got ${String(numClients)}`, {
        op: 'DoubleBarrier',
        path,
      });
    }
    this.path = path;
    this.numClients = numClients;
    this.identifier = options.identifier || `${hostname()}-${process.pid}`;
    this.data = Buffer.from(this.identifier, 'utf8');
    this.nodeName = randomUUID().replaceAll('-', '');
    this.readyPath = joinPath(path, READY);
    this.own = new OwnNode(client, {
      parent: path,
      prefix: this.nodeName,
      sequential: false,
      ephemeral: true,
    });
  }

  /** Our participant node's full path. */
  get nodePath(): string {
    return joinPath(this.path, this.nodeName);
  }

  /** True between a successful `enter()` and the end of `leave()` (kazoo's `participating`). */
  get participating(): boolean {
    return this.inside;
  }

  /**
   * Enter: create our node, then wait until `numClients` participants are in (or `ready`
   * appears). Rejects with `TimeoutError`, `AbortError`, `SessionLostError` (the session ended
   * while waiting) or a server error (e.g. `NoChildrenForEphemeralsError`); our node is then
   * deleted and `participating` is false.
   */
  async enter(options: DoubleBarrierWaitOptions = {}): Promise<void> {
    await this.exclusive('enter', async () => {
      const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
      this.own.takeLost(); // a node we had before this call is not this call's loss
      try {
        await this.own.removed(limits); // an earlier call's node (same name) must be gone first
        await this.enterLoop(limits);
        this.inside = true;
      } catch (error) {
        this.inside = false;
        this.own.removeLater(); // answered at once; our node goes in the background
        throw error;
      }
    });
  }

  /**
   * Leave: delete `ready`, then wait until every participant has left. Rejects like `enter()`;
   * `participating` is false afterwards in every case. Without a prior `enter()` it does nothing.
   */
  async leave(options: DoubleBarrierWaitOptions = {}): Promise<void> {
    await this.exclusive('leave', async () => {
      if (this.own.name === undefined && !this.inside) return; // never entered: nothing to leave
      const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
      try {
        await this.leaveLoop(limits);
      } catch (error) {
        this.own.removeLater(); // answered at once; our node goes in the background
        throw error;
      } finally {
        this.inside = false;
      }
    });
  }

  private async exclusive(op: string, fn: () => Promise<void>): Promise<void> {
    if (this.busy)
      throw new InvalidArgumentError('enter() or leave() is already running on this instance', {
        op,
        path: this.path,
      });
    this.busy = true;
    try {
      await fn();
    } finally {
      this.busy = false;
    }
  }

  private checkLimits(op: string, limits: WaitLimits): void {
    if (limits.signal?.aborted) throw new AbortError(limits.signal.reason, { op, path: this.path });
    if (limits.deadline !== undefined && Date.now() >= limits.deadline)
      throw new TimeoutError(`the double barrier was not passed in time`, { op, path: this.path });
  }

  private sessionLost(op: string): SessionLostError {
    return new SessionLostError(
      { op, path: this.nodePath },
      'the session was lost while waiting at the double barrier: our participant node is gone',
    );
  }

  private async enterLoop(limits: WaitLimits): Promise<void> {
    let readyCreated = false;
    for (;;) {
      this.checkLimits('enter', limits);
      if (this.own.takeLost()) throw this.sessionLost('enter'); // our node went with its session
      const waiter = new ChangeWaiter(this.client, limits);
      try {
        const request = requestLimits(limits);
        try {
          if (!this.pathEnsured) {
            await this.client.ensurePath(this.path, request);
            this.pathEnsured = true;
          }
          if (!(await this.own.ensure(this.data, request))) continue;
          const onReady = (event: WatchEvent) => {
            if (event.type === EventType.NodeCreated) readyCreated = true;
          };
          const ready = await this.client.exists(this.readyPath, {
            watch: waiter.watch(this.readyPath, 'data', onReady),
            ...request,
          });
          // With a stale `ready` nobody will create it: re-count on arrivals instead.
          const children = await this.client.getChildren(this.path, {
            watch: ready ? waiter.watch(this.path, 'children') : undefined,
            ...request,
          });
          if (readyCreated) return;
          if (!children.includes(this.nodeName)) {
            if (this.own.name === undefined) throw this.sessionLost('enter');
            this.own.vanished(); // deleted by someone else while our session lives: create it again
            this.own.takeLost();
            continue;
          }
          if (children.length >= this.numClients) {
            await withinDeadline(() => this.client.ensurePath(this.readyPath, requestLimits(limits)), limits);
            return;
          }
        } catch (error) {
          if (error instanceof SessionExpiredError && this.own.takeLost()) throw this.sessionLost('enter');
          if (!retriesWithinDeadline(error, limits.deadline)) throw error;
          await pause(limits.deadline, limits.signal);
          continue;
        }
        await waiter.wait();
        if (readyCreated) return;
      } finally {
        waiter.dispose();
      }
    }
  }

  private async leaveLoop(limits: WaitLimits): Promise<void> {
    let readyDeleted = false;
    let ownDeleted = false;
    /** After deleting our node: the lowest participant, whose departure means everyone left. */
    let awaited: string | undefined;
    for (;;) {
      this.checkLimits('leave', limits);
      if (!ownDeleted && this.own.name === undefined) throw this.sessionLost('leave');
      const waiter = new ChangeWaiter(this.client, limits);
      try {
        const request = requestLimits(limits);
        try {
          if (!readyDeleted) {
            await this.client.delete(this.readyPath, request).catch((error: unknown) => {
              if (!(error instanceof NoNodeError)) throw error;
            });
            readyDeleted = true;
          }
          let children: string[];
          try {
            children = (await this.client.getChildren(this.path, request)).filter((name) => name !== READY);
          } catch (error) {
            if (!(error instanceof NoNodeError)) throw error;
            children = [];
          }
          if (!ownDeleted && !children.includes(this.nodeName)) {
            // Deleted by someone else while our session lives on: we are out of the group.
            if (this.own.name === undefined) throw this.sessionLost('leave');
            this.own.vanished();
            ownDeleted = true;
          }
          if (ownDeleted) {
            awaited ??= [...children].sort()[0];
            if (awaited === undefined || !children.includes(awaited)) return;
            const present = await this.client.exists(joinPath(this.path, awaited), {
              watch: waiter.watch(joinPath(this.path, awaited), 'data'),
              ...request,
            });
            if (!present) return;
          } else if (children.length === 1) {
            await this.deleteOwnNode(request);
            return;
          } else {
            children.sort();
            if (children[0] === this.nodeName) {
              // We are the lowest: wait for the highest to go, until we are alone.
              const highest = joinPath(this.path, children[children.length - 1]!);
              if (!(await this.client.exists(highest, { watch: waiter.watch(highest, 'data'), ...request })))
                continue;
            } else {
              await this.deleteOwnNode(request);
              ownDeleted = true;
              awaited = children[0]!;
              const lowest = joinPath(this.path, awaited);
              if (!(await this.client.exists(lowest, { watch: waiter.watch(lowest, 'data'), ...request })))
                return;
            }
          }
        } catch (error) {
          if (error instanceof SessionExpiredError && !ownDeleted) throw this.sessionLost('leave');
          if (!retriesWithinDeadline(error, limits.deadline)) throw error;
          await pause(limits.deadline, limits.signal);
          continue;
        }
        await waiter.wait();
      } finally {
        waiter.dispose();
      }
    }
  }

  /** Delete our node (an earlier attempt whose reply was lost may have done it already). */
  private async deleteOwnNode(request: {
    timeout?: number;
    signal?: AbortSignal;
    failFast?: boolean;
  }): Promise<void> {
    const path = this.own.path;
    if (path === undefined) throw this.sessionLost('leave');
    try {
      await this.client.delete(path, request);
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
    }
    this.own.vanished(); // deleted by us: forget it
  }
}
