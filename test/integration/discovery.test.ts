/**
 * Service discovery (curator-x-discovery's layout and bytes) against a real server: register,
 * query, update, unregister; the cache follows changes; the provider's strategies and
 * down-instance policy; re-registration after a real session expiry and after a lost create
 * reply (never adopting an earlier session's node); Curator's three re-registration bugs as
 * regression tests (CURATOR-181, -164, -163); `watchInstances` (others' changes to our
 * instances taken and re-registered); SUSPENDED and LOST.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  ConnectionState,
  InvalidArgumentError,
  JsonInstanceSerializer,
  RecipeStateError,
  ServiceCache,
  ServiceDiscovery,
  ServiceProvider,
  type ServiceCacheChange,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { loseReplyAcrossSessions } from '../support/recipes.js';
import { testRandom } from '../support/random.js';
import { eventually, grace, safety, within } from '../support/wait.js';

// The container reaper runs every second (default: every minute).
const server = await serverForFile({ javaOptions: ['-Dznode.container.checkIntervalMs=1000'] });

async function setup(
  t: TestContext,
  options: { proxy?: boolean; sessionTimeout?: number; watchInstances?: boolean } = {},
) {
  const basePath = `${uniqueRoot('discovery')}/services`;
  const admin = await connect(t, server);
  const proxy = options.proxy ? await FaultProxy.start(server.connectString) : undefined;
  if (proxy) t.after(() => proxy.close());
  const zk = await connect(t, proxy?.connectString ?? server, {
    sessionTimeout: options.sessionTimeout ?? 10_000,
  });
  const discovery = new ServiceDiscovery(zk, { basePath, watchInstances: options.watchInstances });
  t.after(() => discovery.close());
  const json = async (path: string) =>
    JSON.parse((await admin.get(path)).data.toString('utf8')) as Record<string, unknown>;
  return { basePath, admin, proxy, zk, discovery, json };
}

/** Resolves on the next LOST and then CONNECTED of `zk` after its session was expired on the server. */
async function expire(zk: ZooKeeperClient): Promise<void> {
  const lost = nextState(zk, ConnectionState.LOST, safety(30_000));
  const connected = lost.then(() => nextState(zk, ConnectionState.CONNECTED, safety(30_000)));
  await server.expireSession({ sessionId: zk.sessionId, sessionPassword: zk.sessionPassword });
  await connected;
}

