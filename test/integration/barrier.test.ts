/**
 * Barrier and DoubleBarrier against a real ZooKeeper server: kazoo's KazooBarrierTests and
 * KazooDoubleBarrierTests (kazoo 2.8 kazoo/tests/test_barrier.py, in our own words), the kazoo
 * 2.8 znode layout, timeouts and abort, and SUSPENDED / LOST through a FaultProxy and real
 * session expiry.
 *
 * Documented deviations from kazoo exercised here: failures reject (kazoo swallows them and
 * sets `participating = False`); a DoubleBarrier waiter whose session is lost rejects with
 * SessionLostError (kazoo waits forever); Barrier.wait() survives connection loss and sees a
 * removal that happened while disconnected (kazoo's watch is dropped).
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, test } from 'node:test';
import {
  AbortError,
  Barrier,
  ConnectionState,
  DoubleBarrier,
  NoChildrenForEphemeralsError,
  SessionLostError,
  TimeoutError,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import { connect, loseSessionAfter, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { children } from '../support/recipes.js';
import { eventually, grace, probe, rejectsWithin, safety, within } from '../support/wait.js';

const server = await serverForFile();

describe('Barrier: kazoo KazooBarrierTests', () => {
  test('test_barrier_not_exist: wait() on a barrier that was never raised resolves true', async (t) => {
    const zk = await connect(t, server);
    const barrier = new Barrier(zk, `${uniqueRoot('barrier')}/some/path`);
    assert.equal(await within(barrier.wait(), 'wait'), true);
    assert.equal(await zk.exists(barrier.path), null, 'wait() creates nothing');
  });

  test('test_barrier_exists: raised → wait({ timeout: 0 }) is false; removed → wait() is true', async (t) => {
    const zk = await connect(t, server);
    const barrier = new Barrier(zk, `${uniqueRoot('barrier')}/some/path`);
    await barrier.create();
    assert.equal(await barrier.wait({ timeout: 0 }), false);
    assert.equal(await barrier.remove(), true);
    assert.equal(await within(barrier.wait(), 'wait'), true);
  });

  test('test_remove_nonexistent_barrier: remove() of a missing barrier is false', async (t) => {
    const zk = await connect(t, server);
    assert.equal(await new Barrier(zk, uniqueRoot('barrier')).remove(), false);
  });
});

describe('Barrier: layout, waiting, limits', () => {
  test('create() makes <path> and its ancestors persistent and empty; a second create() is fine', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('barrier');
    const barrier = new Barrier(zk, `${root}/a/b`);
    await barrier.create();
    await barrier.create();
    for (const path of [root, `${root}/a`, `${root}/a/b`]) {
      const { data, stat } = await zk.get(path);
      assert.equal(data.length, 0, `${path} is empty`);
      assert.equal(stat.ephemeralOwner, 0n, `${path} is persistent`);
    }
    assert.deepEqual(await zk.getChildren(`${root}/a/b`), []);
  });

  test('waiters on several clients are all released when another client removes the barrier', async (t) => {
    const [zkA, zkB, zkC] = await Promise.all([connect(t, server), connect(t, server), connect(t, server)]);
    const path = uniqueRoot('barrier');
    await new Barrier(zkA, path).create();
    const waits = [probe(new Barrier(zkA, path).wait()), probe(new Barrier(zkB, path).wait())];
    await grace();
    assert.deepEqual(
      waits.map((w) => w.settled),
      [false, false],
      'blocked while the barrier stands',
    );
    assert.equal(await new Barrier(zkC, path).remove(), true);
    assert.deepEqual(await within(Promise.all(waits.map((w) => w.promise)), 'both waiters'), [true, true]);
  });

  test('wait({ timeout }) resolves false while the barrier stands and leaves no watch behind', async (t) => {
    const zk = await connect(t, server);
    const barrier = new Barrier(zk, uniqueRoot('barrier'));
    await barrier.create();
    const before = zk.watchCount;
    assert.equal(await within(barrier.wait({ timeout: timing(200) }), 'timed wait'), false);
    await eventually(() => zk.watchCount === before, 'the exists watch is removed');
  });

  test('wait({ signal }) rejects with AbortError when aborted', async (t) => {
    const zk = await connect(t, server);
    const barrier = new Barrier(zk, uniqueRoot('barrier'));
    await barrier.create();
    const controller = new AbortController();
    const waiting = barrier.wait({ signal: controller.signal });
    await grace();
    controller.abort();
    assert.ok((await rejectsWithin(waiting, 'aborted wait')) instanceof AbortError);
  });

  test('SUSPENDED: removed while the waiter is disconnected (cannot reconnect) → wait() is true after the reconnect', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zkWaiter = await connect(t, proxy.connectString);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('barrier');
    await new Barrier(zkOther, path).create();
    const waiting = probe(new Barrier(zkWaiter, path).wait());
    await grace();
    const suspended = nextState(zkWaiter, ConnectionState.SUSPENDED, safety());
    const connected = nextState(zkWaiter, ConnectionState.CONNECTED, safety());
    proxy.refuse();
    proxy.drop();
    await suspended;
    assert.equal(await new Barrier(zkOther, path).remove(), true);
    await grace();
    assert.equal(waiting.settled, false, 'cannot know before the reconnect');
    proxy.accept();
    await connected;
    assert.equal(await within(waiting.promise, 'wait after the reconnect'), true);
  });

  test('LOST: the waiter session expires (for real); it keeps waiting in the new session and sees the removal', async (t) => {
    const zkWaiter = await connect(t, server);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('barrier');
    await new Barrier(zkOther, path).create();
    const waiting = probe(new Barrier(zkWaiter, path).wait());
    await grace();
    const lost = nextState(zkWaiter, ConnectionState.LOST, safety());
    const connected = nextState(zkWaiter, ConnectionState.CONNECTED, safety());
    await server.expireSession(zkWaiter);
    await lost;
    await connected;
    await grace();
    assert.equal(waiting.settled, false, 'the barrier (persistent) still stands');
    await new Barrier(zkOther, path).remove();
    assert.equal(await within(waiting.promise, 'wait in the new session'), true);
  });
});

describe('DoubleBarrier: kazoo KazooDoubleBarrierTests', () => {
  test('test_basic_barrier: with one client, enter() makes it participate and leave() ends it', async (t) => {
    const zk = await connect(t, server);
    const barrier = new DoubleBarrier(zk, `${uniqueRoot('dbarrier')}/some/path`, 1);
    assert.equal(barrier.participating, false);
    await within(barrier.enter(), 'enter');
    assert.equal(barrier.participating, true);
    await within(barrier.leave(), 'leave');
    assert.equal(barrier.participating, false);
    assert.deepEqual(await children(zk, barrier.path), [], 'our node and ready are gone');
  });

  test('test_two_barrier: neither passes enter() alone; both participate once both entered; leave() releases both', async (t) => {
    const [zk1, zk2] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('dbarrier');
    const b1 = new DoubleBarrier(zk1, path, 2, { identifier: 'one' });
    const b2 = new DoubleBarrier(zk2, path, 2, { identifier: 'two' });
    const enter1 = probe(b1.enter());
    await eventually(async () => (await children(zk1, path)).includes(b1.nodeName), 'b1 node');
    await grace();
    assert.equal(enter1.settled, false, 'b1 waits alone');
    assert.equal(b1.participating, false);
    assert.equal(b2.participating, false);
    await within(Promise.all([enter1.promise, b2.enter()]), 'both enter');
    assert.equal(b1.participating, true);
    assert.equal(b2.participating, true);
    await within(Promise.all([b1.leave(), b2.leave()]), 'both leave');
    assert.equal(b1.participating, false);
    assert.equal(b2.participating, false);
    assert.deepEqual(await children(zk1, path), []);
  });

  test('test_three_barrier: two waiters are released by the third participant; all three leave', async (t) => {
    const [zk1, zk2, zk3] = await Promise.all([connect(t, server), connect(t, server), connect(t, server)]);
    const path = uniqueRoot('dbarrier');
    const [b1, b2, b3] = [zk1, zk2, zk3].map(
      (zk, i) => new DoubleBarrier(zk, path, 3, { identifier: `p${i}` }),
    ) as [DoubleBarrier, DoubleBarrier, DoubleBarrier];
    const entering = [probe(b1.enter()), probe(b2.enter())];
    await eventually(async () => (await children(zk1, path)).length === 2, 'two participant nodes');
    await grace();
    assert.deepEqual(
      entering.map((e) => e.settled),
      [false, false],
      'two of three wait',
    );
    await within(b3.enter(), 'the third enters at once');
    await within(Promise.all(entering.map((e) => e.promise)), 'the two waiters are released');
    assert.deepEqual(
      [b1, b2, b3].map((b) => b.participating),
      [true, true, true],
    );
    const leaving = [probe(b1.leave()), probe(b2.leave())];
    await within(b3.leave(), 'b3 leaves');
    await within(Promise.all(leaving.map((l) => l.promise)), 'all leave');
    assert.deepEqual(
      [b1, b2, b3].map((b) => b.participating),
      [false, false, false],
    );
  });

  test('test_barrier_existing_parent_node: the parent is ephemeral → enter() rejects (kazoo swallows), not participating', async (t) => {
    const zk = await connect(t, server);
    const some = uniqueRoot('dbarrier');
    await zk.create(some, null, { ephemeral: true });
    const barrier = new DoubleBarrier(zk, `${some}/path`, 1);
    assert.equal(barrier.participating, false);
    const error = await rejectsWithin(barrier.enter(), 'enter under an ephemeral');
    assert.ok(
      error instanceof NoChildrenForEphemeralsError,
      `NoChildrenForEphemeralsError, got ${String(error)}`,
    );
    assert.equal(barrier.participating, false);
  });

  test('test_barrier_existing_node: our node pre-created → enter() reuses it and participates; leave() works', async (t) => {
    const zk = await connect(t, server);
    const barrier = new DoubleBarrier(zk, uniqueRoot('dbarrier'), 1);
    assert.equal(barrier.participating, false);
    await zk.ensurePath(barrier.path);
    await zk.create(barrier.nodePath, null, { ephemeral: true });
    await within(barrier.enter(), 'enter');
    assert.equal(barrier.participating, true);
    await within(barrier.leave(), 'leave');
    assert.equal(barrier.participating, false);
    assert.equal(await zk.exists(barrier.nodePath), null);
  });
});

describe('DoubleBarrier: layout, kazoo quirks, limits', () => {
  test('layout: <32hex> ephemeral participant nodes with the identifier; persistent empty ready; default identifier host-pid', async (t) => {
    const [zk1, zk2] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('dbarrier');
    const b1 = new DoubleBarrier(zk1, path, 2, { identifier: 'wörker-1' });
    const b2 = new DoubleBarrier(zk2, path, 2);
    assert.equal(b2.identifier, `${hostname()}-${process.pid}`);
    assert.match(b1.nodeName, /^[0-9a-f]{32}$/);
    await within(Promise.all([b1.enter(), b2.enter()]), 'enter');
    assert.deepEqual((await zk1.getChildren(path)).sort(), [b1.nodeName, b2.nodeName, 'ready'].sort());
    const mine = await zk1.get(b1.nodePath);
    assert.equal(mine.data.toString('utf8'), 'wörker-1');
    assert.equal(mine.stat.ephemeralOwner, zk1.sessionId);
    assert.equal((await zk1.get(b2.nodePath)).data.toString('utf8'), b2.identifier);
    const ready = await zk1.get(`${path}/ready`);
    assert.equal(ready.data.length, 0);
    assert.equal(ready.stat.ephemeralOwner, 0n, 'ready is persistent');
    assert.equal((await zk1.get(path)).stat.ephemeralOwner, 0n);
    await within(Promise.all([b1.leave(), b2.leave()]), 'leave');
    assert.deepEqual(await zk1.getChildren(path), []);
  });

  test('kazoo rule: entry counts every child, so a stale ready lets a lone participant of two through', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dbarrier');
    await zk.create(`${path}/ready`, null, { makePath: true });
    const barrier = new DoubleBarrier(zk, path, 2);
    await within(barrier.enter(), 'enter with a stale ready');
    assert.equal(barrier.participating, true);
    await within(barrier.leave(), 'leave');
  });

  test('leave() blocks until every participant has left', async (t) => {
    const [zk1, zk2] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('dbarrier');
    const b1 = new DoubleBarrier(zk1, path, 2);
    const b2 = new DoubleBarrier(zk2, path, 2);
    await within(Promise.all([b1.enter(), b2.enter()]), 'enter');
    const leaving = probe(b1.leave());
    await grace();
    assert.equal(leaving.settled, false, 'b1 waits for b2 to leave');
    await within(b2.leave(), 'b2 leaves');
    await within(leaving.promise, 'b1 done');
    assert.deepEqual(await zk1.getChildren(path), []);
  });

  test('enter({ timeout }) alone rejects with TimeoutError and deletes our node; abort rejects with AbortError', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dbarrier');
    const barrier = new DoubleBarrier(zk, path, 2);
    const error = await rejectsWithin(barrier.enter({ timeout: timing(300) }), 'timed enter');
    assert.ok(error instanceof TimeoutError, `TimeoutError, got ${String(error)}`);
    assert.equal(barrier.participating, false);
    assert.deepEqual(await children(zk, path), []);
    const controller = new AbortController();
    const entering = barrier.enter({ signal: controller.signal });
    await eventually(async () => (await children(zk, path)).length === 1, 'node created');
    controller.abort();
    assert.ok((await rejectsWithin(entering, 'aborted enter')) instanceof AbortError);
    assert.deepEqual(await children(zk, path), []);
  });

  test('SUSPENDED: a waiter whose connection drops is still released by the last participant (same session)', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zkWaiter = await connect(t, proxy.connectString);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('dbarrier');
    const waiterBarrier = new DoubleBarrier(zkWaiter, path, 2);
    const entering = probe(waiterBarrier.enter());
    await eventually(async () => (await children(zkOther, path)).length === 1, 'waiter node');
    const sessionBefore = zkWaiter.sessionId;
    const suspended = nextState(zkWaiter, ConnectionState.SUSPENDED, safety());
    proxy.refuse();
    proxy.drop();
    await suspended;
    const other = new DoubleBarrier(zkOther, path, 2);
    await within(other.enter(), 'the second participant enters (the waiter node still counts)');
    proxy.accept();
    await within(entering.promise, 'the waiter passes after the reconnect');
    assert.equal(zkWaiter.sessionId, sessionBefore);
    assert.equal(waiterBarrier.participating, true);
    await within(Promise.all([waiterBarrier.leave(), other.leave()]), 'leave');
  });

  test('LOST in enter(): the waiter session expires (for real) → SessionLostError, not participating, its node is gone', async (t) => {
    const zkWaiter = await connect(t, server);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('dbarrier');
    const barrier = new DoubleBarrier(zkWaiter, path, 2);
    const entering = barrier.enter();
    await eventually(async () => (await children(zkOther, path)).length === 1, 'waiter node');
    await server.expireSession(zkWaiter);
    const error = await rejectsWithin(entering, 'enter after the session was lost');
    assert.ok(error instanceof SessionLostError, `SessionLostError, got ${String(error)}`);
    assert.equal(barrier.participating, false);
    assert.deepEqual(await children(zkOther, path), [], 'the group no longer counts it');
  });

  test('LOST in leave(): the lowest participant waits for the other; its session expires → SessionLostError', async (t) => {
    const [zk1, zk2] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('dbarrier');
    const b1 = new DoubleBarrier(zk1, path, 2);
    const b2 = new DoubleBarrier(zk2, path, 2);
    await within(Promise.all([b1.enter(), b2.enter()]), 'enter');
    const [lowest, other] = b1.nodeName < b2.nodeName ? [b1, b2] : [b2, b1];
    const leaving = lowest.leave();
    await grace();
    await server.expireSession(lowest.client);
    const error = await rejectsWithin(leaving, 'leave after the session was lost');
    assert.ok(error instanceof SessionLostError, `SessionLostError, got ${String(error)}`);
    assert.equal(lowest.participating, false);
    await within(other.leave(), 'the other leaves alone');
    assert.deepEqual(await children(zk1, path), []);
  });
});

describe('DoubleBarrier: lost replies (frame proxy)', () => {
  test("an enter whose create reply is lost passes with one node of ours; across LOST the old session's node is never adopted", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 2000 });
    const [observer, other] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('dbarrier');
    await observer.create(path, null);
    const barrier = new DoubleBarrier(zk, path, 2);
    const partner = new DoubleBarrier(other, path, 2);

    const swallowed = proxy.swallowReply({ op: 'create2', path: barrier.nodePath });
    await within(Promise.all([barrier.enter(), partner.enter()]), 'both enter after a lost create reply');
    assert.equal(swallowed.fired, 1, 'the reply was lost');
    assert.equal((await observer.exists(barrier.nodePath))?.ephemeralOwner, zk.sessionId);
    await within(Promise.all([barrier.leave(), partner.leave()]), 'both leave');

    const oldSession = zk.sessionId;
    const lost = proxy.swallowReply({ op: 'create2', path: barrier.nodePath }, { then: 'blackhole' });
    const entering = probe(barrier.enter());
    await loseSessionAfter(zk, proxy, lost);
    assert.notEqual(zk.sessionId, oldSession);
    await grace();
    assert.equal(entering.settled, false, 'alone, it still waits');
    await eventually(
      async () => (await observer.exists(barrier.nodePath))?.ephemeralOwner === zk.sessionId,
      "our node belongs to the new session (the old one's was replaced, not adopted)",
    );
    await within(Promise.all([entering.promise, partner.enter()]), 'both enter in the new session');
    assert.deepEqual(
      (await children(observer, path)).sort(),
      [barrier.nodeName, partner.nodeName, 'ready'].sort(),
    );
    await within(Promise.all([barrier.leave(), partner.leave()]), 'both leave');
    assert.deepEqual(await children(observer, path), []);
  });
});

describe('Barrier: two waiters on one client (issue 11, scenario 2)', () => {
  test("scenario 2: the first wait() times out while the second one's watching exists is in flight; the second is still woken by remove()", async (t) => {
    const proxy = await FaultProxy.start(server.connectString);
    t.after(() => proxy.close());
    const zk = await connect(t, proxy.connectString);
    const direct = await connect(t, server);
    const path = uniqueRoot('barrier');
    const barrier = new Barrier(direct, path);
    await barrier.create();
    const first = probe(new Barrier(zk, path).wait({ timeout: 600 }));
    await eventually(() => zk.watchCount === 1, 'the first waiter watches');
    proxy.setDelay(500); // the second waiter's exists reaches the server ~500 ms later, its reply ~1 s later
    const second = probe(new Barrier(zk, path).wait());
    assert.equal(await within(first.promise, 'the first wait() times out'), false);
    assert.equal(second.settled, false);
    await eventually(() => zk.watchCount === 1, 'the second waiter watches');
    proxy.setDelay(0);
    await zk.sync(path); // a round trip behind anything the first waiter's removal sent
    await barrier.remove();
    assert.equal(await within(second.promise, 'the second wait() sees the removal'), true);
    assert.equal(zk.watchCount, 0);
  });
});
