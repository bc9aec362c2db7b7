/**
 * The inversify wiring and the decorators (legacy mode, as inversify users compile them; the
 * TC39 mode is tested in test/tc39/).
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Container, inject, injectable, named } from 'inversify';
import {
  ConnectionState,
  Election,
  RecipeMismatchError,
  TimeoutError,
  ZooKeeperClient,
} from '../../src/index.js';
import {
  ElectionToken,
  Fleet,
  LeaderLifecycle,
  LockUnavailableError,
  NotLeaderError,
  RecipeFactory,
  Recipes,
  ZooKeeper,
  currentLock,
  leaderOnly,
  withLock,
  zookeeperModule,
} from '../../src/di/index.js';
import { FaultProxy, ZooKeeperServer } from '../../src/testing/index.js';
import { findFreePort } from '../../src/testing/free-port.js';
import { connect, newClient, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { eventually, within } from '../support/wait.js';

const server = await serverForFile();

@injectable()
class Ledger {
  inside = 0;
  maxInside = 0;
  calls = 0;

  constructor(@inject(ZooKeeper) readonly zk: ZooKeeperClient) {}

  @withLock((args) => `/di-locks/${String(args[0])}`, { timeout: 10_000 })
  async update(account: string, work: () => Promise<void>): Promise<string> {
    this.inside++;
    this.maxInside = Math.max(this.maxInside, this.inside);
    this.calls++;
    try {
      await work();
      const lock = currentLock();
      assert.ok(lock && !lock.signal.aborted && typeof lock.fencingToken === 'bigint');
      return `${account}:${lock.path}`;
    } finally {
      this.inside--;
    }
  }

  @withLock('/di-locks/failing')
  async fail(): Promise<void> {
    throw new Error('boom');
  }
}

@injectable()
class BillingService {
  constructor(
    @inject(ElectionToken) @named('billing') readonly election: Election,
    @inject(Recipes) readonly recipes: RecipeFactory,
  ) {}

  @leaderOnly('/di-services/billing/leader')
  async bill(): Promise<string> {
    return 'billed';
  }
}

/** Holds only an Election: `@leaderOnly` finds the client through it. */
@injectable()
class Scheduler {
  constructor(@inject(ElectionToken) @named('billing') readonly election: Election) {}

  @leaderOnly('/di-services/billing/leader')
  async plan(): Promise<string> {
    return 'planned';
  }
}

function newContainer(hosts: string, options: { startTimeout?: number } = {}): Container {
  const container = new Container();
  container.load(
    zookeeperModule({
      hosts,
      sessionTimeout: 4000,
      ...options,
      elections: { billing: '/di-services/billing/leader' },
    }),
  );
  container.bind(Ledger).toSelf().inSingletonScope();
  container.bind(BillingService).toSelf();
  container.bind(Scheduler).toSelf();
  return container;
}

