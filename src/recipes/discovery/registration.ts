/**
 * One instance registered by a ServiceDiscovery: the data it should hold (always the latest,
 * CURATOR-181), its node (OwnNode: created in this session, never an earlier session's
 * adopted), and one chain of steps so its writes never overlap (Curator's `synchronized(entry)`).
 * Not exported from the package.
 *
 * A step makes the node hold the latest data in the current session: settle an uncertain create
 * (`find`), then `set` the node we hold or create it (the service node and its missing parents
 * as containers, Curator's `creatingParentContainersIfNeeded`, so an emptied service goes away,
 * CURATOR-163). A node of our name we cannot prove ours — an earlier session's, another
 * process's — is deleted and created again, as Curator's `internalRegisterService` does. Once
 * `removed` is set no step writes again (CURATOR-164: an unregistered instance never comes back),
 * and the removal queued behind them deletes what they made.
 *
 * `watch` (Curator's `watchInstances`, `ServiceDiscoveryImpl.makeNodeCache`): a DataWatch on the
 * node takes a change someone else wrote into `instance`, so the next re-registration writes it.
 * It is applied as a step of the chain, and only when newer (`mzxid`) than our own last write, so
 * it never overtakes an update of ours. A deleted node is logged (as Curator does) and forgotten:
 * the next step — a reconnect's re-registration, a register or an update — creates it again.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { NoNodeError, NodeExistsError } from '../../client/errors.js';
import { untilSessionEnds, withinDeadline, type RetryLimits } from '../../client/retry.js';
import type { Stat } from '../../client/protocol/records.js';
import { requestLimits } from '../change-waiter.js';
import { OwnNode } from '../own-node.js';
import { DataWatch } from '../watchers/data-watch.js';
import type { InstanceSerializer } from './json-instance-serializer.js';
import type { ServiceInstance } from './service-instance.js';

/** How often one step deletes a node of our name that someone keeps re-creating, before it gives up. */
const MAX_TAKEOVERS = 5;

export class Registration<P> {
  /** The data the node should hold: the latest registered or updated. */
  instance: ServiceInstance<P>;
  /** Unregistered: no step writes again. */
  removed = false;
  private readonly node: OwnNode;
  /** The bytes our node holds, while known (reset whenever a create may have made it with others). */
  private written: Buffer | undefined;
  /** The zxid of our last write (create or set): a watched change at or before it is not news. */
  private writtenZxid: bigint | undefined;
  /** `watch`: the DataWatch on our node, and the path it watches (a sequential node's changes on re-creation). */
  private watching: { path: string; watch: DataWatch } | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ZooKeeperClient,
    readonly servicePath: string,
    instance: ServiceInstance<P>,
    private readonly serializer: InstanceSerializer<P>,
    /** The removal of the registration this one replaces (same id): nothing is written before it ends. */
    after: Promise<void> = Promise.resolve(),
    /** Take changes others write to our node into `instance` (Curator's `watchInstances`). */
    private readonly watch = false,
  ) {
    this.chain = after.catch(() => {});
    this.instance = instance;
    const { serviceType, id } = instance;
    this.node = new OwnNode(client, {
      parent: servicePath,
      prefix: id,
      sequential: serviceType === 'DYNAMIC_SEQUENTIAL',
      ephemeral: serviceType === 'DYNAMIC' || serviceType === 'DYNAMIC_SEQUENTIAL',
    });
  }

  /** The node's path while this session holds it (a persistent node: always once made). */
  get path(): string | undefined {
    return this.node.path;
  }

  /** Nothing to write: the node is ours in this session and holds the latest data. */
  get synced(): boolean {
    return (
      this.removed ||
      (this.node.name !== undefined &&
        !this.node.unsettled &&
        this.written?.equals(this.serializer.serialize(this.instance)) === true)
    );
  }

  /** Queue a step that writes the latest data (bounded by `limits`); resolves once it ran. */
  sync(limits: RetryLimits = {}): Promise<void> {
    return this.enqueue(() => withinDeadline(() => this.step(limits), limits));
  }

  /**
   * Stop writing and delete the node, after the steps queued before (retried until the node
   * or its session is gone; a persistent node's removal goes on in the next session).
   */
  remove(): Promise<void> {
    this.removed = true;
    const watch = this.watching?.watch;
    this.watching = undefined;
    return this.enqueue(async () => {
      await watch?.stop();
      await this.node.remove();
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => {}); // reported to the caller of this step
    return run;
  }

  private async step(limits: RetryLimits): Promise<void> {
    let takeovers = 0;
    for (;;) {
      if (this.removed) return;
      const request = requestLimits(limits);
      const bytes = this.serializer.serialize(this.instance);
      if (this.node.unsettled) await this.node.find(request);
      const path = this.node.path;
      if (path !== undefined) {
        if (this.written?.equals(bytes)) return this.watchNode();
        try {
          this.wrote(bytes, (await this.client.set(path, bytes, request)).mzxid);
          return this.watchNode();
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
          this.node.vanished(); // deleted by someone else: made again below
          continue;
        }
      }
      this.written = undefined;
      try {
        this.wrote(bytes, (await this.node.create(bytes, request)).stat.mzxid);
        return this.watchNode();
      } catch (error) {
        if (error instanceof NoNodeError) {
          await this.client.ensurePath(this.servicePath, { ...request, container: true });
        } else if (error instanceof NodeExistsError && ++takeovers <= MAX_TAKEOVERS) {
          await this.node.find(request); // deletes the node of our name that is not ours
        } else throw error;
      }
    }
  }

  private wrote(bytes: Buffer, zxid: bigint): void {
    this.written = bytes;
    this.writtenZxid = zxid;
  }

  /** `watch`: watch the node we hold (again, if re-created under another name). */
  private watchNode(): void {
    const path = this.node.path;
    if (!this.watch || this.removed || path === undefined || this.watching?.path === path) return;
    void this.watching?.watch.stop();
    const watch = new DataWatch(this.client, path, (data, stat) => {
      // In the chain: never between a step's serialize and its write.
      this.enqueue(() => this.adopt(path, data, stat)).catch((error: unknown) =>
        this.client.logger.warn(`watching ${path}: ${String(error)}`),
      );
    });
    this.watching = { path, watch };
  }

  /** A watched read of our node: take someone else's newer data; forget a deleted node. */
  private async adopt(path: string, data: Buffer | null, stat: Stat | null): Promise<void> {
    if (this.removed || this.node.path !== path) return;
    if (data === null || stat === null) {
      // The read may predate our re-creation: only a node still missing is gone.
      const stat = await untilSessionEnds(() => this.client.exists(path));
      if (stat !== null || this.node.path !== path) return; // there, or its session ended
      this.client.logger.warn(`instance data has been deleted for ${path}`);
      this.node.vanished();
      this.written = undefined;
      return;
    }
    if (this.writtenZxid !== undefined && stat.mzxid <= this.writtenZxid) return;
    let changed: ServiceInstance<P>;
    try {
      changed = this.serializer.deserialize(data);
    } catch (error) {
      this.client.logger.warn(`${path}: not an instance, not taken: ${String(error)}`);
      return;
    }
    const { id, name, serviceType } = this.instance;
    if (changed.id !== id || changed.name !== name || changed.serviceType !== serviceType) {
      this.client.logger.warn(`${path}: holds another id, name or service type, not taken`);
      return;
    }
    this.instance = changed;
    this.wrote(data, stat.mzxid);
  }
}