describe('ServiceDiscovery', () => {
  test("registers in Curator's layout: ephemeral instance (parents: containers, see CURATOR-163 below); query, update, unregister", async (t) => {
    const { basePath, admin, zk, discovery, json } = await setup(t);
    const me = await discovery.registerService({
      name: 'billing',
      id: 'b-1',
      address: '10.0.0.5',
      port: 8080,
      payload: { zone: 'eu-1' },
    });
    const path = `${basePath}/billing/b-1`;
    assert.equal((await admin.exists(path))?.ephemeralOwner, zk.sessionId);
    assert.deepEqual(await json(path), {
      name: 'billing',
      id: 'b-1',
      address: '10.0.0.5',
      port: 8080,
      sslPort: null,
      payload: { '@class': 'java.util.LinkedHashMap', zone: 'eu-1' },
      registrationTimeUTC: me.registrationTimeUTC,
      serviceType: 'DYNAMIC',
      uriSpec: null,
    });
    await discovery.registerService({ name: 'billing', id: 'b-10', port: 8081 }); // a longer id with b-1's as prefix
    const other = await discovery.registerService({ name: 'reports', port: 9000 });
    assert.match(other.id, /^[0-9a-f-]{36}$/, 'the id defaults to a UUID');
    assert.deepEqual(await discovery.queryForNames(), ['billing', 'reports']);
    assert.deepEqual(
      (await discovery.queryForInstances('billing')).map((i) => i.id),
      ['b-1', 'b-10'],
    );
    assert.deepEqual(await discovery.queryForInstance('billing', 'b-1'), me);
    assert.equal(await discovery.queryForInstance('billing', 'nope'), undefined);
    assert.deepEqual(await discovery.queryForInstances('nothing'), []);

    const updated = await discovery.updateService({ ...me, port: 9090, payload: { zone: 'eu-2' } });
    assert.equal((await json(path))['port'], 9090);
    assert.deepEqual(await discovery.queryForInstance('billing', 'b-1'), updated);
    await assert.rejects(discovery.updateService({ ...me, id: 'unknown' }), InvalidArgumentError);
    await assert.rejects(discovery.updateService({ ...me, serviceType: 'STATIC' }), InvalidArgumentError);

    await discovery.unregisterService(me);
    assert.equal(await admin.exists(path), null);
    assert.deepEqual(
      (await discovery.queryForInstances('billing')).map((i) => i.id),
      ['b-10'],
      "b-10 is not b-1's",
    );
    await discovery.unregisterService(me); // again: ignored
  });

  test('STATIC is persistent, DYNAMIC_SEQUENTIAL ephemeral sequential; close() unregisters everything', async (t) => {
    const { basePath, admin, zk, discovery } = await setup(t);
    await discovery.registerService({ name: 'db', id: 'static-1', serviceType: 'STATIC' });
    const sequential = await discovery.registerService({
      name: 'db',
      id: 'seq-',
      serviceType: 'DYNAMIC_SEQUENTIAL',
    });
    assert.equal((await admin.exists(`${basePath}/db/static-1`))?.ephemeralOwner, 0n);
    const children = await admin.getChildren(`${basePath}/db`);
    const seqNode = children.find((c) => c.startsWith('seq-'));
    assert.match(seqNode ?? '', /^seq-\d{10}$/);
    assert.equal((await admin.exists(`${basePath}/db/${seqNode}`))?.ephemeralOwner, zk.sessionId);
    await discovery.updateService({ ...sequential, port: 1 });
    assert.equal(JSON.parse((await admin.get(`${basePath}/db/${seqNode}`)).data.toString())['port'], 1);
    await discovery.close();
    assert.deepEqual(await admin.getChildren(`${basePath}/db`).catch(() => []), []);
    await assert.rejects(discovery.registerService({ name: 'db' }), RecipeStateError);
  });

  test('a node of our id that is not ours (another process made it) is replaced, as Curator does', async (t) => {
    const { basePath, admin, zk, discovery, json } = await setup(t);
    await admin.create(`${basePath}/api/dup`, 'stale', { makePath: true, ephemeral: true });
    await discovery.registerService({ name: 'api', id: 'dup', port: 1 });
    assert.equal((await admin.exists(`${basePath}/api/dup`))?.ephemeralOwner, zk.sessionId);
    assert.equal((await json(`${basePath}/api/dup`))['port'], 1);
  });
});

describe('ServiceCache', () => {
  test('follows registrations, updates and removals; iterating yields the changes', async (t) => {
    const { admin, discovery } = await setup(t);
    const a = await discovery.registerService({ name: 'api', id: 'a', port: 1 });
    const cache = new ServiceCache(discovery, 'api');
    t.after(() => cache.close());
    await cache.start();
    assert.deepEqual(cache.getInstances(), [a]);
    const changes: ServiceCacheChange[] = [];
    const iterating = (async () => {
      for await (const change of cache) {
        changes.push(change);
        if (changes.length === 3) break;
      }
    })();
    await grace(50);
    const b = await discovery.registerService({ name: 'api', id: 'b', port: 2 });
    await eventually(() => cache.getInstances().length === 2, 'b is cached');
    const a2 = await discovery.updateService({ ...a, port: 3 });
    await eventually(() => cache.getInstances()[0]?.port === 3, 'the update is cached');
    await discovery.unregisterService(b);
    await within(iterating, 'three changes');
    assert.deepEqual(changes, [
      { type: 'added', instance: b },
      { type: 'updated', instance: a2 },
      { type: 'removed', instance: b },
    ]);
    await eventually(() => cache.getInstances().length === 1, 'b is gone');
    assert.equal((await admin.getChildren(discovery.pathForName('api'))).length, 1);
  });

  test('CURATOR-163: an emptied service node (and base path) is removed by the server (containers), and the cache follows it coming back', async (t) => {
    const { admin, discovery } = await setup(t);
    const service = discovery.pathForName('api');
    const cache = new ServiceCache(discovery, 'api');
    t.after(() => cache.close());
    await cache.start(); // nothing there yet: it creates nothing
    assert.equal(await admin.exists(service), null);
    const a = await discovery.registerService({ name: 'api', id: 'a' });
    await eventually(() => cache.getInstances().length === 1, 'a is cached');
    await discovery.unregisterService(a);
    await eventually(
      async () => (await admin.exists(service)) === null,
      'the reaper removes the empty service node',
      safety(20_000),
    );
    await discovery.registerService({ name: 'api', id: 'b' });
    await eventually(() => cache.getInstances()[0]?.id === 'b', 'the cache follows the new service node');
  });
});