describe('zookeeperModule', () => {
  test('binds one started client per container, a factory on it, and named elections; unbinding closes the client', async () => {
    const container = newContainer(server.connectString);
    const [a, b] = await Promise.all([container.getAsync(ZooKeeper), container.getAsync(ZooKeeper)]);
    assert.equal(a, b);
    assert.equal(container.get(ZooKeeper), a, 'once connected, a plain get works too');
    assert.equal(a.state, ConnectionState.CONNECTED);
    const recipes = await container.getAsync(Recipes);
    assert.equal(recipes.client, a);
    const billing = await container.getAsync(BillingService);
    assert.ok(billing.election instanceof Election);
    assert.equal(billing.election.path, '/di-services/billing/leader');
    assert.equal(billing.election.client, a);
    const other = newContainer(server.connectString);
    assert.notEqual(await other.getAsync(ZooKeeper), a, 'each container has its own client');
    await container.unbindAllAsync();
    await other.unbindAllAsync();
    assert.equal(a.closed, true);
    assert.equal(a.state, ConnectionState.LOST);
  });

  test('works without decorators: plain container.get with awaitStart: false, and a user logger', async () => {
    const container = new Container();
    const messages: string[] = [];
    const { default: winston } = await import('winston');
    const logger = winston.createLogger({
      level: 'debug',
      transports: [new winston.transports.Console({ silent: true })],
    });
    logger.on('data', (info: { message: string }) => messages.push(info.message));
    container.load(zookeeperModule({ hosts: server.connectString, awaitStart: false, logger }));
    const zk = container.get(ZooKeeper);
    const recipes = container.get(Recipes);
    assert.equal(recipes.client, zk);
    const path = uniqueRoot('plain');
    assert.equal(await zk.create(path, 'x'), path, 'requests made before the connection is up wait for it');
    assert.ok(
      messages.some((m) => m.includes('connected to')),
      'the user logger received the client log',
    );
    await container.unbindAllAsync();
    assert.equal(zk.closed, true);
  });

  test('a plain get of a client still connecting says to use getAsync, and the start it began never rejects unhandled', async (t) => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    t.after(() => process.off('unhandledRejection', record));
    const port = await findFreePort();
    const container = newContainer(`127.0.0.1:${port}`, { startTimeout: 300 });
    assert.throws(() => container.get(ZooKeeper), /resolve it with await container\.getAsync\(\)/);
    // getAsync joins the start the plain get began, and sees it fail.
    await assert.rejects(container.getAsync(ZooKeeper), TimeoutError);
    await new Promise((resolve) => setImmediate(resolve)); // unhandled rejections are reported once microtasks drain
    assert.deepEqual(unhandled, []);
    await container.unbindAllAsync();
  });

  test('scenario 7: a failed first start is not cached — once ZooKeeper is up, getAsync starts a new client, and unbinding resolves', async () => {
    // Nothing listens on this port yet (outside the ephemeral range, so it stays free for the server).
    const port = await findFreePort();
    const container = newContainer(`127.0.0.1:${port}`, { startTimeout: 1_000 });
    await assert.rejects(container.getAsync(ZooKeeper), 'no server: the start fails');
    await assert.rejects(container.getAsync(BillingService), 'nor can anything built on the client start');
    const givenUp = newContainer(`127.0.0.1:${port}`, { startTimeout: 1_000 });
    await assert.rejects(givenUp.getAsync(Recipes));
    await givenUp.unbindAllAsync(); // a container whose client never started unbinds cleanly

    await using late = await ZooKeeperServer.start({ port });
    const zk = await container.getAsync(ZooKeeper);
    assert.equal(zk.state, ConnectionState.CONNECTED);
    assert.equal(await container.getAsync(ZooKeeper), zk, 'one client per container again');
    assert.equal((await container.getAsync(Recipes)).client, zk);
    assert.equal((await container.getAsync(BillingService)).election.client, zk);
    await container.unbindAllAsync();
    assert.equal(zk.closed, true);
    await late.close();
  });
});

