/**
 * The container's one client, and everything made from it, behind the module's bindings.
 *
 * Inversify caches a singleton's value, a rejected promise included: a client whose first start
 * failed (ZooKeeper not up yet at boot) would be that container's answer forever, and unbinding
 * would reject on it (issue 11, scenario 7). So the singleton is this slot, made synchronously and
 * never failing; it forgets a client whose start failed (the client closes itself then), and the
 * next resolution starts a new one — a service can retry its start.
 */
import { ZooKeeperClient, type ZooKeeperClientOptions } from '../client/client.js';
import { RecipeFactory } from './recipe-factory.js';

/** What the slot's owner does with each client: after it connected, before it is closed. */
export interface SlotHooks {
  /** Part of the start (e.g. register this process): a failure fails the start and closes the client. */
  started?(recipes: RecipeFactory): Promise<void>;
  /** Before the client is closed (e.g. unregister); a failure is logged. */
  closing?(recipes: RecipeFactory): Promise<void>;
}

interface Current {
  readonly client: ZooKeeperClient;
  /** Resolves once connected; rejects (and the slot forgets this client) if the start fails. */
  started: Promise<RecipeFactory>;
  readonly recipes: RecipeFactory;
  /** What bindings made from this client, by key: each is a singleton of its client. */
  readonly made: Map<string, unknown>;
  /** `started` resolved. */
  connected: boolean;
}

export class ClientSlot {
  private current: Current | undefined;

  /**
   * @param startTimeout How long a start may take, ms (`Infinity`: a background start, which
   *   only logs its failure since nobody awaits it).
   */
  constructor(
    private readonly options: ZooKeeperClientOptions,
    private readonly startTimeout: number | undefined,
    private readonly background: boolean,
    private readonly hooks: SlotHooks = {},
  ) {}

  /**
   * `make(recipes)` of the started client, made once per client: for `getAsync`. Once the client
   * is connected the value comes synchronously, so a plain `get` works too. The promise is marked
   * handled: a plain `get` throws on it and drops it (inversify's "Unexpected asynchronous
   * service"), and the start it began must not end the process with an unhandled rejection when it
   * fails; `getAsync` callers still see the rejection.
   */
  whenStarted<T>(key: string, make: (recipes: RecipeFactory) => T): T | Promise<T> {
    const current = this.client();
    if (current.connected) return made(current, key, make);
    const value = current.started.then(() => made(current, key, make));
    value.catch(() => {});
    return value;
  }

  /** `make(recipes)` of the client, which may still be connecting, made once per client: for a plain `get`. */
  now<T>(key: string, make: (recipes: RecipeFactory) => T): T {
    return made(this.client(), key, make);
  }

  /** Close the client, if any (a start in progress fails). */
  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current?.connected && this.hooks.closing)
      await this.hooks.closing(current.recipes).catch((error: unknown) => {
        current.client.logger.error(`closing the container's recipes failed: ${String(error)}`);
      });
    await current?.client.close();
  }

  private client(): Current {
    if (this.current) return this.current;
    const client = new ZooKeeperClient(this.options);
    const recipes = new RecipeFactory(client);
    const current: Current = {
      client,
      started: Promise.resolve(recipes),
      recipes,
      made: new Map(),
      connected: false,
    };
    const { started: hook } = this.hooks;
    const started = client.start({ timeout: this.startTimeout }).then(async () => {
      if (hook)
        await hook(recipes).catch(async (error: unknown) => {
          await client.close();
          throw error;
        });
      return recipes;
    });
    current.started = started;
    void started.then(
      () => (current.connected = true),
      () => {},
    );
    // Attached first, so whoever awaits the failed start finds the slot empty already.
    started.catch((error: unknown) => {
      if (this.current === current) this.current = undefined;
      if (this.background) client.logger.error(`ZooKeeper client failed to start: ${String(error)}`);
    });
    this.current = current;
    return current;
  }
}

function made<T>(current: Current, key: string, make: (recipes: RecipeFactory) => T): T {
  if (!current.made.has(key)) current.made.set(key, make(current.recipes));
  return current.made.get(key) as T;
}