describe('ServiceProvider', () => {
  test('roundRobin cycles, random (seeded) spreads, sticky keeps its pick until it goes', async (t) => {
    const { discovery } = await setup(t);
    for (const id of ['a', 'b', 'c']) await discovery.registerService({ name: 'api', id });
    const provider = (options: ConstructorParameters<typeof ServiceProvider>[2]) => {
      const made = new ServiceProvider(discovery, 'api', options);
      t.after(() => made.close());
      return made;
    };
    const roundRobin = provider({ strategy: 'roundRobin' });
    await roundRobin.start();
    assert.deepEqual(
      [1, 2, 3, 4].map(() => roundRobin.getInstance()?.id),
      ['a', 'b', 'c', 'a'],
    );
    const random = provider({ strategy: 'random', random: testRandom(t) });
    await random.start();
    const seen = new Set(Array.from({ length: 200 }, () => random.getInstance()?.id));
    assert.deepEqual([...seen].sort(), ['a', 'b', 'c']);
    const sticky = provider({ strategy: 'sticky', random: testRandom(t) });
    await sticky.start();
    const first = sticky.getInstance()!;
    for (let i = 0; i < 10; i++) assert.equal(sticky.getInstance()?.id, first.id);
    await discovery.unregisterService(first);
    await eventually(
      () => sticky.getInstance()?.id !== first.id,
      'sticky picks another once its pick is gone',
    );
    const next = sticky.getInstance()!.id;
    for (let i = 0; i < 10; i++) assert.equal(sticky.getInstance()?.id, next);
  });

  test("the down-instance policy (Curator's default: 2 errors) skips an instance for its timeout; disabled instances are skipped", async (t) => {
    const { zk, basePath } = await setup(t);
    const discovery = new ServiceDiscovery(zk, {
      basePath,
      serializer: new JsonInstanceSerializer({ compatibleSerializationMode: false }),
    });
    t.after(() => discovery.close());
    const a = await discovery.registerService({ name: 'api', id: 'a' });
    await discovery.registerService({ name: 'api', id: 'b' });
    const provider = new ServiceProvider(discovery, 'api', { downInstancePolicy: { timeout: 500 } });
    t.after(() => provider.close());
    await provider.start();
    provider.noteError(a);
    assert.deepEqual(
      provider.getAllInstances().map((i) => i.id),
      ['a', 'b'],
      'one error is not enough',
    );
    provider.noteError(a);
    assert.deepEqual(
      provider.getAllInstances().map((i) => i.id),
      ['b'],
    );
    assert.equal(provider.getInstance()?.id, 'b');
    await eventually(() => provider.getAllInstances().length === 2, 'a is back after the timeout');
    await discovery.updateService({ ...a, enabled: false });
    await eventually(() => provider.getAllInstances().length === 1, 'a disabled is skipped');
    assert.equal(provider.cache.getInstances().length, 2, 'the cache still has it');
    assert.throws(
      () => new ServiceProvider(discovery, 'api', { downInstancePolicy: { errorThreshold: 0 } }),
      InvalidArgumentError,
    );
  });
});

