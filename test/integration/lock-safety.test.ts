/**
 * The Lock's safety under faults: many clients increment a shared counter under the lock
 * while their connections are dropped at random; a release issued while disconnected; and
 * issue 11 scenario 1, a create whose reply is lost across a session change (with the same
 * lost-reply shape for Semaphore and Election: never two holders, never two leaders).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  ConnectionState,
  Election,
  Lock,
  Semaphore,
  TransactionError,
  ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { children, CriticalSection, HolderTracker, loseReplyAcrossSessions } from '../support/recipes.js';
import { Deferred, eventually, grace, within } from '../support/wait.js';
import { testRandom } from '../support/random.js';

const server = await serverForFile();

interface Section {
  client: number;
  token: bigint;
  start: number;
  end: number;
}

test('8 clients × 12 increments under the lock with random connection drops: no overlap, no lost update', async (t) => {
  const CLIENTS = 8;
  const ITERATIONS = 12;
  const random = testRandom(t);
  const root = uniqueRoot('safety');
  const lockPath = `${root}/lock`;
  const counterPath = `${root}/counter`;
  const admin = await connect(t, server);
  await admin.create(counterPath, '0', { makePath: true });

  const proxies = await Promise.all(
    Array.from({ length: CLIENTS }, () => FaultProxy.start(server.connectString)),
  );
  t.after(() => Promise.all(proxies.map((p) => p.close())));
  const clients: ZooKeeperClient[] = [];
  for (const proxy of proxies) clients.push(await connect(t, proxy.connectString, { sessionTimeout: 8000 }));

  const sections: Section[] = [];
  let committed = 0;
  let abandoned = 0;
  let inside = 0;
  let overlapSeen = false;

  const worker = async (index: number) => {
    const zk = clients[index]!;
    const lock = new Lock(zk, lockPath, { identifier: `client-${index}` });
    for (let i = 0; i < ITERATIONS;) {
      if (!(await lock.acquire({ timeout: timing(20_000) }))) continue;
      const start = performance.now();
      inside++;
      if (inside > 1) overlapSeen = true;
      const token = lock.fencingToken;
      try {
        const { data, stat } = await zk.get(counterPath);
        const next = Number(data.toString()) + 1;
        // Commits only while our lock node exists and nobody wrote in between.
        await lock.transaction().set(counterPath, String(next), { version: stat.version }).commit();
        committed++;
        i++;
        sections.push({ client: index, token, start, end: performance.now() });
      } catch (error) {
        // A drop during the write: the outcome is unknown or refused; the counter check below
        // proves no update was lost or applied twice.
        if (!(error instanceof TransactionError) && !(error as Error).name.includes('ConnectionLoss'))
          throw error;
        abandoned++;
      } finally {
        inside--;
        await lock.release();
      }
    }
  };

  let faults = 0;
  let running = true;
  const chaos = (async () => {
    while (running && faults < 25) {
      await new Promise((resolve) => setTimeout(resolve, 50 + random() * 250));
      if (!running) break;
      proxies[Math.floor(random() * CLIENTS)]!.drop();
      faults++;
    }
  })();
  await within(Promise.all(clients.map((_, i) => worker(i))), 'all workers', timing(120_000));
  running = false;
  await chaos;

  t.diagnostic(`faults ${faults}, committed ${committed}, abandoned ${abandoned}`);
  assert.equal(overlapSeen, false, 'two critical sections overlapped');
  const final = Number((await admin.get(counterPath)).data.toString());
  // Abandoned writes whose commit was applied before the reply was lost count too, so the
  // counter may exceed the acknowledged commits by at most the abandoned attempts.
  assert.ok(
    final >= committed && final <= committed + abandoned,
    `counter ${final}, committed ${committed}, abandoned ${abandoned}`,
  );
  assert.equal(committed, CLIENTS * ITERATIONS);
  // Ordered by fencing token, sections never overlap in time and tokens are unique.
  const byToken = [...sections].sort((a, b) => (a.token < b.token ? -1 : 1));
  assert.equal(new Set(byToken.map((s) => s.token)).size, byToken.length, 'a fencing token was reused');
  for (let i = 1; i < byToken.length; i++) {
    assert.ok(
      byToken[i]!.start >= byToken[i - 1]!.end,
      `section of token ${byToken[i]!.token} started before ${byToken[i - 1]!.token} ended`,
    );
  }
  assert.ok(faults > 0);
  assert.deepEqual(await admin.getChildren(lockPath), [], 'no contender node left behind');
});

test('release while disconnected: isAcquired false at once, node deleted after the reconnect, a waiter acquires', async (t) => {
  const proxy = await FaultProxy.start(server.connectString);
  t.after(() => proxy.close());
  const holderClient = await connect(t, proxy.connectString, { sessionTimeout: 10_000 });
  const waiterClient = await connect(t, server);
  const path = uniqueRoot('release-offline');
  const holder = new Lock(holderClient, path);
  const waiter = new Lock(waiterClient, path);
  assert.equal(await holder.acquire(), true);
  const waiting = waiter.acquire();
  await eventually(async () => (await waiterClient.getChildren(path)).length === 2, 'the waiter queued');

  proxy.refuse();
  proxy.drop();
  await nextState(holderClient, ConnectionState.SUSPENDED);
  const released = holder.release();
  assert.equal(holder.isAcquired, false);
  assert.equal(holder.signal.aborted, true);
  assert.equal(
    (await waiterClient.getChildren(path)).length,
    2,
    'the node stays until the delete reaches the server',
  );

  proxy.accept();
  assert.equal(await within(released, 'released'), true);
  assert.equal(await within(waiting, 'waiting'), true);
  assert.equal(holderClient.state, ConnectionState.CONNECTED);
  await waiter.release();
});

/** A client through its own proxy with a short session (4 s: LOST comes soon), and a direct one. */
async function lostReplySetup(t: TestContext, name: string) {
  const root = uniqueRoot(name);
  const admin = await connect(t, server);
  const proxy = await FaultProxy.start(server.connectString);
  t.after(() => proxy.close());
  const zkA = await connect(t, proxy.connectString, { sessionTimeout: 4000 });
  const zkB = await connect(t, server);
  return { root, admin, proxy, zkA, zkB };
}

