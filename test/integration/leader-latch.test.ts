/**
 * LeaderLatch against a real ZooKeeper server (Curator's TestLeaderLatch adapted): one leader
 * among several, hand-over on close, Curator's node layout, awaitLeadership's limits, the
 * events iterator, SUSPENDED (leadership ends and comes back on the same session; not with
 * `ownershipLostOn: 'LOST'`), LOST (a real expiry: another leads, ours joins again with a new
 * node) and a create whose reply was lost across a session change (never a second leader).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbortError,
  ConnectionLossError,
  ConnectionState,
  LeaderLatch,
  LockLostError,
  NotHeldError,
  RecipeStateError,
} from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, dropConnection, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { children, loseReplyAcrossSessions } from '../support/recipes.js';
import { Recorder } from '../support/recorder.js';
import { eventually, grace, safety, within } from '../support/wait.js';

// The container reaper runs every second (default: every minute).
const server = await serverForFile({ javaOptions: ['-Dznode.container.checkIntervalMs=1000'] });

function leaders(latches: readonly LeaderLatch[]): number {
  return latches.filter((latch) => latch.hasLeadership()).length;
}

describe('LeaderLatch', () => {
  test("one leader among three, Curator's layout and data, hand-over on close, participants leader first", async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('latch');
    const latches = ['a', 'b', 'c'].map((identifier) => new LeaderLatch(zk, path, { identifier }));
    await latches[0]!.start();
    assert.equal(await latches[0]!.awaitLeadership({ timeout: 10_000 }), true);
    for (const latch of latches.slice(1)) await latch.start();
    assert.equal(leaders(latches), 1);
    assert.equal(latches[0]!.hasLeadership(), true, 'the first to join leads');
    const nodes = await children(zk, path);
    assert.equal(nodes.length, 3);
    for (const node of nodes)
      assert.match(node, /^_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-latch-\d{10}$/);
    assert.equal((await zk.get(latches[1]!.nodePath!)).data.toString(), 'b', 'data = identifier');
    assert.deepEqual(await latches[2]!.participants(), [
      { id: 'a', isLeader: true },
      { id: 'b', isLeader: false },
      { id: 'c', isLeader: false },
    ]);
    const token = latches[0]!.fencingToken;
    const signal = latches[0]!.signal;
    assert.equal(signal.aborted, false);
    assert.throws(() => latches[1]!.fencingToken, NotHeldError);

    await latches[0]!.close();
    assert.equal(signal.aborted, true, 'close ends leadership');
    assert.equal(await latches[1]!.awaitLeadership({ timeout: 10_000 }), true, 'b is next');
    assert.equal(leaders(latches), 1);
    assert.ok(latches[1]!.fencingToken > token, 'the new leader has a greater token');
    await latches[1]!.close();
    assert.equal(await latches[2]!.awaitLeadership({ timeout: 10_000 }), true);
    assert.deepEqual(await latches[2]!.leader(), { id: 'c', isLeader: true });
    await latches[2]!.close();
    assert.deepEqual(await children(zk, path), [], 'no node left');
  });

  test('the latch path and its parents are containers, as Curator 5 makes them: gone once the last latch closes', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('latch');
    const latch = new LeaderLatch(zk, `${root}/app/leader`);
    await latch.start();
    assert.equal(await latch.awaitLeadership({ timeout: 10_000 }), true);
    await latch.close();
    await eventually(async () => (await zk.exists(root)) === null, 'removed by the server', safety(30_000));
  });

  test('awaitLeadership: false after its timeout or when not started; AbortError on abort; start twice throws', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('latch');
    const leader = new LeaderLatch(zk, path, { identifier: 'leader' });
    const waiter = new LeaderLatch(zk, path, { identifier: 'waiter' });
    assert.equal(await waiter.awaitLeadership({ timeout: 10_000 }), false, 'not started');
    await leader.start();
    await waiter.start();
    assert.throws(() => void waiter.start(), RecipeStateError);
    assert.equal(await waiter.awaitLeadership({ timeout: 200 }), false, 'timed out');
    const controller = new AbortController();
    const aborted = waiter.awaitLeadership({ signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, AbortError);
    const pending = waiter.awaitLeadership();
    await waiter.close();
    assert.equal(await within(pending, 'a wait ends on close'), false);
    assert.equal(leader.hasLeadership(), true);
    await leader.close();
  });

  test('events: isLeader then notLeader; the iterator ends on close', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('latch');
    const first = new LeaderLatch(zk, path, { identifier: 'first' });
    const second = new LeaderLatch(zk, path, { identifier: 'second', closeMode: 'notifyLeader' });
    const controller = new AbortController();
    t.after(() => controller.abort());
    const firstEvents = Recorder.from(first.events({ signal: controller.signal })).calls;
    const secondEvents = Recorder.from(second.events({ signal: controller.signal })).calls;
    let ended = false;
    const iterating = (async () => {
      for await (const _ of second.events()) void _;
      ended = true;
    })();
    await first.start();
    await second.start();
    await eventually(() => firstEvents.length === 1, 'first: isLeader');
    assert.deepEqual(firstEvents, ['isLeader']);
    await first.close();
    assert.deepEqual(firstEvents, ['isLeader'], "closeMode 'silent': no notLeader");
    await eventually(() => secondEvents.length === 1, 'second: isLeader');
    await second.close();
    assert.deepEqual(secondEvents, ['isLeader', 'notLeader'], "closeMode 'notifyLeader'");
    await within(iterating, 'the iterator ends on close');
    assert.equal(ended, true);
  });

  test("SUSPENDED (proxy drop): leadership ends and returns on the same session, same token; not with ownershipLostOn: 'LOST'", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('latch');
    const strict = new LeaderLatch(zk, path, { identifier: 'strict' });
    const lenient = new LeaderLatch(zk, uniqueRoot('latch'), {
      identifier: 'lenient',
      ownershipLostOn: 'LOST',
    });
    const other = new LeaderLatch(zkOther, path, { identifier: 'other' });
    const controller = new AbortController();
    t.after(() => controller.abort());
    const events = Recorder.from(strict.events({ signal: controller.signal })).calls;
    await strict.start();
    await lenient.start();
    await other.start();
    assert.equal(strict.hasLeadership() && lenient.hasLeadership(), true);
    const token = strict.fencingToken;
    const strictSignal = strict.signal;
    const lenientSignal = lenient.signal;

    const { suspended, reconnected: connected } = dropConnection(zk, proxy);
    await suspended;
    assert.equal(strict.hasLeadership(), false, 'SUSPENDED ends leadership (Curator default)');
    assert.equal(strictSignal.aborted, true);
    assert.ok(strictSignal.reason instanceof ConnectionLossError, String(strictSignal.reason));
    assert.equal(lenient.hasLeadership(), true, "ownershipLostOn: 'LOST' keeps it");
    assert.equal(lenientSignal.aborted, false);
    await connected;
    assert.equal(await strict.awaitLeadership({ timeout: 10_000 }), true, 'leads again once reconnected');
    assert.equal(strict.fencingToken, token, 'the same node');
    assert.equal(strict.signal.aborted, false, 'a fresh signal');
    assert.equal(other.hasLeadership(), false);
    await eventually(() => events.length === 3, 'three events');
    assert.deepEqual(events, ['isLeader', 'notLeader', 'isLeader']);
    assert.equal(lenient.signal, lenientSignal, 'the same signal');
    await Promise.all([strict.close(), lenient.close()]);
    assert.equal(await other.awaitLeadership({ timeout: 10_000 }), true);
    await other.close();
  });

  test('LOST (real expiry, ownershipLostOn: LOST): leadership ends with LockLostError, another leads, ours joins again with a new node', async (t) => {
    const zk = await connect(t, server);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('latch');
    // The default policy would end leadership at the SUSPENDED before LOST already.
    const first = new LeaderLatch(zk, path, { identifier: 'first', ownershipLostOn: 'LOST' });
    const other = new LeaderLatch(zkOther, path, { identifier: 'other' });
    await first.start();
    await other.start();
    const oldNode = first.nodePath;
    const signal = first.signal;
    const lost = nextState(zk, ConnectionState.LOST);
    await server.expireSession(zk);
    await lost;
    assert.equal(first.hasLeadership(), false);
    assert.ok(signal.reason instanceof LockLostError, String(signal.reason));
    assert.equal(await other.awaitLeadership({ timeout: 10_000 }), true, 'the other leads');
    await eventually(async () => (await other.participants()).length === 2, 'ours joined again');
    assert.notEqual(first.nodePath, oldNode, 'a new node');
    assert.deepEqual(await other.participants(), [
      { id: 'other', isLeader: true },
      { id: 'first', isLeader: false },
    ]);
    assert.equal(first.hasLeadership(), false);
    await other.close();
    assert.equal(await first.awaitLeadership({ timeout: 10_000 }), true);
    await first.close();
  });

  test('a create whose reply was lost across a session change: the old node is deleted, never adopted; one leader', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 4_000 });
    const zkOther = await connect(t, server);
    const path = uniqueRoot('latch');
    await zkOther.ensurePath(path);
    const latch = new LeaderLatch(zk, path, { identifier: 'ours' });
    const lost = await loseReplyAcrossSessions(
      t,
      server,
      proxy,
      zk,
      { op: 'create2', path: (p) => p.startsWith(`${path}/`) },
      () => latch.start(),
    );
    const [stale] = await children(zkOther, path);
    assert.ok(stale, 'the create was applied in the old session');
    const other = new LeaderLatch(zkOther, path, { identifier: 'other' });
    await other.start();
    assert.equal(other.hasLeadership(), false, 'the old session still holds the lowest node');
    await lost.reconnect();
    await within(lost.result, 'start resolves in the new session');
    await eventually(async () => !(await children(zkOther, path)).includes(stale), 'the stale node deleted');
    assert.equal(await other.awaitLeadership({ timeout: 10_000 }), true, 'other leads');
    await grace();
    assert.equal(latch.hasLeadership(), false, 'never a second leader');
    assert.deepEqual(
      (await other.participants()).map((p) => p.id),
      ['other', 'ours'],
    );
    await lost.expireOld();
    await Promise.all([latch.close(), other.close()]);
  });
});