describe('re-registration', () => {
  test('after a real session expiry: re-created in the new session with the latest data (CURATOR-181), once', async (t) => {
    const { basePath, admin, zk, discovery, json } = await setup(t, { sessionTimeout: 4000 });
    const me = await discovery.registerService({ name: 'api', id: 'me', port: 1 });
    await discovery.updateService({ ...me, port: 2 });
    const old = zk.sessionId;
    await expire(zk);
    const path = `${basePath}/api/me`;
    await eventually(
      async () => (await admin.exists(path))?.ephemeralOwner === zk.sessionId,
      're-registered in the new session',
    );
    assert.notEqual(zk.sessionId, old);
    assert.equal((await json(path))['port'], 2, 'the updated data, not the first registration');
    assert.equal(discovery.registeredInstances()[0]?.port, 2);
  });

  test('CURATOR-181: an update made while the session is lost is what the new session registers', async (t) => {
    const { basePath, admin, zk, proxy, discovery, json } = await setup(t, {
      proxy: true,
      sessionTimeout: 2000,
    });
    const me = await discovery.registerService({ name: 'api', id: 'me', port: 1 });
    const lost = nextState(zk, ConnectionState.LOST, safety(30_000));
    proxy!.blackhole();
    await lost;
    const update = discovery.updateService({ ...me, port: 3 });
    proxy!.heal();
    await within(update, 'the update lands in the new session', safety(30_000));
    const path = `${basePath}/api/me`;
    await eventually(
      async () => (await admin.exists(path))?.ephemeralOwner === zk.sessionId,
      'in the new session',
    );
    assert.equal((await json(path))['port'], 3);
  });

  test('CURATOR-164: unregistered as the reconnect comes (before its re-registration ran): it never comes back', async (t) => {
    const { basePath, admin, zk, discovery } = await setup(t, { sessionTimeout: 4000 });
    const me = await discovery.registerService({ name: 'api', id: 'me' });
    const unregistered = new Promise<void>((resolve, reject) => {
      zk.on('state', (state) => {
        // After the discovery's own listener, which has queued the re-registration.
        if (state === ConnectionState.CONNECTED) discovery.unregisterService(me).then(resolve, reject);
      });
    });
    await expire(zk);
    await within(unregistered, 'unregistered');
    await grace(1000);
    assert.equal(await admin.exists(`${basePath}/api/me`), null, 'never re-created');
    assert.deepEqual(discovery.registeredInstances(), []);
  });

  test("CURATOR-164: unregistered while the re-registration's create is on the wire: deleted after it lands", async (t) => {
    const { basePath, admin, zk, proxy, discovery } = await setup(t, { proxy: true, sessionTimeout: 4000 });
    const me = await discovery.registerService({ name: 'api', id: 'me' });
    const path = `${basePath}/api/me`;
    const held = proxy!.delayFrame({ op: 'create2', path }, 500);
    await expire(zk);
    await within(held.happened, 'the re-registration sent its create');
    await discovery.unregisterService(me);
    assert.equal(await admin.exists(path), null);
    await grace(1000);
    assert.equal(await admin.exists(path), null, 'it stays gone');
  });

  test("a lost create reply across a session change: the earlier session's node is never adopted", async (t) => {
    const { basePath, admin, zk, proxy, discovery } = await setup(t, { proxy: true, sessionTimeout: 2000 });
    const path = `${basePath}/api/me`;
    await discovery.registerService({ name: 'api', id: 'other' }); // the parents exist: one create for ours
    const lost = await loseReplyAcrossSessions(t, server, proxy!, zk, { op: 'create2', path }, () =>
      discovery.registerService({ name: 'api', id: 'me', port: 7 }),
    );
    const old = (await admin.exists(path))?.ephemeralOwner;
    assert.notEqual(old, undefined, 'the create was applied in the old session');
    await lost.reconnect();
    await within(lost.result, 'registerService resolves in the new session', safety(30_000));
    const stat = await admin.exists(path);
    assert.equal(stat?.ephemeralOwner, zk.sessionId, "the old session's node was replaced, not adopted");
    assert.notEqual(stat?.ephemeralOwner, old);
    await lost.expireOld();
    await grace(500);
    assert.equal((await admin.exists(path))?.ephemeralOwner, zk.sessionId, 'ours stays');
  });

  test('a lost create reply within the session: adopted by the look, one node, the latest data', async (t) => {
    const { basePath, admin, zk, proxy, discovery, json } = await setup(t, { proxy: true });
    const path = `${basePath}/api/me`;
    await discovery.registerService({ name: 'api', id: 'other' });
    const fault = proxy!.swallowReply({ op: 'create2', path });
    const registered = discovery.registerService({ name: 'api', id: 'me', port: 7 });
    await within(fault.happened, 'the create reached the server');
    await within(registered, 'registered after the reconnect');
    assert.equal((await admin.exists(path))?.ephemeralOwner, zk.sessionId);
    assert.equal((await json(path))['port'], 7);
    assert.deepEqual((await admin.getChildren(`${basePath}/api`)).sort(), ['me', 'other']);
  });

  test('SUSPENDED within the session writes nothing: the same node after the reconnect', async (t) => {
    const { basePath, admin, zk, proxy, discovery } = await setup(t, { proxy: true, sessionTimeout: 6000 });
    await discovery.registerService({ name: 'api', id: 'me' });
    const path = `${basePath}/api/me`;
    const before = await admin.exists(path);
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy!.drop();
    await suspended;
    await nextState(zk, ConnectionState.CONNECTED);
    await grace(300);
    const afterwards = await admin.exists(path);
    assert.equal(afterwards?.czxid, before?.czxid);
    assert.equal(afterwards?.version, before?.version);
  });
});