test("scenario 1: a Lock whose create reply is lost across a session change never adopts its old session's node — no two holders, a fencing token of its own session", async (t) => {
  const { root, admin, proxy, zkA, zkB } = await lostReplySetup(t, 'scenario1');
  const path = `${root}/lock`;
  await admin.ensurePath(path);
  const tracker = new HolderTracker();
  const a = tracker.add(new Lock(zkA, path, { identifier: 'A' }));
  const b = tracker.add(new Lock(zkB, path, { identifier: 'B' }));
  const track = (lock: Lock) => (acquired: boolean) => {
    if (acquired) tracker.acquired(lock);
    return acquired;
  };
  const lost = await loseReplyAcrossSessions(
    t,
    server,
    proxy,
    zkA,
    { op: 'create2', path: (p) => p.startsWith(`${path}/`) },
    () => a.acquire().then(track(a)),
  );
  const bAcquired = b.acquire().then(track(b)); // waits behind A's node of the old session
  await eventually(
    async () => (await children(admin, path)).length === 2,
    "B queued behind the old session's node",
  );
  await lost.reconnect();
  await eventually(() => a.isAcquired || b.isAcquired, 'someone holds on the new session');
  await lost.expireOld(); // the server ends the old session: its node goes
  assert.equal(await within(bAcquired, 'B acquires'), true);
  await grace(300);
  tracker.assertClean();
  assert.equal(a.isAcquired, false, 'A and B both held the lock');
  await b.release();
  assert.equal(await within(lost.result, 'A acquires after B'), true);
  const stat = await admin.exists(a.nodePath!);
  assert.ok(stat, 'A holds through a node that exists');
  assert.equal(stat.ephemeralOwner, zkA.sessionId, "A's node belongs to its current session");
  assert.equal(a.fencingToken, stat.czxid, "A's fencing token is its own node's czxid");
  await a.release();
  tracker.assertClean();
  assert.deepEqual(await children(admin, path), [], 'no contender node left behind');
});

