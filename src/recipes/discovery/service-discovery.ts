/**
 * ServiceDiscovery: curator-x-discovery's `ServiceDiscoveryImpl` — register this process's
 * service instances and query everyone's, in Curator's layout and bytes.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { InvalidArgumentError, NoNodeError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { settledWithin, withinDeadline, type RetryLimits } from '../../client/retry.js';
import { ConnectionState } from '../../client/states.js';
import { deadlineOf, requestLimits } from '../change-waiter.js';
import { RecipeMismatchError, RecipeStateError } from '../errors.js';
import { JsonInstanceSerializer, type InstanceSerializer } from './json-instance-serializer.js';
import { Registration } from './registration.js';
import {
  serviceInstance,
  type JsonValue,
  type ServiceInstance,
  type ServiceInstanceInput,
} from './service-instance.js';

/**
 * Options of `new ServiceDiscovery(...)`: Curator's `ServiceDiscoveryBuilder` settings.
 *
 * @example
 *   new ServiceDiscovery(zk, { basePath: '/services', thisInstance: { name: 'billing', port: 8080 } });
 */
export interface ServiceDiscoveryOptions<P = JsonValue> {
  /** Where the services live: `<basePath>/<name>/<id>`. */
  basePath: string;
  /** Default: `new JsonInstanceSerializer()` (Curator's default bytes). */
  serializer?: InstanceSerializer<P>;
  /** An instance `start()` registers (Curator's `thisInstance`). */
  thisInstance?: ServiceInstanceInput<P>;
  /**
   * Watch the nodes of the instances this discovery registers and take a change someone else
   * writes to one into the local copy (`registeredInstances()`), so a re-registration after a
   * session loss writes that data (Curator's `ServiceDiscoveryBuilder.watchInstances(true)`).
   * A node someone deletes is logged and created again by the next re-registration, register or
   * update. Default false.
   *
   * @example
   *   new ServiceDiscovery(zk, { basePath: '/services', watchInstances: true });
   */
  watchInstances?: boolean;
}

/**
 * Limits of one call: a timeout in ms and an abort signal.
 *
 * @example
 *   await discovery.registerService({ name: 'api', port: 8080 }, { timeout: 10_000 });
 */
export interface DiscoveryCallOptions {
  /** Give up after this many ms (`TimeoutError`). Default: none. */
  timeout?: number;
  signal?: AbortSignal;
}

/** What a discovery closes along with itself: its caches and providers. */
interface Closeable {
  close(): Promise<void>;
}

/**
 * Register service instances and find them, byte-compatible with curator-x-discovery 5.4: an
 * instance is the node `<basePath>/<name>/<id>` holding Curator's JSON (`JsonInstanceSerializer`);
 * its node is ephemeral for DYNAMIC, ephemeral sequential for DYNAMIC_SEQUENTIAL, persistent for
 * STATIC and PERMANENT; the service node and missing parents are containers, so the server
 * removes a service once its last instance is gone.
 *
 * Re-registration (Curator re-registers on every reconnect): an ephemeral instance goes with its
 * session, so after LOST, on the next CONNECTED, every instance this discovery registered is
 * created again in the new session — with its latest data (Curator re-registered the data of the
 * first registration after an update, CURATOR-181), never an instance unregistered meanwhile
 * (CURATOR-164), and never by adopting a node an earlier session made (a create whose reply was
 * lost is settled by looking, DESIGN.md "Recipe node lifecycle"). A reconnect within the session
 * writes nothing. A node of the same name this session cannot prove its own is deleted and made
 * again, as Curator does.
 *
 * `watchInstances: true` (Curator's): changes others write to our instances' nodes are taken
 * into our copy, which re-registration then writes (see the option).
 *
 * SUSPENDED: nothing is written; calls wait for the connection; with `watchInstances`, a change
 * made meanwhile is taken after the reconnect (the latest one). LOST: the ephemeral instances
 * are gone (others no longer find them) until the next session re-creates them, with any change
 * taken before the loss.
 *
 * `close()` (or `await using`) closes the caches and providers made from it and unregisters every
 * instance it registered (persistent ones too, as Curator's `close()`).
 *
 * @example
 *   await using discovery = new ServiceDiscovery(zk, { basePath: '/services' });
 *   const me = await discovery.registerService({ name: 'billing', address: '10.0.0.5', port: 8080, payload: { zone: 'eu-1' } });
 *   const all = await discovery.queryForInstances('billing');
 *   await discovery.unregisterService(me);
 */
export class ServiceDiscovery<P = JsonValue> implements AsyncDisposable {
  readonly basePath: string;
  readonly serializer: InstanceSerializer<P>;
  private readonly registrations = new Map<string, Registration<P>>();
  private readonly dependents = new Set<Closeable>();
  private readonly thisInstance: ServiceInstanceInput<P> | undefined;
  private readonly watchInstances: boolean;
  private closing: Promise<void> | undefined;

