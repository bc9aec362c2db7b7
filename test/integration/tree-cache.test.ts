/**
 * TreeCache against a real ZooKeeper server: kazoo's KazooTreeCacheTests (kazoo's kazoo/tests/test_cache.py
 * part 6) in our own words, plus: one persistent recursive watch per cache, changes made while
 * disconnected emitted as differences on the reconnect, a real session loss, random concurrent
 * writers with connection drops converging to the server's tree (compared recursively, with
 * exactly one INITIALIZED), and the event iterator ending on close / abort.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectionState,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  OutsideTreeError,
  RecipeStateError,
  TreeCache,
  type TreeEvent,
  type TreeEventType,
  type WatchEvent,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { quiesce, serverTree, type TreeSnapshot } from '../support/recipes.js';
import { testRandom } from '../support/random.js';
import { Recorder } from '../support/recorder.js';
import { eventually, grace, safety, within } from '../support/wait.js';

const server = await serverForFile();

/** Records a cache's events; `next(type)` waits for the next unread event of that type. */
class EventRecorder {
  private readonly recorder = new Recorder<TreeEvent>();
  readonly events = this.recorder.calls;
  private read = 0;

  constructor(cache: TreeCache) {
    cache.listen(this.recorder.push);
  }

  /** The next unread event (in order), which must be of `type`. */
  async next(type: TreeEventType): Promise<TreeEvent> {
    const event = await this.recorder.nth(++this.read);
    assert.equal(
      event.type,
      type,
      `event #${this.read}: expected ${type}, got ${event.type} ${event.path}; all: ${this.summary()}`,
    );
    return event;
  }

  /** Skip unread events until one of `type` (bounded). */
  async until(type: TreeEventType): Promise<TreeEvent> {
    for (;;) {
      const event = await this.recorder.nth(++this.read);
      if (event.type === type) return event;
    }
  }

  /** Treat every event so far as read. */
  markRead(): void {
    this.read = this.events.length;
  }

  ofType(type: TreeEventType): TreeEvent[] {
    return this.events.filter((event) => event.type === type);
  }

  /** Unread events. */
  rest(): TreeEvent[] {
    return this.events.slice(this.read);
  }

  summary(events = this.events): string {
    return events.map((event) => `${event.type} ${event.path}`).join(', ');
  }
}

async function startCache(
  t: { after: (fn: () => unknown) => void },
  zk: ZooKeeperClient,
  root: string,
): Promise<{ cache: TreeCache; events: EventRecorder }> {
  const cache = new TreeCache(zk, root);
  t.after(() => cache.close());
  const events = new EventRecorder(cache);
  await within(cache.start(), 'cache initialized');
  events.markRead(); // the start-up events (NODE_ADDED…, INITIALIZED) stay in `events.events`
  return { cache, events };
}

/** The cache's view of the tree, in the shape of `serverTree`. */
function cacheTree(cache: TreeCache, path: string): TreeSnapshot | undefined {
  const node = cache.getData(path);
  if (node === undefined) return undefined;
  const children: Record<string, TreeSnapshot> = {};
  for (const name of cache.getChildren(path) ?? []) {
    const child = cacheTree(cache, path === '/' ? `/${name}` : `${path}/${name}`);
    if (child) children[name] = child;
  }
  return { data: node.data.toString('utf8'), mzxid: node.stat.mzxid, children };
}