describe('watchInstances', () => {
  /** Another session writes `changes` into our instance's node, as Curator's JSON. */
  async function writeAsOther(admin: ZooKeeperClient, path: string, instance: object): Promise<void> {
    await admin.set(path, new JsonInstanceSerializer().serialize(instance as never));
  }

  test("another session's change is taken into the local copy and re-registered after a session expiry; without the option it is not", async (t) => {
    const { basePath, admin, zk, discovery, json } = await setup(t, {
      sessionTimeout: 4000,
      watchInstances: true,
    });
    const plain = new ServiceDiscovery(zk, { basePath });
    t.after(() => plain.close());
    const me = await discovery.registerService({ name: 'api', id: 'me', port: 1 });
    const other = await plain.registerService({ name: 'api', id: 'other', port: 1 });
    await writeAsOther(admin, `${basePath}/api/me`, { ...me, port: 5 });
    await writeAsOther(admin, `${basePath}/api/other`, { ...other, port: 5 });
    await eventually(() => discovery.registeredInstances()[0]?.port === 5, 'taken into the local copy');
    await grace();
    assert.equal(plain.registeredInstances()[0]?.port, 1, 'not watched');
    await expire(zk);
    for (const id of ['me', 'other'])
      await eventually(
        async () => (await admin.exists(`${basePath}/api/${id}`))?.ephemeralOwner === zk.sessionId,
        `${id} re-registered`,
      );
    assert.equal((await json(`${basePath}/api/me`))['port'], 5, "the other session's data");
    assert.equal((await json(`${basePath}/api/other`))['port'], 1, 'its own data');
    await discovery.unregisterService(me);
    await plain.unregisterService(other);
    await eventually(() => zk.watchCount === 0, 'no watch left after unregister');
  });

  test('our update after a taken change wins; data that is not an instance of ours is not taken', async (t) => {
    const { basePath, admin, discovery, json } = await setup(t, { watchInstances: true });
    const me = await discovery.registerService({ name: 'api', id: 'me', port: 1 });
    const path = `${basePath}/api/me`;
    await writeAsOther(admin, path, { ...me, port: 5 });
    await eventually(() => discovery.registeredInstances()[0]?.port === 5, 'taken');
    await discovery.updateService({ ...me, port: 6 });
    assert.equal((await json(path))['port'], 6);
    await admin.set(path, Buffer.from('not json'));
    await writeAsOther(admin, path, { ...me, id: 'someone-else', port: 7 });
    await grace(300);
    assert.equal(discovery.registeredInstances()[0]?.port, 6, 'neither is taken');
    await discovery.updateService({ ...me, port: 8 });
    assert.equal((await json(path))['port'], 8, 'an update still writes');
  });

  test('SUSPENDED: a change made meanwhile is taken after the reconnect; a deleted node is created again by the next reconnect, with the latest data', async (t) => {
    const { basePath, admin, zk, proxy, discovery, json } = await setup(t, {
      proxy: true,
      sessionTimeout: 10_000,
      watchInstances: true,
    });
    const me = await discovery.registerService({ name: 'api', id: 'me', port: 1 });
    const path = `${basePath}/api/me`;
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy!.blackhole();
    await suspended;
    await writeAsOther(admin, path, { ...me, port: 5 });
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy!.heal();
    proxy!.drop(); // the blackholed connection goes; the next one gets through
    await connected;
    await eventually(() => discovery.registeredInstances()[0]?.port === 5, 'taken after the reconnect');

    const before = await admin.exists(path);
    await admin.delete(path);
    await grace(300);
    assert.equal(await admin.exists(path), null, 'not re-created at once (Curator: only logged)');
    const reconnected = nextState(zk, ConnectionState.CONNECTED);
    proxy!.drop();
    await reconnected;
    await eventually(async () => (await admin.exists(path)) !== null, 'created again by the reconnect');
    assert.notEqual((await admin.exists(path))?.czxid, before?.czxid);
    assert.equal((await json(path))['port'], 5, 'the latest data');
  });

  test('watchInstances must be a boolean', () => {
    assert.throws(
      () => new ServiceDiscovery({} as ZooKeeperClient, { basePath: '/s', watchInstances: 'yes' as never }),
      InvalidArgumentError,
    );
  });
});
