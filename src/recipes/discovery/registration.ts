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
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { NoNodeError, NodeExistsError } from '../../client/errors.js';
import { withinDeadline, type RetryLimits } from '../../client/retry.js';
import { requestLimits } from '../change-waiter.js';
import { OwnNode } from '../own-node.js';
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
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ZooKeeperClient,
    readonly servicePath: string,
    instance: ServiceInstance<P>,
    private readonly serializer: InstanceSerializer<P>,
    /** The removal of the registration this one replaces (same id): nothing is written before it ends. */
    after: Promise<void> = Promise.resolve(),
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
    return this.enqueue(() => this.node.remove());
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
        if (this.written?.equals(bytes)) return;
        try {
          await this.client.set(path, bytes, request);
          this.written = bytes;
          return;
        } catch (error) {
          if (!(error instanceof NoNodeError)) throw error;
          this.node.vanished(); // deleted by someone else: made again below
          continue;
        }
      }
      this.written = undefined;
      try {
        await this.node.create(bytes, request);
        this.written = bytes;
        return;
      } catch (error) {
        if (error instanceof NoNodeError) {
          await this.client.ensurePath(this.servicePath, { ...request, container: true });
        } else if (error instanceof NodeExistsError && ++takeovers <= MAX_TAKEOVERS) {
          await this.node.find(request); // deletes the node of our name that is not ours
        } else throw error;
      }
    }
  }
}