describe('TreeCache: kazoo KazooTreeCacheTests', () => {
  test('test_start: after INITIALIZED the root is cached (version 0) and the cache is STARTED', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const { cache, events } = await startCache(t, zk, root);
    assert.equal(cache.state, 'STARTED');
    assert.deepEqual(
      events.events.map((e) => e.type),
      ['NODE_ADDED', 'INITIALIZED'],
    );
    assert.ok(await zk.exists(root), 'start() created the root');
    const node = cache.getData(root);
    assert.equal(node?.stat.version, 0);
    assert.deepEqual(node?.data, Buffer.alloc(0));
  });

  test('test_start_started / test_start_closed: starting twice, or after close, is a RecipeStateError', async (t) => {
    const zk = await connect(t, server);
    const { cache } = await startCache(t, zk, uniqueRoot('tc'));
    await assert.rejects(cache.start(), RecipeStateError);
    await cache.close();
    assert.equal(cache.state, 'CLOSED');
    await assert.rejects(cache.start(), RecipeStateError);
    const never = new TreeCache(zk, uniqueRoot('tc'));
    await never.close();
    await assert.rejects(never.start(), RecipeStateError);
  });

  test("test_close: after close no events, an empty tree, and only the cache's watch removed", async (t) => {
    const zk = await connect(t, server);
    const writer = await connect(t, server);
    const root = uniqueRoot('tc');
    await zk.create(root);
    const baseline = zk.watchCount;
    const { cache, events } = await startCache(t, zk, root);
    assert.equal(zk.watchCount, baseline + 1, 'one persistent recursive watch for the whole cache');
    await writer.create(`${root}/foo/bar/baz`, 'x', { makePath: true });
    for (const path of ['/foo', '/foo/bar', '/foo/bar/baz'])
      assert.equal((await events.next('NODE_ADDED')).path, root + path);

    // Foreign watches on the same paths (one-shot and persistent) must survive the close.
    const foreign: WatchEvent[] = [];
    await zk.get(`${root}/foo`, { watch: (event) => void foreign.push(event) });
    const persistent = (event: WatchEvent) => void foreign.push(event);
    await zk.addWatch(root, persistent, { recursive: true });
    const withForeign = zk.watchCount;
    await cache.close();
    assert.equal(zk.watchCount, withForeign - 1, "exactly the cache's watch was removed");
    const count = events.events.length;
    await writer.set(`${root}/foo`, 'changed');
    await writer.create(`${root}/new`);
    await eventually(() => foreign.length >= 3, 'foreign watches still fire');
    await quiesce(zk, writer, root);
    assert.equal(events.events.length, count, 'no events after close');
    assert.equal(cache.getData(root), undefined);
    assert.equal(cache.getChildren(root), undefined);
    assert.equal(cache.getData(`${root}/foo`), undefined);
    await zk.removeWatches(root, 'persistentRecursive', persistent);
  });

  test('test_delete_operation: a recursive delete emits three NODE_REMOVED and forgets the nodes', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const { cache, events } = await startCache(t, zk, root);
    await zk.create(`${root}/foo/bar/baz`, null, { makePath: true });
    for (let i = 0; i < 3; i++) await events.next('NODE_ADDED');
    await zk.delete(`${root}/foo`, { recursive: true });
    const removed = [
      await events.next('NODE_REMOVED'),
      await events.next('NODE_REMOVED'),
      await events.next('NODE_REMOVED'),
    ];
    assert.deepEqual(removed.map((e) => e.path).sort(), [
      `${root}/foo`,
      `${root}/foo/bar`,
      `${root}/foo/bar/baz`,
    ]);
    assert.equal(cache.getData(`${root}/foo`), undefined);
    assert.deepEqual(cache.getChildren(root), []);
  });

  test('test_children_operation: create → ADDED (v0), set → UPDATED (v1), delete → REMOVED with the last data', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const { events } = await startCache(t, zk, root);
    const path = `${root}/test_children_operation`;
    await zk.create(path, 'test_children_operation');
    const added = await events.next('NODE_ADDED');
    assert.equal(added.path, path);
    assert.equal(added.data?.toString(), 'test_children_operation');
    assert.equal(added.stat?.version, 0);
    await zk.set(path, 'test_children_operation_changed');
    const updated = await events.next('NODE_UPDATED');
    assert.equal(updated.data?.toString(), 'test_children_operation_changed');
    assert.equal(updated.stat?.version, 1);
    await zk.delete(path);
    const removed = await events.next('NODE_REMOVED');
    assert.equal(removed.path, path);
    assert.equal(removed.data?.toString(), 'test_children_operation_changed');
    assert.equal(removed.stat?.version, 1);
  });

  test('test_subtree_operation: additions top-down, removals deepest first', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const { events } = await startCache(t, zk, root);
    await zk.create(`${root}/foo/bar/baz`, null, { makePath: true });
    for (const path of ['/foo', '/foo/bar', '/foo/bar/baz'])
      assert.equal((await events.next('NODE_ADDED')).path, root + path);
    await zk.delete(`${root}/foo`, { recursive: true });
    for (const path of ['/foo/bar/baz', '/foo/bar', '/foo'])
      assert.equal((await events.next('NODE_REMOVED')).path, root + path);
  });

  test('test_get_data / test_get_children: served from memory, even with the client closed', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    await zk.create(`${root}/test_get_data`, 'hello', { makePath: true });
    await zk.create(`${root}/test_get_data/a`);
    await zk.create(`${root}/test_get_data/b`);
    const { cache } = await startCache(t, zk, root);
    await zk.close();
    assert.equal(cache.getData(`${root}/test_get_data`)?.data.toString(), 'hello');
    assert.deepEqual(cache.getChildren(`${root}/test_get_data`), ['a', 'b']);
    assert.deepEqual(cache.getChildren(root), ['test_get_data']);
    assert.deepEqual(cache.getChildren(`${root}/test_get_data/a`), []);
  });

  test('test_get_data_out_of_tree / test_get_children_out_of_tree: OutsideTreeError, by path segment', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const { cache } = await startCache(t, zk, root);
    assert.throws(() => cache.getData('/out_of_tree'), OutsideTreeError);
    assert.throws(() => cache.getChildren('/out_of_tree'), OutsideTreeError);
    // kazoo's string-prefix test would accept this sibling; we check segments.
    assert.throws(() => cache.getData(`${root}zz`), OutsideTreeError);
    assert.throws(() => cache.getChildren(`${root}zz/x`), OutsideTreeError);
  });

  test('test_get_data_no_node / test_get_children_no_node: undefined', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const { cache } = await startCache(t, zk, root);
    assert.equal(cache.getData(`${root}/non_exists`), undefined);
    assert.equal(cache.getChildren(`${root}/non_exists`), undefined);
  });

  test('test_session_reconnected: a drop emits SUSPENDED, RECONNECTED, RESYNC and no node events; the cache keeps tracking', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const root = uniqueRoot('tc');
    await zk.create(`${root}/a/b`, 'ab', { makePath: true });
    await zk.create(`${root}/c`, 'c');
    const { cache, events } = await startCache(t, zk, root);
    assert.equal(
      events.summary(),
      `NODE_ADDED ${root}, NODE_ADDED ${root}/a, NODE_ADDED ${root}/c, NODE_ADDED ${root}/a/b, INITIALIZED ${root}`,
    );
    events.markRead();
    proxy.drop();
    await events.next('CONNECTION_SUSPENDED');
    await events.next('CONNECTION_RECONNECTED');
    await events.next('RESYNC');
    assert.deepEqual(events.rest(), []);
    await zk.create(`${root}/a/new`, 'n');
    assert.equal((await events.next('NODE_ADDED')).path, `${root}/a/new`);
    assert.deepEqual(cache.getChildren(`${root}/a`), ['b', 'new']);
  });

  test('test_root_recreated: deleting the root emits NODE_REMOVED (v0 data); re-creating it emits NODE_ADDED', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const { cache, events } = await startCache(t, zk, root);
    events.markRead();
    await zk.delete(root);
    const removed = await events.next('NODE_REMOVED');
    assert.equal(removed.path, root);
    assert.equal(removed.stat?.version, 0);
    assert.equal(cache.getData(root), undefined);
    await zk.create(root, 'again');
    const added = await events.next('NODE_ADDED');
    assert.equal(added.path, root);
    assert.equal(added.data?.toString(), 'again');
    await zk.create(`${root}/child`);
    assert.equal((await events.next('NODE_ADDED')).path, `${root}/child`);
  });

  test('test_exception_handler: an error thrown by an event listener goes to the fault listener, once', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const cache = new TreeCache(zk, root);
    t.after(() => cache.close());
    const faults = new Recorder<unknown>();
    cache.listenFault((error) => faults.push(error));
    const boom = new Error('listener failure');
    cache.listen((event) => {
      if (event.type === 'NODE_ADDED' && event.path === `${root}/bad`) throw boom;
    });
    const later = new Recorder<TreeEvent>();
    cache.listen((event) => later.push(event));
    await within(cache.start(), 'start');
    await zk.create(`${root}/bad`);
    assert.equal(await faults.nth(1), boom);
    await zk.create(`${root}/good`);
    await eventually(() => later.calls.some((e) => e.path === `${root}/good`), 'the cache carries on');
    assert.equal(faults.calls.length, 1);
  });

  test('test_exception_suppressed: closing the client emits CONNECTION_LOST, no fault, and memory is still served', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    await zk.create(`${root}/kept`, 'k', { makePath: true });
    const { cache, events } = await startCache(t, zk, root);
    const faults: unknown[] = [];
    cache.listenFault((error) => faults.push(error));
    await zk.close();
    await events.until('CONNECTION_LOST');
    await grace();
    assert.deepEqual(faults, []);
    assert.equal(cache.getData(`${root}/kept`)?.data.toString(), 'k');
    await cache.close(); // with the client gone: quietly
  });
});

