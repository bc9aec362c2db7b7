/**
 * Item locks: an ephemeral node at a name every consumer uses — the item's own (LockingQueue's
 * `<path>/taken/<entry>`, kazoo's layout; a Curator queue's `<lockPath>/<item>`) — with the
 * consumer's id as its data. Another consumer may create a node at that very path as soon as
 * ours is gone, so nothing here acts on the path alone:
 * - `lock`: a create whose reply was lost is settled by reading the node back: ours only with our
 *   id and owned by the session the create was sent in, still the current one (a node of an
 *   ended session is never adopted). Missing → not applied: a session's requests are handled in
 *   order, so a create sent before the read was applied before it or never.
 * - `unlock`: a delete whose reply was lost is never sent again blindly. It may have been
 *   applied, and another consumer may have locked the item since: a second delete would remove
 *   their lock, and a third consumer would then take the item they hold (an item delivered
 *   twice). The node is read first and deleted again only while it is still ours (`deleteOwn`).
 * One consumer (one id) must not lock and unlock one name at the same time: the reads could not
 * tell its two locks apart. The queues run their calls one at a time.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { AbortError, NodeExistsError, SessionExpiredError, TimeoutError } from '../../client/errors.js';
import { isOutcomeUnknown, untilSessionEnds } from '../../client/retry.js';
import { deleteOwn } from '../own-node.js';
import { requestLimits, type WaitLimits } from '../change-waiter.js';

/** One consumer's locks on items (see the module doc): create, settle a lost reply, delete only ours. */
export class ItemLocks {
  /**
   * @param id this consumer's id, the data of its locks
   * @param op the recipe step named by the errors raised here
   */
  constructor(
    private readonly client: ZooKeeperClient,
    private readonly id: Buffer,
    private readonly op: string,
  ) {}

  /**
   * Create our lock at `path` (ephemeral, our id): the session that owns it; `'theirs'` when
   * another consumer's lock is there (NodeExists); undefined when not locked for another reason
   * (never sent: SessionExpired; a lost create proven not ours). The create is sent before this
   * returns, so a read sent right after the call is handled after it. `TimeoutError`/`AbortError`
   * when `limits` ended and the lock is not ours.
   */
  async lock(path: string, limits: WaitLimits): Promise<bigint | 'theirs' | undefined> {
    const sentIn = this.client.sessionId;
    try {
      await this.client.create(path, this.id, { ephemeral: true, ...requestLimits(limits) });
      return this.client.sessionId; // a reply comes in the session its request was sent in
    } catch (error) {
      if (error instanceof NodeExistsError) return 'theirs';
      if (error instanceof SessionExpiredError) return undefined; // never sent
      if (!isOutcomeUnknown(error)) throw error;
      if (await this.ours(path, sentIn)) return sentIn;
      if (error instanceof TimeoutError || error instanceof AbortError) throw error;
      return undefined;
    }
  }

  /**
   * Delete our lock at `path`, created in `session`, retried through connection loss while that
   * session lasts (a leaked lock hides the item until then) — after a lost reply only while the
   * node is still ours. A no-op once the session ended: the lock went with it, and the path may
   * be another consumer's lock by now.
   */
  async unlock(path: string, session: bigint): Promise<void> {
    await deleteOwn(
      this.client,
      path,
      (fn) => this.whileSession(session, fn),
      () => this.ours(path, session),
    );
  }

  /** Whether the node at `path` is our lock of `session` (retried through connection loss while that session lasts). */
  private async ours(path: string, session: bigint): Promise<boolean> {
    const node = await this.whileSession(session, () => this.client.get(path));
    return node !== undefined && node.data.equals(this.id) && node.stat.ephemeralOwner === session;
  }

  /**
   * `fn` retried through connection loss while `session` is the current one; undefined once it
   * ended (or on NoNode): nothing of an ended session is ours.
   */
  whileSession<T>(session: bigint, fn: () => Promise<T>): Promise<T | undefined> {
    return untilSessionEnds(() => {
      if (this.client.sessionId !== session) throw new SessionExpiredError({ op: this.op });
      return fn();
    });
  }
}