  private readonly onState = (state: ConnectionState) => {
    if (state !== ConnectionState.CONNECTED) return;
    for (const registration of this.registrations.values()) {
      if (registration.synced) continue;
      registration.sync().catch((error: unknown) => {
        this.client.logger.error(
          `re-registering ${registration.servicePath}/${registration.instance.id} failed: ${String(error)}`,
        );
      });
    }
  };

  constructor(
    readonly client: ZooKeeperClient,
    options: ServiceDiscoveryOptions<P>,
  ) {
    if (typeof options !== 'object' || options === null)
      throw new InvalidArgumentError('ServiceDiscovery needs options { basePath }', {
        op: 'ServiceDiscovery',
      });
    validatePath(options.basePath, 'ServiceDiscovery');
    this.basePath = options.basePath;
    this.serializer = options.serializer ?? (new JsonInstanceSerializer() as InstanceSerializer<P>);
    this.thisInstance = options.thisInstance;
    if (options.watchInstances !== undefined && typeof options.watchInstances !== 'boolean')
      throw new InvalidArgumentError('watchInstances must be a boolean', { op: 'ServiceDiscovery' });
    this.watchInstances = options.watchInstances ?? false;
    client.on('state', this.onState);
  }

  /** Start: registers `thisInstance`, if given (Curator's `start()`). Resolves once it is registered. */
  async start(options: DiscoveryCallOptions = {}): Promise<void> {
    this.checkOpen('start');
    if (this.thisInstance !== undefined) await this.registerService(this.thisInstance, options);
  }

  /** `<basePath>/<name>`. */
  pathForName(name: string): string {
    return joinPath(this.basePath, name);
  }

  /**
   * Register an instance (or register it again with new data): resolves with the instance as
   * written (Curator's builder defaults filled in: a UUID id, this host's address, now; the
   * payload's class) once its
   * node holds it. Re-registered after a session loss until unregistered. A changed `name` or
   * `serviceType` for a registered id replaces the old node. If the call fails (timeout, abort)
   * an instance that was not registered before is not registered: what it may have made is removed.
   * `InvalidArgumentError` for an instance Curator's JSON cannot hold.
   */
  async registerService(
    input: ServiceInstanceInput<P> | ServiceInstance<P>,
    options: DiscoveryCallOptions = {},
  ): Promise<ServiceInstance<P>> {
    this.checkOpen('registerService');
    const instance = this.written(serviceInstance(input));
    const limits = this.limits(options, 'registerService');
    const old = this.registrations.get(instance.id);
    let registration = old;
    const fresh =
      old === undefined ||
      old.instance.name !== instance.name ||
      old.instance.serviceType !== instance.serviceType;
    if (fresh) {
      const replaced = old === undefined ? undefined : this.drop(old);
      registration = new Registration(
        this.client,
        this.pathForName(instance.name),
        instance,
        this.serializer,
        replaced,
        this.watchInstances,
      );
      this.registrations.set(instance.id, registration);
    } else registration!.instance = instance;
    try {
      await registration!.sync(limits);
    } catch (error) {
      if (fresh && this.registrations.get(instance.id) === registration) void this.drop(registration!);
      throw error;
    }
    return instance;
  }

  /**
   * Write new data for a registered instance (same id, name and service type): resolves once its
   * node holds it. Also the data re-registration writes from now on (CURATOR-181).
   * `InvalidArgumentError` for an instance this discovery did not register, or a changed name
   * or service type (register it again instead).
   */
  async updateService(
    instance: ServiceInstance<P>,
    options: DiscoveryCallOptions = {},
  ): Promise<ServiceInstance<P>> {
    this.checkOpen('updateService');
    const updated = this.written(serviceInstance(instance));
    const registration = this.registrations.get(updated.id);
    if (registration === undefined)
      throw new InvalidArgumentError(`service not registered: ${updated.name}/${updated.id}`, {
        op: 'updateService',
      });
    if (
      registration.instance.name !== updated.name ||
      registration.instance.serviceType !== updated.serviceType
    )
      throw new InvalidArgumentError('an update cannot change the name or service type: register it again', {
        op: 'updateService',
      });
    const limits = this.limits(options, 'updateService');
    registration.instance = updated;
    await registration.sync(limits);
    return updated;
  }