describe('TreeCache: disconnections, session loss, convergence', () => {
  test('changes made while disconnected are emitted as differences after the reconnect, then RESYNC', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const writer = await connect(t, server);
    const root = uniqueRoot('tc');
    await writer.create(`${root}/keep`, 'k0', { makePath: true });
    await writer.create(`${root}/gone/deep`, 'd', { makePath: true });
    await writer.create(`${root}/same`, 's');
    const { cache, events } = await startCache(t, zk, root);
    const start = events.events.length;
    proxy.refuse();
    proxy.drop();
    await events.next('CONNECTION_SUSPENDED');
    await writer.set(`${root}/keep`, 'k1');
    await writer.delete(`${root}/gone`, { recursive: true });
    await writer.create(`${root}/fresh/inner`, 'i', { makePath: true });
    proxy.accept();
    await events.next('CONNECTION_RECONNECTED');
    await events.until('RESYNC');
    const diff = events.events
      .slice(start)
      .filter((e) => e.type.startsWith('NODE_'))
      .map((e) => `${e.type} ${e.path.slice(root.length)}`);
    assert.deepEqual(
      [...diff].sort(),
      [
        'NODE_ADDED /fresh',
        'NODE_ADDED /fresh/inner',
        'NODE_REMOVED /gone',
        'NODE_REMOVED /gone/deep',
        'NODE_UPDATED /keep',
      ].sort(),
    );
    assert.ok(diff.indexOf('NODE_REMOVED /gone/deep') < diff.indexOf('NODE_REMOVED /gone'), 'deepest first');
    assert.ok(diff.indexOf('NODE_ADDED /fresh') < diff.indexOf('NODE_ADDED /fresh/inner'), 'parents first');
    assert.deepEqual(cacheTree(cache, root), await serverTree(writer, root));
    assert.equal(events.ofType('INITIALIZED').length, 1);
  });

  test('a real session loss: CONNECTION_LOST, then the tree is re-read in the new session, INITIALIZED again and RESYNC', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const writer = await connect(t, server);
    const root = uniqueRoot('tc');
    await writer.create(`${root}/a`, 'a', { makePath: true });
    const { cache, events } = await startCache(t, zk, root);
    // b is created while the cache's client cannot reach the server, so before its new session
    // exists: only the re-read in the new session can bring b into the cache (no watch of any
    // session saw it being created).
    proxy.refuse();
    const cut = nextState(zk, ConnectionState.SUSPENDED, safety());
    await server.expireSession(zk);
    await cut;
    await writer.create(`${root}/b`, 'b');
    const lost = nextState(zk, ConnectionState.LOST, safety());
    proxy.accept();
    await lost;
    await events.until('CONNECTION_LOST');
    await events.until('CONNECTION_RECONNECTED');
    await events.until('INITIALIZED');
    await events.until('RESYNC');
    assert.equal(events.ofType('INITIALIZED').length, 2, 'kazoo: INITIALIZED again after LOST');
    assert.deepEqual(cache.getChildren(root), ['a', 'b']);
    // The recursive watch lives on in the new session.
    await writer.set(`${root}/a`, 'a2');
    await eventually(
      () => cache.getData(`${root}/a`)?.data.toString() === 'a2',
      'update seen in the new session',
    );
    assert.deepEqual(cacheTree(cache, root), await serverTree(writer, root));
  });

  test("random concurrent writers and connection drops: the cache converges to the server's tree; INITIALIZED once", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const writers = await Promise.all([0, 1, 2].map(() => connect(t, server)));
    const root = uniqueRoot('tc');
    await writers[0]!.create(root);
    const { cache, events } = await startCache(t, zk, root);
    const random = testRandom(t);
    const names = ['a', 'b', 'c'];
    const randomPath = () => {
      const depth = 1 + Math.floor(random() * 3);
      let path = root;
      for (let i = 0; i < depth; i++) path += `/${names[Math.floor(random() * names.length)]}`;
      return path;
    };
    const OPS = 150;
    const write = async (writer: ZooKeeperClient, id: number, ops: number) => {
      for (let i = 0; i < ops; i++) {
        const path = randomPath();
        const roll = random();
        try {
          if (roll < 0.45) await writer.create(path, `w${id}-${i}`, { makePath: true });
          else if (roll < 0.75) await writer.set(path, `w${id}-${i}`);
          else if (roll < 0.9) await writer.delete(path);
          else await writer.delete(path, { recursive: true });
        } catch (error) {
          if (!(
            error instanceof NoNodeError ||
            error instanceof NodeExistsError ||
            error instanceof NotEmptyError
          ))
            throw error;
        }
      }
    };
    const drops = (async () => {
      for (let i = 0; i < 4; i++) {
        await grace(60 + random() * 80);
        if (i === 2) {
          // A window in which the cache cannot reconnect: writes happen without any event.
          proxy.refuse();
          proxy.drop();
          await grace(150);
          proxy.accept();
        } else proxy.drop();
      }
    })();
    await within(
      Promise.all([...writers.map((w, id) => write(w, id, OPS)), drops]),
      'writers done',
      safety(60_000),
    );
    // Last, a burst of writes while the cache is cut off, and nothing after: only the resync
    // on the reconnect can bring the cache to the final tree.
    await eventually(() => zk.state === ConnectionState.CONNECTED, 'reconnected after the drops');
    proxy.refuse();
    const cut = nextState(zk, ConnectionState.SUSPENDED);
    proxy.drop();
    await cut;
    await within(Promise.all(writers.map((w, id) => write(w, id + 10, 40))), 'burst done', safety(60_000));
    proxy.accept();
    const expected = await serverTree(writers[0]!, root);
    await eventually(
      async () =>
        JSON.stringify(cacheTree(cache, root), bigints) ===
        JSON.stringify(await serverTree(writers[0]!, root), bigints),
      `cache equals the server tree; cache ${JSON.stringify(cacheTree(cache, root), bigints)} server ${JSON.stringify(expected, bigints)}`,
      safety(20_000),
    );
    assert.deepEqual(cacheTree(cache, root), await serverTree(writers[0]!, root));
    assert.equal(events.ofType('INITIALIZED').length, 1, 'INITIALIZED exactly once');
    assert.ok(events.ofType('CONNECTION_SUSPENDED').length >= 1, 'the drops were seen');
    // Reconnects that come before the previous re-read finished share one RESYNC.
    await eventually(() => {
      const types = events.events.map((e) => e.type);
      return types.lastIndexOf('RESYNC') > types.lastIndexOf('CONNECTION_RECONNECTED');
    }, 'the last reconnect was followed by a RESYNC');
    assert.ok(events.ofType('RESYNC').length <= events.ofType('CONNECTION_RECONNECTED').length);
    // Every NODE_ADDED / NODE_REMOVED pair alternates per path (a real history), starting with ADDED.
    const alive = new Map<string, boolean>();
    for (const event of events.events) {
      if (event.type === 'NODE_ADDED') {
        assert.notEqual(alive.get(event.path), true, `ADDED twice without REMOVED: ${event.path}`);
        alive.set(event.path, true);
      } else if (event.type === 'NODE_REMOVED') {
        assert.equal(alive.get(event.path), true, `REMOVED without ADDED: ${event.path}`);
        alive.set(event.path, false);
      } else if (event.type === 'NODE_UPDATED') {
        assert.equal(alive.get(event.path), true, `UPDATED while not added: ${event.path}`);
      }
    }
  });

  test('the event iterator yields events, ends on abort, and ends when the cache closes', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const cache = new TreeCache(zk, root);
    t.after(() => cache.close());
    const controller = new AbortController();
    const first = (async () => {
      const seen: string[] = [];
      for await (const event of cache.events({ signal: controller.signal })) {
        seen.push(`${event.type} ${event.path}`);
        if (event.type === 'INITIALIZED') controller.abort();
      }
      return seen;
    })();
    const second = (async () => {
      const seen: string[] = [];
      for await (const event of cache) seen.push(event.type);
      return seen;
    })();
    await within(cache.start(), 'start');
    assert.deepEqual(await within(first, 'ends on abort'), [`NODE_ADDED ${root}`, `INITIALIZED ${root}`]);
    await zk.create(`${root}/x`);
    await eventually(() => cache.getData(`${root}/x`), 'x cached');
    await cache.close();
    assert.deepEqual(await within(second, 'ends on close'), ['NODE_ADDED', 'INITIALIZED', 'NODE_ADDED']);
  });

  test('a cache built with an aborted-later signal closes itself; the watch is removed', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc');
    const baseline = zk.watchCount;
    const controller = new AbortController();
    const cache = new TreeCache(zk, root, { signal: controller.signal });
    await within(cache.start(), 'start');
    assert.equal(zk.watchCount, baseline + 1);
    controller.abort();
    await eventually(() => cache.state === 'CLOSED' && zk.watchCount === baseline, 'closed and unwatched');
    await grace(timing(20));
  });
});

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

