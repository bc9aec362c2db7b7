/**
 * What Party and ShallowParty share (kazoo's `BaseParty`): one ephemeral member node with a
 * name fixed per instance, join/leave, member listing, and re-joining after a lost session.
 * See `party.ts` and `shallow-party.ts` for the node names.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { ClientClosedError, NoNodeError, NodeExistsError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { ConnectionState } from '../../client/states.js';
import { deadlineOf, ensureEmptyPath, requestLimits, retryTransient, type WaitLimits } from '../change-waiter.js';

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
  /** The session that owns our member node, while we have one. */
  private nodeSession: bigint | undefined;
  /** join, leave and re-joins run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private listening = false;
  private rejoinCount = 0;
  private readonly onState = (state: ConnectionState) => {
    if (state !== ConnectionState.CONNECTED || !this.joined || this.client.sessionId === this.nodeSession) return;
    // A new session: our node went with the old one.
    this.serialize(async () => {
      if (!this.joined || this.client.sessionId === this.nodeSession) return;
      try {
        await this.createNode({});
        this.rejoinCount++;
        this.client.logger.info(`party ${this.path}: re-joined as ${this.node} after the session was lost`);
      } catch (error) {
        // The next CONNECTED tries again; a closed client ends it.
        if (!(error instanceof ClientClosedError)) this.client.logger.warn(`party ${this.path}: re-joining failed: ${String(error)}`);
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
   * Join: create our ephemeral member node (an existing one is kept, as in kazoo). Retries
   * connection loss until `timeout`.
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

  /** Leave: delete our member node. Resolves false when it was already gone (as kazoo). */
  async leave(options: PartyCallOptions = {}): Promise<boolean> {
    this.joined = false;
    this.stopListening();
    return this.serialize(async () => {
      this.nodeSession = undefined;
      const limits = { deadline: deadlineOf(options.timeout), signal: options.signal };
      try {
        await retryTransient(() => this.client.delete(this.nodePath, requestLimits(limits)), limits);
        return true;
      } catch (error) {
        if (error instanceof NoNodeError) return false;
        throw error;
      }
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
    const children = await retryTransient(async () => {
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
    await retryTransient(() => ensureEmptyPath(this.client, this.path, requestLimits(limits)), limits);
    this.pathEnsured = true;
  }

  /** Create our node in the current session (retrying connection loss); reuse one we own or a persistent one. */
  private async createNode(limits: WaitLimits): Promise<void> {
    for (let round = 1; ; round++) {
      await this.ensureParent(limits);
      const created = await retryTransient(async () => {
        const request = requestLimits(limits);
        try {
          await this.client.create(this.nodePath, this.data, { ephemeral: true, ...request });
          return true;
        } catch (error) {
          if (error instanceof NoNodeError && round < 10) {
            this.pathEnsured = false; // the parent was deleted: ensure it again
            return false;
          }
          if (!(error instanceof NodeExistsError)) throw error;
        }
        // Ours after a lost reply, or pre-created (kazoo reuses it) — or left by an ended session of ours.
        const stat = await this.client.exists(this.nodePath, request);
        if (stat === null) return false;
        if (stat.ephemeralOwner === 0n || stat.ephemeralOwner === this.client.sessionId || round >= 10) return true;
        try {
          await this.client.delete(this.nodePath, { version: stat.version, ...request }); // it would vanish with that session
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
        }
        return false;
      }, limits);
      if (created) {
        this.nodeSession = this.client.sessionId;
        return;
      }
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
