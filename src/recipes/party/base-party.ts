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
import type { ZooKeeperClient } from '../../client/client.js';
import { ClientClosedError, NoNodeError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { ConnectionState } from '../../client/states.js';
import { withinDeadline } from '../../client/retry.js';
import { deadlineOf, ensureEmptyPath, requestLimits, type WaitLimits } from '../change-waiter.js';
import { OwnNode } from '../own-node.js';

export interface PartyOptions {
  /** This member's identifier, stored as its node's data (UTF-8). Default: empty. */
  identifier?: string;
  /**
   * Re-create our member node by itself when the session was lost and a new one is connected
   * (default true; kazoo never re-joins — pass false for its behaviour).
   */
  autoRejoin?: boolean;
}

export interface PartyCallOptions {
  /** Give up after this many ms with `TimeoutError`. Default: retry until connected. */
  timeout?: number;
  signal?: AbortSignal;
}

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
  /** A background delete of our node after a `leave()` that gave up. */
  private removing: Promise<void> = Promise.resolve();
  /** join, leave and re-joins run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private listening = false;
  private rejoinCount = 0;
  private readonly onState = (state: ConnectionState) => {
    if (state !== ConnectionState.CONNECTED || !this.joined || this.own.name !== undefined) return;
    // A new session: our node went with the old one.
    this.serialize(async () => {
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
    await this.serialize(async () => {
      await this.createNode({ deadline: deadlineOf(options.timeout), signal: options.signal });
      this.joined = true;
      if (this.autoRejoin && !this.listening) {
        this.listening = true;
        this.client.on('state', this.onState);
      }
    });
  }

  /**
   * Leave: delete our member node. Resolves false when it was already gone (as kazoo), or went
   * with an ended session. On `timeout` the node is still deleted in the background.
   */
  async leave(options: PartyCallOptions = {}): Promise<boolean> {
    this.joined = false;
    this.stopListening();
    return this.serialize(async () => {
      const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
      let gone: boolean;
      try {
        if (this.own.unsettled) await withinDeadline(() => this.own.find(requestLimits(limits)), limits);
        const path = this.own.path;
        if (path === undefined) return false;
        gone = await withinDeadline(() => this.client.delete(path, requestLimits(limits)), limits).then(
          () => false,
          (error: unknown) => {
            if (error instanceof NoNodeError) return true;
            throw error;
          },
        );
      } catch (error) {
        // Gave up: delete it in the background until the session ends; a later join() waits for that.
        this.removing = this.own.remove().catch((e: unknown) => {
          this.client.logger.warn(`party ${this.path}: leaving failed: ${String(e)}`);
        });
        throw error;
      }
      this.own.vanished(); // deleted now (or already gone): forget it
      return !gone;
    });
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
    await withinDeadline(() => ensureEmptyPath(this.client, this.path, requestLimits(limits)), limits);
    this.pathEnsured = true;
  }

  /** Have our node in the current session: settle an uncertain create, else create it (retrying connection loss). */
  private async createNode(limits: WaitLimits): Promise<void> {
    await this.removing;
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

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}