test("lost create reply across a session change: a Semaphore never counts its old session's lease — no two holders of one lease", async (t) => {
  const { root, admin, proxy, zkA, zkB } = await lostReplySetup(t, 'sem-lost-reply');
  const path = `${root}/sem`;
  const tracker = new HolderTracker();
  const a = tracker.add(new Semaphore(zkA, path, { identifier: 'A', maxLeases: 1 }));
  const b = tracker.add(new Semaphore(zkB, path, { identifier: 'B', maxLeases: 1 }));
  const track = (sem: Semaphore) => (acquired: boolean) => {
    if (acquired) tracker.acquired(sem);
    return acquired;
  };
  await admin.create(path, '1', { makePath: true });
  // The lease is created in a multi that checks A's internal lock node.
  const lost = await loseReplyAcrossSessions(t, server, proxy, zkA, { op: 'multi', path: a.leasePath }, () =>
    a.acquire().then(track(a)),
  );
  const bAcquired = b.acquire().then(track(b));
  await lost.reconnect();
  await eventually(() => a.isAcquired || b.isAcquired, 'someone holds a lease on the new session');
  await lost.expireOld();
  assert.equal(await within(bAcquired, 'B acquires'), true);
  await grace(300);
  tracker.assertClean();
  assert.equal(a.isAcquired, false, 'A and B both held the only lease');
  await b.release();
  assert.equal(await within(lost.result, 'A acquires after B'), true);
  const stat = await admin.exists(a.leasePath);
  assert.equal(stat?.ephemeralOwner, zkA.sessionId, "A's lease belongs to its current session");
  assert.equal(a.fencingToken, stat?.czxid);
  await a.release();
  assert.deepEqual(await children(admin, path), [], 'no lease left behind');
});

test('lost create reply across a session change: an Election never makes two leaders', async (t) => {
  const { root, admin, proxy, zkA, zkB } = await lostReplySetup(t, 'election-lost-reply');
  const path = `${root}/election`;
  await admin.ensurePath(path);
  const leaders = new CriticalSection();
  const a = new Election(zkA, path, { identifier: 'A' });
  const b = new Election(zkB, path, { identifier: 'B' });
  const stepDown = { A: new Deferred(), B: new Deferred() };
  const lead = (who: 'A' | 'B') => async () => {
    leaders.enter(who);
    await stepDown[who].promise;
    leaders.leave(who);
  };
  const lost = await loseReplyAcrossSessions(
    t,
    server,
    proxy,
    zkA,
    { op: 'create2', path: (p) => p.startsWith(`${path}/`) },
    () => a.run(lead('A')),
  );
  const bRan = b.run(lead('B'));
  await eventually(
    async () => (await children(admin, path)).length === 2,
    "B is a candidate behind the old session's node",
  );
  await lost.reconnect();
  await eventually(() => a.isLeader || b.isLeader, 'someone leads on the new session');
  await lost.expireOld();
  await eventually(() => b.isLeader, 'B leads once the old session ended');
  await grace(300);
  assert.deepEqual(leaders.overlaps, [], 'never two leaders');
  assert.equal(a.isLeader, false);
  stepDown.B.resolve();
  await within(bRan, 'B steps down');
  await eventually(() => a.isLeader, 'A leads after B');
  stepDown.A.resolve();
  await within(lost.result, 'A steps down');
  assert.deepEqual(leaders.overlaps, []);
  assert.equal(leaders.entries, 2);
  assert.deepEqual(await children(admin, path), [], 'no candidate node left behind');
});