describe('@withLock (legacy decorators)', () => {
  test('serializes calls across two containers, passes the lock, releases on throw', async () => {
    const first = newContainer(server.connectString);
    const second = newContainer(server.connectString);
    try {
      const [one, two] = [await first.getAsync(Ledger), await second.getAsync(Ledger)];
      let inside = 0;
      let overlap = false;
      const work = async () => {
        inside++;
        if (inside > 1) overlap = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
        inside--;
      };
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).update('acct', work)),
      );
      assert.equal(overlap, false, 'two holders overlapped');
      assert.deepEqual(new Set(results), new Set(['acct:/di-locks/acct']));
      await assert.rejects(one.fail(), /boom/);
      const zk = await first.getAsync(ZooKeeper);
      assert.deepEqual(await zk.getChildren('/di-locks/failing'), [], 'released after the throw');
      assert.deepEqual(await zk.getChildren('/di-locks/acct'), []);
    } finally {
      await first.unbindAllAsync();
      await second.unbindAllAsync();
    }
  });

  test('rejects with LockUnavailableError on timeout and leaves no node', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('busy');
    const holder = await withLock(zk, path, async () => {
      await assert.rejects(
        withLock(zk, path, async () => 'never', { timeout: 200 }),
        LockUnavailableError,
      );
      return (await zk.getChildren(path)).length;
    });
    assert.equal(holder, 1, 'only the holder node existed after the timed-out attempt');
  });

  test('the lock signal fires on SUSPENDED', async (t) => {
    const proxy = await FaultProxy.start(server.connectString);
    t.after(() => proxy.close());
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 6000 });
    const fired = await withLock(zk, uniqueRoot('suspend'), async ({ signal }) => {
      assert.equal(signal.aborted, false);
      const aborted = new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      proxy.drop();
      await within(aborted, 'aborted');
      await nextState(zk, ConnectionState.CONNECTED);
      return signal.aborted;
    });
    assert.equal(fired, true);
  });
});

describe('withLock: naming and extraLockPatterns for every kind', () => {
  const PROTECTED = '_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-';

  @injectable()
  class Catalog {
    constructor(@inject(ZooKeeper) readonly zk: ZooKeeperClient) {}

    @withLock((args: [string]) => args[0], { kind: 'read', naming: 'curator' })
    async read(path: string): Promise<string[]> {
      return this.zk.getChildren(path);
    }

    @withLock((args: [string]) => args[0], { kind: 'write', naming: 'curator' })
    async write(path: string): Promise<string[]> {
      return this.zk.getChildren(path);
    }

    @withLock((args: [string]) => args[0], { kind: 'semaphore', naming: 'curator', maxLeases: 2 })
    async export(path: string): Promise<string[]> {
      return this.zk.getChildren(`${path}/leases`);
    }
  }

  test("the decorator takes Curator's layout for read, write and semaphore", async () => {
    const container = newContainer(server.connectString);
    try {
      container.bind(Catalog).toSelf();
      const catalog = await container.getAsync(Catalog);
      const path = uniqueRoot('di-curator');
      const [reader] = await catalog.read(path);
      assert.match(reader!, new RegExp(`^${PROTECTED}__READ__\\d{10}$`));
      const [writer] = await catalog.write(path);
      assert.match(writer!, new RegExp(`^${PROTECTED}__WRIT__\\d{10}$`));
      const [lease] = await catalog.export(`${path}-sem`);
      assert.match(lease!, new RegExp(`^${PROTECTED}lease-\\d{10}$`));
      assert.deepEqual(await catalog.zk.getChildren(path), [], 'released');
    } finally {
      await container.unbindAllAsync();
    }
  });

  test('the plain form: a kazoo-layout writer and a Curator-layout writer on one path refuse to share it; extraLockPatterns reach read locks', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('di-mixed');
    await withLock(
      zk,
      path,
      async () => {
        await assert.rejects(
          withLock(zk, path, async () => 'never', { kind: 'write', timeout: 2_000 }),
          RecipeMismatchError,
        );
        // A reader that honours `-lock-` waits for the Curator-named mutex holder.
        await assert.rejects(
          withLock(zk, path, async () => 'never', {
            kind: 'read',
            extraLockPatterns: ['-lock-'],
            timeout: 200,
          }),
          LockUnavailableError,
        );
      },
      { naming: 'curator' },
    );
    const nodes = await withLock(zk, path, async () => zk.getChildren(path), {
      kind: 'write',
      naming: 'curator',
    });
    assert.match(nodes[0]!, new RegExp(`^${PROTECTED}__WRIT__\\d{10}$`));
  });
});

