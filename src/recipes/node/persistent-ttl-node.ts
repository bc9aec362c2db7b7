import type { ZooKeeperClient } from '../../client/client.js';
import { CreateMode } from '../../client/create-mode.js';
import {
  ClientClosedError,
  InvalidArgumentError,
  NoNodeError,
  NodeExistsError,
} from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { startTimer, type Timer } from '../../client/timer.js';
import { hostAddress } from '../local-address.js';
import { PersistentNode, type PersistentNodeWaitOptions } from './persistent-node.js';

/** Curator's `PersistentTtlNode.DEFAULT_CHILD_NODE_NAME`. */
export const TOUCH_NAME = 'touch';
/** Curator's `PersistentTtlNode.DEFAULT_TOUCH_SCHEDULE_FACTOR`. */
const TOUCH_SCHEDULE_FACTOR = 2;

/** Options of `new PersistentTtlNode(...)`. */
export interface PersistentTtlNodeOptions {
  /** The child is touched every `ttl / touchScheduleFactor` ms (Curator's default: 2). */
  touchScheduleFactor?: number;
  /** The child's name (Curator's `childNodeName`, default `touch`). */
  childNodeName?: string;
  /** Make missing parents as container nodes (Curator's `useParentCreation`, default true). */
  creatingParents?: boolean;
  /** Closes the node (as `close()`) when it aborts. */
  signal?: AbortSignal;
}

/**
 * PersistentTtlNode: Curator's `PersistentTtlNode` — a node that lives while some process keeps
 * touching it, and goes by itself (after its TTL) once none does: no ephemeral, so it survives
 * its owners' session losses and restarts within the TTL. Several instances (ours or Curator's)
 * may keep one path alive together.
 *
 * Znode layout (Curator 5): `<path>`, a `PERSISTENT_WITH_TTL` node (TTL `ttl`) holding the
 * data, kept by a `PersistentNode` (unprotected: a node already there is taken as ours and gets
 * our data); and `<path>/touch`, a `PERSISTENT_WITH_TTL` child holding the local address (Curator's
 * default data, `InetAddress.getLocalHost().getHostAddress()`), written (or made) every
 * `ttl / touchScheduleFactor` ms. ZooKeeper deletes a TTL node that has no children and was
 * not modified within its TTL: the touched child keeps the parent; once touching stops the
 * child expires, then the parent. The server needs `zookeeper.extendedTypesEnabled=true`; it
 * checks TTLs every `znode.container.checkIntervalMs` (default 60 s), so a node outlives its
 * TTL by up to that much.
 *
 * SUSPENDED: the touches wait for the connection (each one at most; touches are not stacked);
 * the node stays. LOST: the node is persistent, so nothing is lost; it is made again if the TTL
 * passed meanwhile. `close()` stops touching and leaves the node to expire (Curator's behaviour:
 * another instance may still keep it).
 *
 * @example
 *   await using node = new PersistentTtlNode(zk, '/workers/worker-1', 10_000, Buffer.from('busy'));
 *   node.start();
 *   await node.waitForInitialCreate({ timeout: 5000 });
 */
export class PersistentTtlNode implements AsyncDisposable {
  readonly path: string;
  readonly ttl: number;
  private readonly node: PersistentNode;
  private readonly childPath: string;
  private readonly period: number;
  private readonly closing = new AbortController();
  private timer: Timer | undefined;
  private touching: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    ttl: number,
    data: Buffer,
    options: PersistentTtlNodeOptions = {},
  ) {
    validatePath(path, 'PersistentTtlNode');
    const context = { op: 'PersistentTtlNode', path };
    const {
      touchScheduleFactor = TOUCH_SCHEDULE_FACTOR,
      childNodeName = TOUCH_NAME,
      creatingParents,
    } = options;
    if (!Number.isInteger(ttl) || ttl < 1)
      throw new InvalidArgumentError('ttl must be an integer of ms >= 1', context);
    if (typeof touchScheduleFactor !== 'number' || !(touchScheduleFactor >= 1))
      throw new InvalidArgumentError('touchScheduleFactor must be a number >= 1', context);
    if (typeof childNodeName !== 'string' || childNodeName === '' || childNodeName.includes('/'))
      throw new InvalidArgumentError('childNodeName must be a node name', context);
    this.path = path;
    this.ttl = ttl;
    this.period = Math.max(1, Math.floor(ttl / touchScheduleFactor));
    this.childPath = joinPath(path, childNodeName);
    this.node = new TtlParent(client, path, data, {
      mode: CreateMode.PERSISTENT,
      ttl,
      protection: false,
      ...(creatingParents === undefined ? {} : { creatingParents }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (options.signal?.aborted) this.closed = true;
    options.signal?.addEventListener('abort', () => this.stopTouching(), { once: true });
  }

  /** Make the node and start touching it (once per instance; `RecipeStateError` otherwise). */
  start(): void {
    this.node.start();
    if (!this.closed) this.schedule();
  }

  /** As `PersistentNode.waitForInitialCreate`. */
  waitForInitialCreate(options: PersistentNodeWaitOptions = {}): Promise<boolean> {
    return this.node.waitForInitialCreate(options);
  }

  /** As `PersistentNode.setData`: the parent's data. */
  setData(data: Buffer, options: PersistentNodeWaitOptions = {}): Promise<void> {
    return this.node.setData(data, options);
  }

  /** The data the node should hold (a copy). */
  getData(): Buffer {
    return this.node.getData();
  }

  /** The node's path once made (always `path`), undefined before and after `close()`. */
  getActualPath(): string | undefined {
    return this.node.getActualPath();
  }

  /**
   * Stop touching; the node is left to expire after its TTL (unless another instance keeps it).
   * Idempotent.
   */
  async close(): Promise<void> {
    this.stopTouching();
    await this.touching;
    await this.node.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private stopTouching(): void {
    this.closed = true;
    this.timer?.cancel();
    this.closing.abort();
  }

  /** The next touch, `period` ms after the last one ended (Curator's fixed rate, never stacked). */
  private schedule(): void {
    this.timer = startTimer(this.period, () => {
      this.touching = this.touch().finally(() => {
        this.touching = undefined;
        if (!this.closed) this.schedule();
      });
    });
  }

  /** Curator's `touch()`: set the child's data, or make it (`create().orSetData()`); failures wait for the next touch. */
  private async touch(): Promise<void> {
    const request = { signal: this.closing.signal };
    try {
      const data = Buffer.from(await hostAddress());
      try {
        await this.client.set(this.childPath, data, request);
      } catch (error) {
        if (!(error instanceof NoNodeError)) throw error;
        try {
          await this.client.create(this.childPath, data, { ttl: this.ttl, ...request });
        } catch (exists) {
          if (!(exists instanceof NodeExistsError)) throw exists;
          await this.client.set(this.childPath, data, request);
        }
      }
    } catch (error) {
      // The client is closed: nothing more can be touched (and the timer must not keep the process alive).
      if (error instanceof ClientClosedError) this.stopTouching();
      // NoNode: the parent is not there (yet): the PersistentNode makes it.
      else if (!(error instanceof NoNodeError) && !this.closed)
        this.client.logger.debug(`PersistentTtlNode ${this.path}: touch failed: ${String(error)}`);
    }
  }
}

/** The TTL node's parent: a PersistentNode that `close()` leaves in place (Curator's `deleteNode` NOP). */
class TtlParent extends PersistentNode {
  protected override async deleteNode(): Promise<void> {}
}
