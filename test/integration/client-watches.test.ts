/**
 * Watches against a real ZooKeeper 3.8: one-shot data/exist/child watches, fan-out of one
 * server event to several local listeners, delivery order, throwing listeners, persistent and
 * recursive watches, removeWatches, and the server watch of a watch-setting request given up on.
 *
 * "Nothing more arrives" is checked with an event fence (helpers.eventFence): a later event on a
 * sentinel node, which the client can only deliver after everything the server sent before it.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { errors, type WatchEvent, type ZooKeeperClient } from '../../src/index.js';
import { FaultProxy, ZooKeeperServer, type FrameMatch } from '../../src/testing/index.js';
import { connect, eventFence, serverForFile, serverWatchCount, uniqueRoot } from '../support/client.js';
import { Recorder } from '../support/recorder.js';
import { rejectsWithin, within } from '../support/wait.js';

const server = await serverForFile();

const { NoWatcherError, TimeoutError } = errors;

function event(type: WatchEvent['type'], path: string): WatchEvent {
  return { type, state: 'CONNECTED', path };
}

/** Paths the server holds any watch on (4lw `wchp`). */
async function serverWatchedPaths(server: ZooKeeperServer): Promise<string[]> {
  const text = await server.fourLetterWord('wchp');
  return text.split('\n').filter((line) => line.startsWith('/'));
}

