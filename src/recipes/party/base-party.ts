import type { ZooKeeperClient } from '../../client/client.js';
import { ClientClosedError, NoNodeError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { ConnectionState } from '../../client/states.js';
import { isOutcomeUnknown, settledWithin, withinDeadline } from '../../client/retry.js';
import { deadlineOf, requestLimits, type WaitLimits } from '../change-waiter.js';
import { OutcomeUnknownError } from '../errors.js';
import { OwnNode } from '../own-node.js';

/** Options of `new Party(...)` / `new ShallowParty(...)`: the member's identifier, and whether it re-joins after a session loss. */
export interface PartyOptions {
  /** This member's identifier, stored as its node's data (UTF-8). Default: empty. */
  identifier?: string;
  /**
   * Re-create our member node by itself when the session was lost and a new one is connected
   * (default true; kazoo never re-joins — pass false for its behaviour).
   */
  autoRejoin?: boolean;
}

/** Per-call options of a Party's calls: timeout and signal. */
export interface PartyCallOptions {
  /** Give up after this many ms with `TimeoutError`. Default: retry until connected. */
  timeout?: number;
  signal?: AbortSignal;
}

/**
 * What Party and ShallowParty share (kazoo's `BaseParty`): one ephemeral member node with a
 * name fixed per instance, join/leave, member listing, and re-joining after a lost session.
 * See `party.ts` and `shallow-party.ts` for the node names.
 *
 * The member node follows the recipes' one own-node lifecycle (`own-node.ts`): a create whose
 * reply was lost is settled by looking for the node in the current session; a node of that
 * name left by an earlier session of ours (or made by hand: kazoo would reuse it) is deleted and
 * created again, never adopted — it would vanish when that session expires.
 */
export abstract class BaseParty implements AsyncDisposable, AsyncIterable<string> {
  readonly path: string;
  readonly identifier: string;
  /** Our member node's name, fixed per instance. */
  readonly node: string;
  readonly autoRejoin: boolean;
  protected readonly data: Buffer;
  private pathEnsured = false;
  private joined = false;
  /** Our member node, in the current session. */
  private readonly own: OwnNode;
  /** join, leave and re-joins run one at a time, in call order (`serialize`). */
  private queue: Promise<unknown> = Promise.resolve();
  private listening = false;
  private rejoinCount = 0;
  private readonly onState = (state: ConnectionState) => {
    if (state !== ConnectionState.CONNECTED || !this.joined || this.own.name !== undefined) return;
    // A new session: our node went with the old one.
    this.serialize({}, async () => {
      if (!this.joined || this.own.name !== undefined) return;
      try {
        await this.createNode({});
        this.rejoinCount++;
        this.client.logger.info(`party ${this.path}: re-joined as ${this.node} after the session was lost`);
      } catch (error) {
        // The next CONNECTED tries again; a closed client ends it.
        if (!(error instanceof ClientClosedError))
          this.client.logger.warn(`party ${this.path}: re-joining failed: ${String(error)}`);
      }
    }).catch(() => {});
  };

  protected constructor(
    readonly client: ZooKeeperClient,
    path: string,
    node: string,
    options: PartyOptions,
  ) {
    validatePath(path, new.target.name);
    validatePath(joinPath(path, node), new.target.name);
    this.path = path;
    this.node = node;
    this.identifier = options.identifier ?? '';
    this.data = Buffer.from(this.identifier, 'utf8');
    this.autoRejoin = options.autoRejoin ?? true;
    this.own = new OwnNode(client, { parent: path, prefix: node, sequential: false, ephemeral: true });
  }

  /** Our member node's full path (kazoo's `create_path`). */
  get nodePath(): string {
    return joinPath(this.path, this.node);
  }

  /** True after `join()` until `leave()` (kazoo's `participating`; with auto re-join it stays true across a lost session). */
  get participating(): boolean {
    return this.joined;
  }

  /** How many times the member node was re-created after a lost session. */
  get rejoins(): number {
    return this.rejoinCount;
  }

  /**
   * Join: create our ephemeral member node (one of our name that this session did not make is
   * replaced; kazoo keeps it). Retries connection loss until `timeout`.
   */
  async join(options: PartyCallOptions = {}): Promise<void> {
    const limits = this.limitsOf(options);
    await this.serialize(limits, async () => {
      await this.createNode(limits);
      this.joined = true;
      if (this.autoRejoin && !this.listening) {
        this.listening = true;
        this.client.on('state', this.onState);
      }
    });
  }

  /**
   * Leave: delete our member node. Resolves true when this call deleted it; false when it was
   * already gone (as kazoo), or went with an ended session before our delete was sent. A delete
   * whose reply was lost and is then answered NoNode in the same session was ours (kazoo's leave
   * says false there): within a session only its owner deletes a member node. When the session
   * ended while such a delete's outcome was unknown, the node is gone either way but who removed
   * it is not: `OutcomeUnknownError`. On `timeout` (or abort) the node is still deleted in the
   * background.
   */
  async leave(options: PartyCallOptions = {}): Promise<boolean> {
    this.joined = false;
    this.stopListening();
    const limits = this.limitsOf(options);
    // Deleted in the background after the calls before this one, if this one gives up.
    const giveUp = () => this.own.removeLater();
    return this.serialize(
      limits,
      async () => {
        if (this.own.unsettled) await withinDeadline(() => this.own.find(requestLimits(limits)), limits);
        const path = this.own.path;
        if (path === undefined) return false;
        const deleted = await this.deleteOwnNode(path, limits);
        this.own.vanished(); // deleted now (or already gone): forget it
        return deleted;
      },
      giveUp,
    );
  }

  /** Delete our node at `path` (held in the current session); true when this delete removed it. */
  private async deleteOwnNode(path: string, limits: WaitLimits): Promise<boolean> {
    const session = this.client.sessionId;
    let uncertain = false;
    return withinDeadline(async () => {
      if (this.client.sessionId !== session) {
        // Our node went with its session, maybe after our delete got there: say which only if known.
        if (!uncertain) return false;
        throw new OutcomeUnknownError(
          { op: 'leave', path },
          'our member node is gone, but whether our delete or the end of its session removed it is unknown',
        );
      }
      try {
        await this.client.delete(path, requestLimits(limits));
        return true;
      } catch (error) {
        if (error instanceof NoNodeError) return uncertain; // after a lost reply: ours
        if (isOutcomeUnknown(error)) uncertain = true; // sent; no answer came
        throw error;
      }
    }, limits);
  }

  /** The members' identifiers (order unspecified). */
  abstract members(options?: PartyCallOptions): Promise<string[]>;

  /** Number of members (kazoo's `len(party)`). */
  async size(options: PartyCallOptions = {}): Promise<number> {
    return (await this.memberNodes(options)).length;
  }

  /** Iterate over a snapshot of the members' identifiers (kazoo's `iter(party)`). */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    yield* await this.members();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.joined) await this.leave();
  }

  /** Names of the children that count as members. */
  protected abstract isMember(name: string): boolean;

  /** The member nodes' names (the parent is created on first use, as kazoo does). */
  protected async memberNodes(options: PartyCallOptions): Promise<string[]> {
    const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
    await this.ensureParent(limits);
    const children = await withinDeadline(async () => {
      try {
        return await this.client.getChildren(this.path, requestLimits(limits));
      } catch (error) {
        if (error instanceof NoNodeError) return []; // deleted meanwhile
        throw error;
      }
    }, limits);
    return children.filter((name) => this.isMember(name));
  }

  protected limitsOf(options: PartyCallOptions): WaitLimits {
    return { deadline: deadlineOf(options.timeout), signal: options.signal };
  }

  private async ensureParent(limits: WaitLimits): Promise<void> {
    if (this.pathEnsured) return;
    await withinDeadline(() => this.client.ensurePath(this.path, requestLimits(limits)), limits);
    this.pathEnsured = true;
  }

  /** Have our node in the current session: settle an uncertain create, else create it (retrying connection loss). */
  private async createNode(limits: WaitLimits): Promise<void> {
    await this.own.removed(limits); // a leave's background delete would take the new node too
    for (let round = 1; ; round++) {
      await this.ensureParent(limits);
      const created = await withinDeadline(async () => {
        try {
          return await this.own.ensure(this.data, requestLimits(limits));
        } catch (error) {
          if (!(error instanceof NoNodeError) || round >= 10) throw error;
          this.pathEnsured = false; // the parent was deleted: ensure it again
          return false;
        }
      }, limits);
      if (created) return;
    }
  }

  private stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.client.off('state', this.onState);
  }

  /**
   * Run `fn` after every call before it. The wait for those is bounded by the caller's
   * `limits`; a call that gives up there runs `onGiveUp` once they are done (a leave still
   * deletes our node), and the next call still waits for them.
   */
  private serialize<T>(limits: WaitLimits, fn: () => Promise<T>, onGiveUp?: () => void): Promise<T> {
    const before = this.queue;
    const run = settledWithin(before, limits).then(fn);
    const ended = onGiveUp ? run.catch(() => before.then(onGiveUp)) : run;
    this.queue = Promise.allSettled([before, ended]);
    return run;
  }
}