describe('TreeCache: a larger tree', () => {
  test('3,061 nodes: every node cached, each added after its parent, INITIALIZED once, no process warning', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('tc-large');
    await zk.create(root);
    const parents = Array.from({ length: 60 }, (_, p) => `${root}/p${p}`);
    await Promise.all(parents.map((path) => zk.create(path, Buffer.from(path))));
    await Promise.all(
      parents.flatMap((parent) =>
        Array.from({ length: 50 }, (_, c) => zk.create(`${parent}/c${c}`, Buffer.alloc(100))),
      ),
    );
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const { cache, events } = await startCache(t, zk, root);
    const added = events.ofType('NODE_ADDED').map((event) => event.path);
    assert.equal(added.length, 1 + 60 + 60 * 50);
    const seen = new Set<string>();
    for (const path of added) {
      assert.ok(path === root || seen.has(path.slice(0, path.lastIndexOf('/'))), `${path} after its parent`);
      seen.add(path);
    }
    assert.equal(events.ofType('INITIALIZED').length, 1);
    assert.equal(cache.getChildren(root)?.length, 60);
    assert.equal(cache.getChildren(`${root}/p7`)?.length, 50);
    assert.deepEqual(cache.getChildren(`${root}/p7/c3`), [], 'a leaf has no children');
    assert.equal(cache.getData(`${root}/p7`)?.data.toString(), `${root}/p7`);
    assert.equal(cache.getData(`${root}/p7/c3`)?.stat.dataLength, 100);
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    assert.deepEqual(
      warnings.map((warning) => warning.name),
      [],
    );
  });
});