describe('ZooKeeperClient watches', () => {
  /** The watching client `zk`, a second client `other` that writes, and a fresh `root` path. */
  async function watcherAndWriter(t: TestContext) {
    const zk = await connect(t, server);
    const other = await connect(t, server);
    return { zk, other, root: uniqueRoot() };
  }

  describe('one-shot watches', () => {
    test('a get watch delivers NodeDataChanged exactly once', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root, 'v0');
      const log = new Recorder<WatchEvent>();
      const { data } = await zk.get(root, { watch: log.listener });
      assert.equal(data.toString(), 'v0');
      assert.equal(zk.watchCount, 1);
      await other.set(root, 'v1');
      assert.deepEqual(await log.nth(1), event('NodeDataChanged', root));
      await other.set(root, 'v2');
      await other.delete(root);
      await eventFence(zk, other, root);
      assert.deepEqual(log.calls, [event('NodeDataChanged', root)]);
      assert.equal(zk.watchCount, 0);
    });

    test('a get watch delivers NodeDeleted exactly once', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root, 'v0');
      const log = new Recorder<WatchEvent>();
      await zk.get(root, { watch: log.listener });
      await other.delete(root);
      assert.deepEqual(await log.nth(1), event('NodeDeleted', root));
      await other.create(root);
      await eventFence(zk, other, root);
      assert.deepEqual(log.calls, [event('NodeDeleted', root)]);
    });

    test('an exists watch on a missing node delivers NodeCreated exactly once', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      const log = new Recorder<WatchEvent>();
      assert.equal(await zk.exists(root, { watch: log.listener }), null);
      await other.create(root, 'x');
      assert.deepEqual(await log.nth(1), event('NodeCreated', root));
      await other.set(root, 'y');
      await other.delete(root);
      await eventFence(zk, other, root);
      assert.deepEqual(log.calls, [event('NodeCreated', root)]);
    });

    test('an exists watch on an existing node delivers NodeDataChanged, then NodeDeleted for a new watch', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root);
      const log = new Recorder<WatchEvent>();
      assert.ok(await zk.exists(root, { watch: log.listener }));
      await other.set(root, 'y');
      assert.deepEqual(await log.nth(1), event('NodeDataChanged', root));
      assert.ok(await zk.exists(root, { watch: log.listener }));
      await other.delete(root);
      assert.deepEqual(await log.nth(2), event('NodeDeleted', root));
      await eventFence(zk, other, root);
      assert.equal(log.calls.length, 2);
    });

    test('a getChildren watch delivers NodeChildrenChanged exactly once', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root);
      const log = new Recorder<WatchEvent>();
      assert.deepEqual(await zk.getChildren(root, { watch: log.listener }), []);
      await other.create(`${root}/a`);
      assert.deepEqual(await log.nth(1), event('NodeChildrenChanged', root));
      await other.create(`${root}/b`);
      await other.set(root, 'data changes do not touch child watches');
      await eventFence(zk, other, root);
      assert.deepEqual(log.calls, [event('NodeChildrenChanged', root)]);

      // getChildrenWithStat sets the same kind of watch; deleting the node delivers NodeDeleted.
      await other.delete(`${root}/a`);
      await other.delete(`${root}/b`);
      const second = new Recorder<WatchEvent>();
      const { children, stat } = await zk.getChildrenWithStat(root, { watch: second.listener });
      assert.deepEqual(children, []);
      assert.equal(stat.numChildren, 0);
      await other.delete(root);
      assert.deepEqual(await second.nth(1), event('NodeDeleted', root));
      await eventFence(zk, other, root);
      assert.equal(second.calls.length, 1);
    });

    test('several listeners on one path (get ×2 + exists) all fire once for one change', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root, 'v0');
      const first = new Recorder<WatchEvent>();
      const second = new Recorder<WatchEvent>();
      const third = new Recorder<WatchEvent>();
      const shared = new Recorder<WatchEvent>();
      await zk.get(root, { watch: first.listener });
      await zk.get(root, { watch: second.listener });
      await zk.exists(root, { watch: third.listener });
      // One function registered twice (get + exists) is one listener, called once.
      await zk.get(root, { watch: shared.listener });
      await zk.exists(root, { watch: shared.listener });
      await other.set(root, 'v1');
      for (const log of [first, second, third, shared])
        assert.deepEqual(await log.nth(1), event('NodeDataChanged', root));
      // A second change after the first event does not fire them again.
      await other.set(root, 'v2');
      await other.delete(root);
      await eventFence(zk, other, root);
      for (const log of [first, second, third, shared])
        assert.deepEqual(log.calls, [event('NodeDataChanged', root)]);
    });

    test('events are delivered in server order', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      const [a, b, c] = [`${root}/a`, `${root}/b`, `${root}/c`];
      for (const path of [a, b, c]) await zk.create(path, null, { makePath: true });
      const received: string[] = [];
      const log = new Recorder<WatchEvent>();
      const listener = (e: WatchEvent) => {
        received.push(`${e.type} ${e.path}`);
        return log.listener(e);
      };
      // Different kinds of watch, each its own listener call.
      await zk.get(a, { watch: listener });
      await zk.exists(b, { watch: listener });
      await zk.get(c, { watch: listener });
      await zk.getChildren(root, { watch: listener });
      await other.set(c, 'c');
      await other.delete(a);
      await other.set(b, 'b');
      await log.waitForCount(4);
      assert.deepEqual(received, [
        `NodeDataChanged ${c}`,
        `NodeDeleted ${a}`,
        `NodeChildrenChanged ${root}`,
        `NodeDataChanged ${b}`,
      ]);
    });

    test('a throwing listener does not break the connection or other listeners', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root, 'v0');
      let thrown = 0;
      const throwing = () => {
        thrown++;
        throw new Error('listener failure (expected by the test)');
      };
      const rejecting = async () => {
        thrown++;
        throw new Error('async listener failure (expected by the test)');
      };
      const healthy = new Recorder<WatchEvent>();
      await zk.get(root, { watch: throwing });
      await zk.get(root, { watch: rejecting });
      await zk.get(root, { watch: healthy.listener });
      await other.set(root, 'v1');
      assert.deepEqual(await healthy.nth(1), event('NodeDataChanged', root));
      assert.equal(thrown, 2);
      // The connection and later watches still work.
      assert.equal(zk.state, 'CONNECTED');
      assert.equal((await zk.get(root)).data.toString(), 'v1');
      await zk.create(`${root}/child`);
      const later = new Recorder<WatchEvent>();
      await zk.getChildren(root, { watch: throwing });
      await zk.getChildren(root, { watch: later.listener });
      await other.delete(`${root}/child`);
      assert.deepEqual(await later.nth(1), event('NodeChildrenChanged', root));
      assert.equal(thrown, 3);
    });

    test('a watch on its own write is delivered by the time the write resolves', async (t) => {
      const zk = await connect(t, server);
      const root = uniqueRoot();
      await zk.create(root, 'v0');
      const data = new Recorder<WatchEvent>();
      await zk.get(root, { watch: data.listener });
      await zk.set(root, 'v1');
      assert.deepEqual(
        data.calls,
        [event('NodeDataChanged', root)],
        'data watch fired before set() resolved',
      );

      const created = new Recorder<WatchEvent>();
      await zk.exists(`${root}/c`, { watch: created.listener });
      const children = new Recorder<WatchEvent>();
      await zk.getChildren(root, { watch: children.listener });
      await zk.create(`${root}/c`);
      assert.deepEqual(
        created.calls,
        [event('NodeCreated', `${root}/c`)],
        'exist watch fired before create() resolved',
      );
      assert.deepEqual(
        children.calls,
        [event('NodeChildrenChanged', root)],
        'child watch fired before create() resolved',
      );

      const deleted = new Recorder<WatchEvent>();
      await zk.get(`${root}/c`, { watch: deleted.listener });
      await zk.delete(`${root}/c`);
      assert.deepEqual(
        deleted.calls,
        [event('NodeDeleted', `${root}/c`)],
        'data watch fired before delete() resolved',
      );
    });
  });

  describe('persistent and recursive watches', () => {
    test('addWatch delivers repeatedly until removeWatches, which delivers PersistentWatchRemoved', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root);
      const log = new Recorder<WatchEvent>();
      await zk.addWatch(root, log.listener);
      assert.ok((await serverWatchedPaths(server)).includes(root));
      await other.set(root, '1');
      await other.set(root, '2');
      await other.create(`${root}/child`);
      await other.set(`${root}/child`, 'grandchild data changes are not reported');
      await other.create(`${root}/child/grandchild`);
      await other.delete(`${root}/child`, { recursive: true });
      await other.delete(root);
      await other.create(root);
      assert.deepEqual(await log.waitForCount(6), [
        event('NodeDataChanged', root),
        event('NodeDataChanged', root),
        event('NodeChildrenChanged', root),
        event('NodeChildrenChanged', root),
        event('NodeDeleted', root),
        event('NodeCreated', root),
      ]);

      await zk.removeWatches(root, 'persistent', log.listener);
      assert.deepEqual(await log.nth(7), event('PersistentWatchRemoved', root));
      assert.equal(zk.watchCount, 0);
      assert.ok(!(await serverWatchedPaths(server)).includes(root), 'the server no longer holds the watch');
      await other.set(root, '3');
      await other.create(`${root}/late`);
      await other.delete(`${root}/late`);
      await eventFence(zk, other, root);
      assert.equal(log.calls.length, 7, JSON.stringify(log.calls.slice(7)));
    });

    test('a persistent watch on a missing node reports its creation', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      const log = new Recorder<WatchEvent>();
      await zk.addWatch(root, log.listener);
      await other.create(root);
      await other.delete(root);
      assert.deepEqual(await log.waitForCount(2), [event('NodeCreated', root), event('NodeDeleted', root)]);
      await zk.removeWatches(root, 'persistent');
      assert.deepEqual(await log.nth(3), event('PersistentWatchRemoved', root));
    });

    test('a recursive watch delivers created/changed/deleted of descendants and never NodeChildrenChanged', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root);
      const log = new Recorder<WatchEvent>();
      await zk.addWatch(root, log.listener, { recursive: true });
      await other.create(`${root}/a`);
      // The same session also holds a plain child watch below the recursive one (ZooKeeper Programmer's Guide: persistent recursive watches get no NodeChildrenChanged).
      await log.nth(1);
      const childLog = new Recorder<WatchEvent>();
      await zk.getChildren(`${root}/a`, { watch: childLog.listener });
      await other.create(`${root}/a/b`, 'x');
      await other.set(`${root}/a/b`, 'y');
      await other.create(`${root}/a/b/c`);
      await other.delete(`${root}/a/b/c`);
      await other.delete(`${root}/a/b`);
      await other.set(root, 'root data');
      const expected = [
        event('NodeCreated', `${root}/a`),
        event('NodeCreated', `${root}/a/b`),
        event('NodeDataChanged', `${root}/a/b`),
        event('NodeCreated', `${root}/a/b/c`),
        event('NodeDeleted', `${root}/a/b/c`),
        event('NodeDeleted', `${root}/a/b`),
        event('NodeDataChanged', root),
      ];
      await log.waitForCount(expected.length);
      await eventFence(zk, other, root);
      assert.deepEqual(log.calls, expected);
      assert.ok(!log.calls.some((e) => e.type === 'NodeChildrenChanged'));
      assert.deepEqual(childLog.calls, [event('NodeChildrenChanged', `${root}/a`)]);

      await zk.removeWatches(root, 'persistentRecursive', log.listener);
      assert.deepEqual(await log.nth(expected.length + 1), event('PersistentWatchRemoved', root));
      await other.create(`${root}/after`);
      await eventFence(zk, other, root);
      assert.equal(log.calls.length, expected.length + 1);
    });
  });

  describe('removeWatches', () => {
    test('removeWatches on a path without a watch rejects with NoWatcherError', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root);
      await assert.rejects(zk.removeWatches(root, 'any'), NoWatcherError);
      await assert.rejects(zk.removeWatches(root, 'data'), NoWatcherError);
      await assert.rejects(zk.removeWatches(`${root}/missing`, 'children'), NoWatcherError);
      // A one-shot watch that has fired is gone too.
      const log = new Recorder<WatchEvent>();
      await zk.get(root, { watch: log.listener });
      await other.set(root, 'x');
      await log.nth(1);
      await assert.rejects(zk.removeWatches(root, 'data', log.listener), NoWatcherError);
      // A watch of another kind, or another listener, does not match.
      await zk.getChildren(root, { watch: log.listener });
      await assert.rejects(zk.removeWatches(root, 'data'), NoWatcherError);
      await assert.rejects(
        zk.removeWatches(root, 'children', () => {}),
        NoWatcherError,
      );
      await zk.removeWatches(root, 'children', log.listener);
      assert.deepEqual(await log.nth(2), event('ChildWatchRemoved', root));
    });

    test('removing one of two one-shot listeners leaves the other working', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root, 'v0');
      const removed = new Recorder<WatchEvent>();
      const kept = new Recorder<WatchEvent>();
      await zk.get(root, { watch: removed.listener });
      await zk.get(root, { watch: kept.listener });
      await zk.removeWatches(root, 'data', removed.listener);
      assert.deepEqual(await removed.nth(1), event('DataWatchRemoved', root));
      assert.ok(
        (await serverWatchedPaths(server)).includes(root),
        'the shared server watch stays for the other listener',
      );
      await other.set(root, 'v1');
      assert.deepEqual(await kept.nth(1), event('NodeDataChanged', root));
      await eventFence(zk, other, root);
      assert.deepEqual(removed.calls, [event('DataWatchRemoved', root)]);
    });

    test('removing one of two persistent listeners leaves the other receiving events', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root);
      const removed = new Recorder<WatchEvent>();
      const kept = new Recorder<WatchEvent>();
      await zk.addWatch(root, removed.listener);
      await zk.addWatch(root, kept.listener);
      await other.set(root, '1');
      assert.deepEqual(await removed.nth(1), event('NodeDataChanged', root));
      await zk.removeWatches(root, 'persistent', removed.listener);
      assert.deepEqual(await removed.nth(2), event('PersistentWatchRemoved', root));
      await other.set(root, '2');
      await other.create(`${root}/c`);
      assert.deepEqual(await kept.waitForCount(3), [
        event('NodeDataChanged', root),
        event('NodeDataChanged', root),
        event('NodeChildrenChanged', root),
      ]);
      await eventFence(zk, other, root);
      assert.equal(removed.calls.length, 2);
      assert.equal(kept.calls.length, 3);
    });

    test('removing all data listeners of a path removes the server watch', async (t) => {
      const { zk, other, root } = await watcherAndWriter(t);
      await zk.create(root);
      const first = new Recorder<WatchEvent>();
      const second = new Recorder<WatchEvent>();
      await zk.get(root, { watch: first.listener });
      await zk.exists(root, { watch: second.listener });
      assert.ok((await serverWatchedPaths(server)).includes(root));
      await zk.removeWatches(root, 'data');
      assert.deepEqual(await first.nth(1), event('DataWatchRemoved', root));
      assert.deepEqual(await second.nth(1), event('DataWatchRemoved', root));
      assert.ok(!(await serverWatchedPaths(server)).includes(root));
      await other.set(root, 'x');
      await eventFence(zk, other, root);
      assert.equal(first.calls.length, 1);
      assert.equal(second.calls.length, 1);
      assert.equal(zk.watchCount, 0);
    });
  });

  describe('a watch-setting request given up on after it was sent', () => {
    /** `zk` behind a FaultProxy (to hold a reply back), a direct writer `other`, and a created `root`. */
    async function behindProxy(t: TestContext) {
      const proxy = await FaultProxy.start(server.connectString);
      t.after(() => proxy.close());
      const zk = await connect(t, proxy.connectString);
      const other = await connect(t, server);
      const root = uniqueRoot();
      await other.create(root);
      return { proxy, zk, other, root };
    }

    /**
     * Submit `request` with its reply held back past its 100 ms timeout; resolves once the late
     * reply has reached `zk` and a request `zk` sent while handling it has reached the server
     * (the server answers a session's requests in order, and the proxy keeps their order).
     */
    async function abandon(
      proxy: FaultProxy,
      zk: ZooKeeperClient,
      match: FrameMatch,
      request: (timeout: number) => Promise<unknown>,
    ): Promise<void> {
      const held = proxy.delayFrame(match, 500, 'reply');
      const error = await rejectsWithin(request(100), 'the request');
      assert.ok(error instanceof TimeoutError, String(error));
      assert.equal(error.outcomeUnknown, true);
      assert.equal((await within(held.happened, 'the reply')).reply?.err, 0, 'the server set the watch');
      await zk.sync('/'); // behind the late reply
      await zk.sync('/'); // behind anything sent while handling it
    }

    const cases: {
      name: string;
      op: FrameMatch['op'];
      set: (
        zk: ZooKeeperClient,
        root: string,
        watch: (e: WatchEvent) => void,
        timeout: number,
      ) => Promise<unknown>;
    }[] = [
      {
        name: 'addWatch',
        op: 'addWatch',
        set: (zk, root, watch, timeout) => zk.addWatch(root, watch, { timeout }),
      },
      {
        name: 'addWatch recursive',
        op: 'addWatch',
        set: (zk, root, watch, timeout) => zk.addWatch(root, watch, { timeout, recursive: true }),
      },
      { name: 'get', op: 'getData', set: (zk, root, watch, timeout) => zk.get(root, { watch, timeout }) },
      {
        name: 'exists',
        op: 'exists',
        set: (zk, root, watch, timeout) => zk.exists(root, { watch, timeout }),
      },
      {
        name: 'getChildren',
        op: 'getChildren',
        set: (zk, root, watch, timeout) => zk.getChildren(root, { watch, timeout }),
      },
    ];
    for (const { name, op, set } of cases) {
      test(`${name}: the server keeps no watch for it, and its listener is never called`, async (t) => {
        const { proxy, zk, other, root } = await behindProxy(t);
        const log = new Recorder<WatchEvent>();
        const before = await serverWatchCount(server);
        await abandon(proxy, zk, { op, path: root }, (timeout) => set(zk, root, log.listener, timeout));
        assert.equal(zk.watchCount, 0, 'not registered');
        assert.equal(await serverWatchCount(server), before, 'the server holds no watch for it');
        await other.set(root, 'changed');
        await other.create(`${root}/child`);
        await eventFence(zk, other, root);
        assert.deepEqual(log.calls, []);
      });
    }

    test('addWatch: a listener registered for the same path meanwhile keeps the shared server watch', async (t) => {
      const { proxy, zk, other, root } = await behindProxy(t);
      const abandoned = new Recorder<WatchEvent>();
      const kept = new Recorder<WatchEvent>();
      let second: Promise<void> | undefined;
      await abandon(proxy, zk, { op: 'addWatch', path: root }, (timeout) => {
        const first = zk.addWatch(root, abandoned.listener, { timeout });
        // Sent once the first gave up, while its reply is still held back: in flight when it comes.
        second = first.catch(() => zk.addWatch(root, kept.listener));
        return first;
      });
      await second;
      assert.equal(zk.watchCount, 1);
      assert.ok((await serverWatchedPaths(server)).includes(root), 'the server still holds the watch');
      await other.set(root, '1');
      assert.deepEqual(await kept.nth(1), event('NodeDataChanged', root));
      await eventFence(zk, other, root);
      assert.deepEqual(abandoned.calls, []);
    });
  });
});