  /**
   * Unregister an instance this discovery registered (by `id`): it is never re-registered
   * again, and its node is deleted (retried through connection loss; an ephemeral one also goes
   * with its session). Resolves once deleted; with `timeout`/`signal` it may answer earlier
   * while the deletion goes on. An unknown id is ignored (Curator).
   */
  async unregisterService(instance: { id: string }, options: DiscoveryCallOptions = {}): Promise<void> {
    const registration = this.registrations.get(instance.id);
    if (registration === undefined) return;
    const limits = this.limits(options, 'unregisterService');
    const removal = this.drop(registration);
    await Promise.race([removal, settledWithin(removal, limits)]);
  }

  /** The instances this discovery has registered (their latest data). */
  registeredInstances(): ServiceInstance<P>[] {
    return [...this.registrations.values()].map((registration) => registration.instance);
  }

  /** The names of all services (Curator's `queryForNames`); `[]` when `basePath` does not exist. */
  async queryForNames(options: DiscoveryCallOptions = {}): Promise<string[]> {
    const limits = this.limits(options, 'queryForNames');
    try {
      return (
        await withinDeadline(() => this.client.getChildren(this.basePath, requestLimits(limits)), limits)
      ).sort();
    } catch (error) {
      if (error instanceof NoNodeError) return [];
      throw error;
    }
  }

  /**
   * Every instance of a service, sorted by node name (Curator's `queryForInstances`); a node
   * whose data is not an instance is left out (and logged).
   */
  async queryForInstances(name: string, options: DiscoveryCallOptions = {}): Promise<ServiceInstance<P>[]> {
    const limits = this.limits(options, 'queryForInstances');
    const path = this.pathForName(name);
    return withinDeadline(async () => {
      let ids: string[];
      try {
        ids = await this.client.getChildren(path, requestLimits(limits));
      } catch (error) {
        if (error instanceof NoNodeError) return [];
        throw error;
      }
      const found = await Promise.all(ids.sort().map((id) => this.read(joinPath(path, id), limits)));
      return found.filter((instance) => instance !== undefined);
    }, limits);
  }

  /** One instance by service name and node name (Curator's `queryForInstance`), or undefined. */
  async queryForInstance(
    name: string,
    id: string,
    options: DiscoveryCallOptions = {},
  ): Promise<ServiceInstance<P> | undefined> {
    const limits = this.limits(options, 'queryForInstance');
    return withinDeadline(() => this.read(joinPath(this.pathForName(name), id), limits), limits);
  }

  /**
   * The instance as its node will hold it: serialized and read back (the payload's class filled
   * in), so what `registerService` answers equals what a query finds. A payload the serializer
   * cannot write fails here, not in a later step.
   */
  private written(instance: ServiceInstance<P>): ServiceInstance<P> {
    return this.serializer.deserialize(this.serializer.serialize(instance));
  }

  /** Decode a node's data; undefined when it is gone or not an instance (logged). */
  decode(path: string, data: Buffer): ServiceInstance<P> | undefined {
    try {
      return this.serializer.deserialize(data);
    } catch (error) {
      if (!(error instanceof RecipeMismatchError)) throw error;
      this.client.logger.warn(`${path}: ${error.message}`);
      return undefined;
    }
  }

  private async read(path: string, limits: RetryLimits): Promise<ServiceInstance<P> | undefined> {
    try {
      return this.decode(path, (await this.client.get(path, requestLimits(limits))).data);
    } catch (error) {
      if (error instanceof NoNodeError) return undefined;
      throw error;
    }
  }

  /** A cache or provider made from this discovery: closed with it. Returns the function that forgets it. */
  adopt(dependent: Closeable): () => void {
    this.checkOpen('adopt');
    this.dependents.add(dependent);
    return () => this.dependents.delete(dependent);
  }

  /**
   * Close the caches and providers made from it, unregister every instance it registered and
   * stop re-registering. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async closeNow(): Promise<void> {
    this.client.off('state', this.onState);
    const dependents = [...this.dependents];
    this.dependents.clear();
    const registrations = [...this.registrations.values()];
    const results = await Promise.allSettled([
      ...dependents.map((dependent) => dependent.close()),
      ...registrations.map((registration) => this.drop(registration)),
    ]);
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Forget a registration (never written again) and delete its node; resolves once deleted. */
  private drop(registration: Registration<P>): Promise<void> {
    if (this.registrations.get(registration.instance.id) === registration)
      this.registrations.delete(registration.instance.id);
    const removal = registration.remove();
    removal.catch((error: unknown) => {
      this.client.logger.error(
        `unregistering ${registration.servicePath}/${registration.instance.id} failed: ${String(error)}`,
      );
    });
    return removal;
  }

  private limits(options: DiscoveryCallOptions, op: string): RetryLimits {
    return { deadline: deadlineOf(options.timeout, { op }), signal: options.signal };
  }

  private checkOpen(op: string): void {
    if (this.closing)
      throw new RecipeStateError('the ServiceDiscovery is closed', { op, path: this.basePath });
  }
}