describe('leader lifecycle', () => {
  test('one leader at a time; @leaderOnly runs only there; leadership moves when the leader stops', async () => {
    const containers = [newContainer(server.connectString), newContainer(server.connectString)];
    try {
      const services = await Promise.all(containers.map((c) => c.getAsync(BillingService)));
      const elected: number[] = [];
      const lifecycles = services.map(
        (service, i) =>
          new LeaderLifecycle(service.election, {
            onElected: () => void elected.push(i),
          }),
      );
      lifecycles.forEach((l) => l.start());
      await eventually(() => lifecycles.some((l) => l.isLeader), 'lifecycles.some((l) => l.isLeader)');
      const leader = lifecycles.findIndex((l) => l.isLeader);
      const follower = 1 - leader;
      assert.equal(lifecycles[follower]!.isLeader, false);
      assert.equal(await services[leader]!.bill(), 'billed');
      await assert.rejects(services[follower]!.bill(), NotLeaderError);
      await lifecycles[leader]!.stop();
      await eventually(() => lifecycles[follower]!.isLeader, 'lifecycles[follower]!.isLeader');
      assert.equal(await services[follower]!.bill(), 'billed');
      await assert.rejects(services[leader]!.bill(), NotLeaderError);
      assert.deepEqual(elected, [leader, follower]);
      await lifecycles[follower]!.stop();
    } finally {
      await Promise.all(containers.map((c) => c.unbindAllAsync()));
    }
  });
});

describe('lifecycles that end', () => {
  test('@leaderOnly on a service that holds only an Election finds the client through it', async () => {
    const container = newContainer(server.connectString);
    try {
      const scheduler = await container.getAsync(Scheduler);
      await assert.rejects(scheduler.plan(), NotLeaderError);
      const lifecycle = new LeaderLifecycle(scheduler.election, { onElected: () => {} });
      lifecycle.start();
      await eventually(() => lifecycle.isLeader, 'lifecycle.isLeader');
      assert.equal(await scheduler.plan(), 'planned');
      await lifecycle.stop();
    } finally {
      await container.unbindAllAsync();
    }
  });

  test('a LeaderLifecycle ends its campaign when its client is closed, calling onDeposed', async () => {
    const container = newContainer(server.connectString);
    const scheduler = await container.getAsync(Scheduler);
    let deposed = 0;
    const lifecycle = new LeaderLifecycle(scheduler.election, {
      onElected: () => {},
      onDeposed: () => void deposed++,
    });
    lifecycle.start();
    await eventually(() => lifecycle.isLeader, 'lifecycle.isLeader');
    await container.unbindAllAsync(); // closes the client; stop() is never called
    await within(lifecycle.finished, 'the campaign ended');
    assert.equal(lifecycle.isLeader, false);
    assert.equal(deposed, 1);
  });

  describe('Fleet.run returns', () => {
    /** A one-member fleet working on two items; resolves once both items' work started. */
    async function running(zk: ZooKeeperClient, options: { signal?: AbortSignal } = {}) {
      const fleet = new Fleet(zk, uniqueRoot('fleet'), ['a', 'b'], { identifier: 'only', timeBoundary: 100 });
      const started = new Set<string>();
      let settled = 0;
      const run = fleet.run(async (item, signal) => {
        started.add(item);
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        settled++;
      }, options);
      await eventually(() => started.size === 2, 'started.size === 2');
      return { fleet, run, workSettled: () => settled };
    }

    test('on stop()', async (t) => {
      const { fleet, run, workSettled } = await running(await connect(t, server));
      await fleet.stop();
      await within(run, 'run returned');
      assert.equal(workSettled(), 2);
    });

    test('when its signal aborts', async (t) => {
      const shutdown = new AbortController();
      const { run, workSettled } = await running(await connect(t, server), { signal: shutdown.signal });
      shutdown.abort();
      await within(run, 'run returned');
      assert.equal(workSettled(), 2);
    });

    test('when its client is closed', async (t) => {
      const zk = newClient(t, server);
      await zk.start();
      const { run, workSettled } = await running(zk);
      await zk.close();
      await within(run, 'run returned');
      assert.equal(workSettled(), 2);
    });
  });
});
