/**
 * Lock against a real ZooKeeper server: kazoo's KazooLockTests (kazoo's kazoo/tests/test_lock.py,
 * adapted to promises), timeouts and abort, mutual exclusion under load, FIFO order, fencing
 * tokens, guarded transactions, Curator naming, `await using`, and SUSPENDED / LOST handling
 * through a FaultProxy and real session expiry.
 *
 * Documented deviations from kazoo exercised here: a second `acquire` on an instance that holds
 * or is acquiring rejects with AlreadyAcquiredError (kazoo returns False or blocks); a timed-out
 * acquire resolves `false` (kazoo raises LockTimeout); abort ≙ cancel() and rejects AbortError.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import {
  AbortError,
  AlreadyAcquiredError,
  ConnectionLossError,
  ConnectionState,
  InvalidArgumentError,
  Lock,
  LockLostError,
  NoNodeError,
  NotHeldError,
  TransactionError,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import {
  connect,
  disconnect,
  dropConnection,
  nextState,
  serverForFile,
  uniqueRoot,
} from '../support/client.js';
import {
  acquireAcrossPartition,
  children,
  contendersReach,
  CriticalSection,
  heldWhileBehindProxy,
  HolderTracker,
  nodesOf,
} from '../support/recipes.js';
import { Deferred, eventually, grace, probe, rejectsWithin, safety, within } from '../support/wait.js';

const server = await serverForFile();

/** kazoo's two-session fixture: lock1 (`held`) acquired, lock2 (`other`) of the same path on another session. */
async function heldAndContender(t: TestContext, held: string, other: string) {
  const zk1 = await connect(t, server);
  const zk2 = await connect(t, server);
  const path = uniqueRoot('lock');
  const lock1 = new Lock(zk1, path, { identifier: held });
  assert.equal(await lock1.acquire(), true);
  const lock2 = new Lock(zk2, path, { identifier: other });
  return { zk1, zk2, path, lock1, lock2 };
}

const newLock = (zk: ZooKeeperClient, path: string, identifier: string) => new Lock(zk, path, { identifier });

/** Holder H on a direct client; waiter W behind `proxy`, its session (20 s) outlives a disconnect. */
function holderHWaiterW(t: TestContext, proxy: FaultProxy) {
  const names = { prefix: 'lock', sessionTimeout: 20_000, holder: 'H', waiter: 'W' };
  return heldWhileBehindProxy(t, server, proxy, newLock, names);
}

/** Let `zk` (disconnected by `disconnect`) reconnect to its session. */
async function reconnect(zk: ZooKeeperClient, proxy: FaultProxy): Promise<void> {
  proxy.accept();
  await eventually(
    () => zk.state === ConnectionState.CONNECTED,
    'reconnected (same session)',
    safety(20_000),
  );
}

/** Wait until no node of `path` carries `identifier`. */
async function noNodeOf(zk: ZooKeeperClient, path: string, identifier: string, when: string): Promise<void> {
  await eventually(
    async () => (await nodesOf(zk, path, identifier)).length === 0,
    `no node of ${identifier} ${when}`,
  );
}

describe('Lock: kazoo KazooLockTests', () => {
  test('test_lock_one: another instance sees the holder as the only contender; release completes', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const lock = new Lock(zk, path, { identifier: 'X' });
    const release = new Deferred();
    const holder = (async () => {
      assert.equal(await lock.acquire(), true);
      await release.promise;
      return lock.release();
    })();
    const another = new Lock(zk, path, { identifier: 'Y' });
    assert.deepEqual(await contendersReach(another, 1), ['X']);
    await eventually(() => lock.isAcquired, 'X holds');
    release.resolve();
    assert.equal(await within(holder, 'release'), true);
    assert.equal(lock.isAcquired, false);
    assert.deepEqual(await another.contenders(), []);
  });

  test('test_lock: five queued contenders acquire strictly in contenders() order, which shrinks by one', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const section = new CriticalSection();
    const lock = new Lock(zk, path, { identifier: 'test' });
    assert.equal(await lock.acquire(), true);
    const names = [0, 1, 2, 3, 4].map((i) => `contender${i}`);
    const active: string[] = [];
    const proceed = new Map(names.map((name) => [name, new Deferred()]));
    const entered = new Map(names.map((name) => [name, new Deferred()]));
    const tasks = names.map(async (name) => {
      const contender = new Lock(zk, path, { identifier: name });
      assert.equal(await contender.acquire(), true);
      section.enter(name);
      active.push(name);
      entered.get(name)!.resolve();
      await proceed.get(name)!.promise;
      section.leave(name);
      await contender.release();
    });
    const listed = await contendersReach(lock, 6);
    assert.equal(listed[0], 'test');
    const queue = listed.slice(1);
    assert.deepEqual([...queue].sort(), names);
    await lock.release();
    let remaining = queue;
    for (const name of queue) {
      await within(entered.get(name)!.promise, `${name} acquires`);
      assert.deepEqual(active, queue.slice(0, queue.indexOf(name) + 1), 'acquired in contenders() order');
      assert.deepEqual(await lock.contenders(), remaining);
      remaining = remaining.slice(1);
      proceed.get(name)!.resolve();
    }
    await within(Promise.all(tasks), 'every contender done');
    assert.deepEqual(section.overlaps, []);
    assert.deepEqual(await lock.contenders(), []);
  });

  test('test_lock_reconnect: the holder session expires (for real); release() is false; the waiter acquires', async (t) => {
    const { zk1: zkHolder, lock1: lock, lock2: other } = await heldAndContender(t, 'test', 'contender');
    const waiting = probe(other.acquire());
    assert.deepEqual(await contendersReach(lock, 2), ['test', 'contender']);
    const lost = nextState(zkHolder, ConnectionState.LOST, safety());
    await server.expireSession(zkHolder);
    await lost;
    // kazoo's is_acquired stays True and release() returns True; ours knows the node is gone.
    assert.equal(await lock.release(), false);
    assert.equal(await within(waiting.promise, 'the contender acquires'), true);
    assert.deepEqual(await other.contenders(), ['contender']);
    await other.release();
  });

  test('test_lock_non_blocking: a non-blocking acquire behind a holder is false and leaves no node', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const name = 'same-name';
    const lock = new Lock(zk, path, { identifier: name });
    assert.equal(await lock.acquire(), true);
    const lock1 = new Lock(zk, path, { identifier: name });
    assert.equal(await lock1.acquire({ blocking: false }), false);
    assert.equal(lock1.isAcquired, false);
    assert.deepEqual(await lock.contenders(), [name]);
    assert.equal((await children(zk, path)).length, 1);
    await lock.release();
  });

  test('test_lock_fail_first_call: a single contender acquires and is the only contender', async (t) => {
    const zk = await connect(t, server);
    const lock1 = new Lock(zk, uniqueRoot('lock'), { identifier: 'one' });
    assert.equal(await lock1.acquire(), true);
    assert.deepEqual(await lock1.contenders(), ['one']);
    await lock1.release();
  });

  test('test_lock_cancel: aborting a blocked acquire (cancel) rejects AbortError and removes its node', async (t) => {
    const { lock1, lock2 } = await heldAndContender(t, 'one', 'two');
    const cancel = new AbortController();
    const waiting = probe(lock2.acquire({ signal: cancel.signal }));
    assert.deepEqual(await contendersReach(lock2, 2), ['one', 'two']);
    assert.equal(waiting.settled, false);
    cancel.abort();
    const error = await rejectsWithin(waiting.promise, 'the cancelled acquire');
    assert.ok(error instanceof AbortError, `AbortError, got ${String(error)}`);
    assert.equal(lock2.isAcquired, false);
    assert.deepEqual(await lock2.contenders(), ['one']);
    await lock1.release();
  });

  test('test_lock_no_double_calls: acquire on a held instance rejects AlreadyAcquiredError; still held', async (t) => {
    const zk = await connect(t, server);
    const lock1 = new Lock(zk, uniqueRoot('lock'), { identifier: 'one' });
    assert.equal(await lock1.acquire(), true);
    assert.equal(lock1.isAcquired, true);
    await assert.rejects(lock1.acquire({ timeout: 500 }), AlreadyAcquiredError);
    assert.equal(lock1.isAcquired, true);
    assert.deepEqual(await lock1.contenders(), ['one']);
    assert.equal(await lock1.release(), true);
    assert.equal(lock1.isAcquired, false);
    assert.equal(await lock1.release(), false, 'a second release is a no-op');
  });

  test('test_lock_same_thread_no_block: non-blocking acquire is true, again rejects AlreadyAcquiredError', async (t) => {
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'), { identifier: 'one' });
    assert.equal(await lock.acquire({ blocking: false }), true);
    assert.equal(lock.isAcquired, true);
    await assert.rejects(lock.acquire({ blocking: false }), AlreadyAcquiredError);
    await lock.release();
  });

  test('test_lock_many_threads_no_block: 20 concurrent non-blocking acquires on one instance → exactly one true', async (t) => {
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'), { identifier: 'one' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => lock.acquire({ blocking: false })),
    );
    const wins = outcomes.filter((o) => o.status === 'fulfilled' && o.value === true);
    const refused = outcomes.filter(
      (o) => o.status === 'rejected' && o.reason instanceof AlreadyAcquiredError,
    );
    assert.equal(wins.length, 1);
    assert.equal(refused.length, 19);
    assert.equal((await lock.contenders()).length, 1);
    await lock.release();
  });

  test('test_lock_many_threads: 20 async callers share one instance; critical sections never overlap', async (t) => {
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'), { identifier: 'one' });
    const section = new CriticalSection();
    const deadline = Date.now() + safety(20_000);
    const caller = async (i: number) => {
      for (;;) {
        assert.ok(Date.now() < deadline, `caller ${i} never got the lock`);
        try {
          if (await lock.acquire()) break;
        } catch (error) {
          if (!(error instanceof AlreadyAcquiredError)) throw error;
          await delay(2); // the instance is busy (not re-entrant): try again later
          continue;
        }
      }
      section.enter(`caller${i}`);
      await delay(5);
      section.leave(`caller${i}`);
      await lock.release();
    };
    await within(
      Promise.all(Array.from({ length: 20 }, (_, i) => caller(i))),
      'all 20 callers',
      safety(30_000),
    );
    assert.equal(section.entries, 20);
    assert.deepEqual(section.overlaps, []);
  });

  test('test_lock_reacquire: acquire, release, acquire, release', async (t) => {
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'), { identifier: 'one' });
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.release(), true);
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.release(), true);
    assert.deepEqual(await children(zk, lock.path), []);
  });

  test('test_lock_ephemeral: acquire({ ephemeral: false }) survives closing the client', async (t) => {
    const zk = await connect(t, server);
    const zk1 = await connect(t, server);
    const path = uniqueRoot('lock');
    const lock = new Lock(zk1, path, { identifier: 'ephemeral' });
    assert.equal(await lock.acquire({ ephemeral: false }), true);
    const node = lock.nodePath!;
    assert.equal((await zk.exists(node))?.ephemeralOwner, 0n);
    await zk1.close();
    assert.equal((await zk.get(node)).data.toString(), 'ephemeral');
    assert.equal(
      await new Lock(zk, path).acquire({ blocking: false }),
      false,
      'still held after its client closed',
    );
    await zk.delete(node);
  });

  test('test_lock_timeout: acquire({ timeout }) behind a holder resolves false (kazoo: LockTimeout)', async (t) => {
    const { lock1, lock2 } = await heldAndContender(t, 'one', 'two');
    assert.equal(await within(lock2.acquire({ timeout: 500 }), 'the timed acquire'), false);
    assert.equal(lock2.isAcquired, false);
    await contendersReach(lock1, 1); // answered at the deadline; the node goes right after
    assert.deepEqual(await lock1.contenders(), ['one']);
    await lock1.release();
  });
});

describe('Lock: timeout, abort, exclusion, order, fencing, transactions, naming', () => {
  test('acquire({ timeout }) → false, no node left; a later acquire of the same instance works', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const holder = new Lock(zk, path, { identifier: 'holder' });
    assert.equal(await holder.acquire(), true);
    const holderNode = holder.nodePath!.slice(path.length + 1);
    const lock = new Lock(zk, path, { identifier: 'timed' });
    assert.equal(await lock.acquire({ timeout: 300 }), false);
    assert.equal(lock.nodePath, undefined);
    assert.deepEqual(await children(zk, path), [holderNode], 'only the holder remains');
    assert.throws(() => lock.fencingToken, NotHeldError);
    assert.equal(lock.signal.aborted, true, 'signal is aborted while not held');
    // A timeout that is not a number of ms >= 0 would make a deadline that never passes.
    await assert.rejects(lock.acquire({ timeout: -1 }), InvalidArgumentError);
    await assert.rejects(lock.acquire({ timeout: Number.NaN }), InvalidArgumentError);
    assert.deepEqual(await children(zk, path), [holderNode], 'a refused acquire creates nothing');
    await holder.release();
    assert.equal(await lock.acquire({ timeout: safety() }), true);
    await lock.release();
  });

  test('acquire({ signal }) aborted while waiting → AbortError, no node left; pre-aborted → no node created', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const holder = new Lock(zk, path, { identifier: 'holder' });
    assert.equal(await holder.acquire(), true);
    const holderNode = holder.nodePath!.slice(path.length + 1);
    const lock = new Lock(zk, path, { identifier: 'aborted' });
    const controller = new AbortController();
    const waiting = probe(lock.acquire({ signal: controller.signal }));
    await eventually(async () => (await children(zk, path)).length === 2, 'the waiter queued');
    controller.abort(new Error('stop'));
    const error = await rejectsWithin(waiting.promise, 'the aborted acquire');
    assert.ok(error instanceof AbortError, `AbortError, got ${String(error)}`);
    assert.deepEqual(await children(zk, path), [holderNode]);
    // Already aborted: rejects before creating anything.
    await assert.rejects(lock.acquire({ signal: AbortSignal.abort() }), AbortError);
    assert.deepEqual(await children(zk, path), [holderNode]);
    // The instance is reusable afterwards.
    await holder.release();
    assert.equal(await lock.acquire(), true);
    await lock.release();
  });

  test('mutual exclusion: 5 clients × 20 read-modify-write increments end exact, never two inside', async (t) => {
    const observer = await connect(t, server);
    const path = uniqueRoot('lock');
    const counter = `${path}-counter`;
    await observer.create(counter, '0');
    const section = new CriticalSection();
    const tracker = new HolderTracker();
    const worker = async (w: number) => {
      const zk = await connect(t, server);
      const lock = tracker.add(new Lock(zk, path, { identifier: `worker${w}` }));
      for (let i = 0; i < 20; i++) {
        assert.equal(await lock.acquire(), true);
        tracker.acquired(lock);
        section.enter(`worker${w}`);
        const { data } = await zk.get(counter);
        await delay(0);
        await zk.set(counter, String(Number(data.toString()) + 1));
        section.leave(`worker${w}`);
        await lock.release();
      }
    };
    await within(Promise.all([0, 1, 2, 3, 4].map(worker)), '100 increments', safety(60_000));
    assert.equal((await observer.get(counter)).data.toString(), '100');
    assert.equal(section.entries, 100);
    assert.deepEqual(section.overlaps, []);
    tracker.assertClean();
    assert.deepEqual(await children(observer, path), []);
  });

  test('FIFO: waiters acquire in their order of arrival', async (t) => {
    const zks = await Promise.all([0, 1, 2, 3].map(() => connect(t, server)));
    const path = uniqueRoot('lock');
    const holder = new Lock(zks[0]!, path, { identifier: 'holder' });
    assert.equal(await holder.acquire(), true);
    const order: string[] = [];
    const tasks: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) {
      const name = `w${i}`;
      const lock = new Lock(zks[i % 4]!, path, { identifier: name });
      tasks.push(
        lock.acquire().then(async (ok) => {
          assert.equal(ok, true);
          order.push(name);
          await delay(5);
          await lock.release();
        }),
      );
      // Arrival = node created: wait for it before the next one arrives.
      await contendersReach(holder, i + 2);
    }
    await holder.release();
    await within(Promise.all(tasks), 'all waiters');
    assert.deepEqual(order, ['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
  });

  test('fencingToken is the lock node czxid and strictly increases across successive holders', async (t) => {
    const zk1 = await connect(t, server);
    const zk2 = await connect(t, server);
    const path = uniqueRoot('lock');
    const tokens: bigint[] = [];
    const a = new Lock(zk1, path, { identifier: 'a' });
    const b = new Lock(zk2, path, { identifier: 'b' });
    for (let round = 0; round < 3; round++) {
      for (const lock of [a, b]) {
        assert.equal(await lock.acquire(), true);
        const stat = await zk1.exists(lock.nodePath!);
        assert.equal(lock.fencingToken, stat!.czxid);
        tokens.push(lock.fencingToken);
        await lock.release();
        assert.throws(() => lock.fencingToken, NotHeldError);
      }
    }
    // Contended hand-over too: b waits behind a.
    assert.equal(await a.acquire(), true);
    const tokenA = a.fencingToken;
    const bWaits = b.acquire();
    await contendersReach(a, 2);
    await a.release();
    assert.equal(await within(bWaits, 'b acquires'), true);
    tokens.push(tokenA, b.fencingToken);
    await b.release();
    for (let i = 1; i < tokens.length; i++)
      assert.ok(tokens[i]! > tokens[i - 1]!, `token ${i} (${tokens[i]}) > token ${i - 1} (${tokens[i - 1]})`);
  });

  test('transaction(): commits while held; fails with TransactionError(NoNode on the check) once the node is deleted behind our back', async (t) => {
    const zk = await connect(t, server);
    const other = await connect(t, server);
    const path = uniqueRoot('lock');
    const config = `${path}-config`;
    await zk.create(config, 'v0');
    const lock = new Lock(zk, path, { identifier: 'writer' });
    assert.throws(() => lock.transaction(), NotHeldError);
    assert.equal(await lock.acquire(), true);
    const results = await lock.transaction().set(config, 'v1').commit();
    assert.deepEqual(
      results.map((r) => r.type),
      ['check', 'set'],
    );
    assert.equal((await other.get(config)).data.toString(), 'v1');
    await other.delete(lock.nodePath!); // someone deletes our lock node
    const error = await lock
      .transaction()
      .set(config, 'v2')
      .commit()
      .then(
        () => assert.fail('the guarded transaction must fail'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof TransactionError, `TransactionError, got ${String(error)}`);
    assert.equal(error.failedIndex, 0);
    assert.ok(error.error instanceof NoNodeError);
    assert.equal((await other.get(config)).data.toString(), 'v1', 'nothing applied');
    // Observed: the Lock does not watch its own node, so it still believes it holds.
    assert.equal(lock.isAcquired, true);
    assert.equal(await lock.release(), true, 'release tolerates the missing node');
  });

  test("naming: 'curator' creates _c_<uuid>-lock-<seq>; kazoo-named locks honour it only with extraLockPatterns ['-lock-']", async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const curator = new Lock(zk, path, { identifier: 'curator', naming: 'curator' });
    assert.equal(await curator.acquire(), true);
    const name = curator.nodePath!.slice(path.length + 1);
    assert.match(name, /^_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-lock-\d{10}$/);
    assert.equal((await zk.get(curator.nodePath!)).data.toString(), 'curator');

    const aware = new Lock(zk, path, { identifier: 'aware', extraLockPatterns: ['-lock-'] });
    assert.equal(await aware.acquire({ blocking: false }), false, 'blocked by the Curator node');
    assert.deepEqual(await aware.contenders(), ['curator']);
    const waiting = probe(aware.acquire());
    await contendersReach(aware, 2);
    await grace();
    assert.equal(waiting.settled, false, 'waits behind the Curator-named holder');

    // A plain kazoo-named Lock does not see Curator nodes (kazoo's default regex).
    const plain = new Lock(zk, path, { identifier: 'plain' });
    assert.deepEqual(await plain.contenders(), ['aware']);
    await curator.release();
    assert.equal(await within(waiting.promise, 'the aware lock acquires'), true);

    await aware.release();
    assert.deepEqual(await children(zk, path), []);
  });

  test("naming: 'curator': a Curator-named lock is blocked by a kazoo-named holder", async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const kazooNamed = new Lock(zk, path, { identifier: 'kazoo-named' });
    assert.equal(await kazooNamed.acquire(), true);
    const curator = new Lock(zk, path, { identifier: 'curator', naming: 'curator' });
    const got = await curator.acquire({ blocking: false });
    if (got) await curator.release();
    assert.equal(got, false, 'a Curator-named lock must not acquire while a __lock__ node is ahead of it');
    await kazooNamed.release();
  });

  test("naming: 'curator': two Curator-named locks exclude each other", async (t) => {
    const zk1 = await connect(t, server);
    const zk2 = await connect(t, server);
    const path = uniqueRoot('lock');
    const first = new Lock(zk1, path, { identifier: 'first', naming: 'curator' });
    const second = new Lock(zk2, path, { identifier: 'second', naming: 'curator' });
    assert.equal(await first.acquire(), true);
    const got = await second.acquire({ timeout: 300 });
    const bothHeld = first.isAcquired && second.isAcquired;
    if (got) await second.release();
    await first.release();
    assert.equal(bothHeld, false, 'two holders of one lock');
    assert.equal(got, false);
  });

  test('await using releases the lock at the end of the block', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    let seen: Lock | undefined;
    {
      await using lock = new Lock(zk, path, { identifier: 'scoped' });
      seen = lock;
      assert.equal(await lock.acquire(), true);
      assert.equal((await children(zk, path)).length, 1);
    }
    assert.equal(seen.isAcquired, false);
    assert.equal(seen.signal.aborted, true);
    assert.deepEqual(await children(zk, path), []);
  });
});

describe('Lock: createDirectory', () => {
  test('createDirectory: the missing lock directory is made with the first node; an existing one, or a missing grandparent, still works', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('lockdir');
    await zk.ensurePath(root);
    const fresh = new Lock(zk, `${root}/fresh`, { identifier: 'one', createDirectory: true });
    assert.equal(await fresh.acquire(), true);
    assert.deepEqual(await fresh.contenders(), ['one']);
    const again = new Lock(zk, `${root}/fresh`, { identifier: 'two', createDirectory: true });
    assert.equal(await again.acquire({ blocking: false }), false, 'the directory existed: one holder');
    await fresh.release();
    const deep = new Lock(zk, `${root}/missing/deep`, { identifier: 'deep', createDirectory: true });
    assert.equal(
      await deep.acquire(),
      true,
      'a missing grandparent: made after the NoNode, as without the option',
    );
    await deep.release();
    assert.deepEqual(await children(zk, `${root}/fresh`), []);
  });
});

describe('Lock: SUSPENDED / LOST', () => {
  test('SUSPENDED (proxy drop): signal fires, isAcquired stays true, node survives, a fresh signal after CONNECTED', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('lock');
    const lock = new Lock(zk, path, { identifier: 'holder' });
    assert.equal(await lock.acquire(), true);
    const node = lock.nodePath!;
    const first = lock.signal;
    assert.equal(first.aborted, false);
    const seen: { state: string; aborted: boolean; held: boolean }[] = [];
    zk.on('state', (state) => seen.push({ state, aborted: lock.signal.aborted, held: lock.isAcquired }));
    const { suspended, reconnected: connected } = dropConnection(zk, proxy);
    await suspended;
    assert.equal(first.aborted, true);
    assert.ok(
      first.reason instanceof ConnectionLossError,
      `reason ConnectionLossError, got ${String(first.reason)}`,
    );
    assert.equal(lock.isAcquired, true);
    await connected;
    assert.deepEqual(seen.slice(0, 2), [
      { state: 'SUSPENDED', aborted: true, held: true },
      { state: 'CONNECTED', aborted: false, held: true },
    ]);
    assert.notEqual(lock.signal, first, 'a fresh signal');
    assert.equal(lock.signal.aborted, false);
    assert.equal(first.aborted, true, 'the old signal stays aborted');
    assert.ok(await observer.exists(node), 'the node survived (same session)');
    assert.equal(lock.fencingToken, (await observer.exists(node))!.czxid);
    assert.equal(await new Lock(observer, path).acquire({ blocking: false }), false, 'still held');
    assert.equal(await lock.release(), true);
    assert.equal(await observer.exists(node), null);
  });

  test("ownershipLostOn: 'LOST': a proxy drop does not fire the signal", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const lock = new Lock(zk, uniqueRoot('lock'), { identifier: 'holder', ownershipLostOn: 'LOST' });
    assert.equal(await lock.acquire(), true);
    const signal = lock.signal;
    const { suspended, reconnected: connected } = dropConnection(zk, proxy);
    await suspended;
    assert.equal(signal.aborted, false);
    await connected;
    assert.equal(signal.aborted, false);
    assert.equal(lock.signal, signal, 'the same signal');
    assert.equal(lock.isAcquired, true);
    await lock.release();
    assert.equal(signal.aborted, true, 'release fires it');
  });

  test('LOST (real expiry): isAcquired false at the LOST event, signal aborted, a waiter on another client acquires', async (t) => {
    const zkHolder = await connect(t, server);
    const zkWaiter = await connect(t, server);
    const path = uniqueRoot('lock');
    const tracker = new HolderTracker();
    const lock = tracker.add(new Lock(zkHolder, path, { identifier: 'holder' }));
    assert.equal(await lock.acquire(), true);
    tracker.acquired(lock);
    const waiter = tracker.add(new Lock(zkWaiter, path, { identifier: 'waiter' }));
    const waiting = probe(
      waiter.acquire().then((ok) => {
        if (ok) tracker.acquired(waiter);
        return ok;
      }),
    );
    await contendersReach(waiter, 2);
    let atLost: { held: boolean; aborted: boolean } | undefined;
    zkHolder.on('state', (state) => {
      if (state === ConnectionState.LOST && !atLost)
        atLost = { held: lock.isAcquired, aborted: lock.signal.aborted };
    });
    const lost = nextState(zkHolder, ConnectionState.LOST, safety());
    await server.expireSession(zkHolder);
    await lost;
    assert.deepEqual(atLost, { held: false, aborted: true });
    assert.equal(await within(waiting.promise, 'the waiter acquires'), true);
    tracker.assertClean();
    assert.equal(await lock.release(), false);
    // Not stuck like kazoo #282: the same instance can queue again on the new session.
    await eventually(
      () => zkHolder.state === ConnectionState.CONNECTED,
      'the holder client reconnected (new session)',
    );
    const again = probe(lock.acquire());
    await contendersReach(waiter, 2);
    await waiter.release();
    assert.equal(await within(again.promise, 'the old holder re-acquires'), true);
    await lock.release();
  });

  test("LOST with ownershipLostOn: 'LOST': the signal's reason is LockLostError", async (t) => {
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'), { identifier: 'holder', ownershipLostOn: 'LOST' });
    assert.equal(await lock.acquire(), true);
    const signal = lock.signal;
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    assert.equal(lock.isAcquired, false);
    assert.equal(signal.aborted, true);
    assert.ok(signal.reason instanceof LockLostError, `LockLostError, got ${String(signal.reason)}`);
    assert.ok(lock.signal.reason instanceof LockLostError);
  });

  test('LOST after SUSPENDED (default policy): lock.signal reports LockLostError once the session is lost', async (t) => {
    // The real expiry shows the holder SUSPENDED first (its socket is closed), then LOST.
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'), { identifier: 'holder' });
    assert.equal(await lock.acquire(), true);
    const states: string[] = [];
    zk.on('state', (state) => states.push(state));
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    assert.deepEqual(states.slice(0, 2), ['SUSPENDED', 'LOST']);
    assert.equal(lock.isAcquired, false);
    assert.equal(lock.signal.aborted, true);
    assert.ok(
      lock.signal.reason instanceof LockLostError,
      `after LOST the lock's signal should say the lock is lost (LockLostError), got ${String(lock.signal.reason)}`,
    );
  });

  test('a waiter whose session expires re-queues at the back by itself and acquires later', async (t) => {
    const [zkH, zkW, zkC] = await Promise.all([connect(t, server), connect(t, server), connect(t, server)]);
    const path = uniqueRoot('lock');
    const tracker = new HolderTracker();
    const holder = tracker.add(new Lock(zkH, path, { identifier: 'H' }));
    assert.equal(await holder.acquire(), true);
    const track = (lock: Lock) =>
      probe(
        lock.acquire().then((ok) => {
          if (ok) tracker.acquired(lock);
          return ok;
        }),
      );
    const w = tracker.add(new Lock(zkW, path, { identifier: 'W' }));
    const wWaiting = track(w);
    await contendersReach(holder, 2);
    const c = tracker.add(new Lock(zkC, path, { identifier: 'C' }));
    const cWaiting = track(c);
    assert.deepEqual(await contendersReach(holder, 3), ['H', 'W', 'C']);
    const lost = nextState(zkW, ConnectionState.LOST, safety());
    await server.expireSession(zkW);
    await lost;
    // W's node went with its session; W creates a new one at the back, on its new session.
    await eventually(
      async () => JSON.stringify(await holder.contenders()) === JSON.stringify(['H', 'C', 'W']),
      'W re-queued behind C',
    );
    assert.equal(wWaiting.settled, false);
    assert.equal((await nodesOf(zkH, path, 'W')).length, 1, 'exactly one node for W');
    await holder.release();
    assert.equal(await within(cWaiting.promise, 'C acquires first'), true);
    await grace();
    assert.equal(wWaiting.settled, false, 'W waits behind C');
    await c.release();
    assert.equal(await within(wWaiting.promise, 'W acquires'), true);
    assert.deepEqual(await holder.contenders(), ['W']);
    await w.release();
    tracker.assertClean();
  });

  test("onSessionLost: 'fail': a waiter whose session expires rejects with LockLostError and leaves no node", async (t) => {
    const zkH = await connect(t, server);
    const zkW = await connect(t, server);
    const path = uniqueRoot('lock');
    const holder = new Lock(zkH, path, { identifier: 'H' });
    assert.equal(await holder.acquire(), true);
    const w = new Lock(zkW, path, { identifier: 'W', onSessionLost: 'fail' });
    const waiting = probe(w.acquire());
    await contendersReach(holder, 2);
    await server.expireSession(zkW);
    const error = await rejectsWithin(waiting.promise, "the waiter's acquire");
    assert.ok(error instanceof LockLostError, `LockLostError, got ${String(error)}`);
    assert.equal(w.isAcquired, false);
    await eventually(() => zkW.state === ConnectionState.CONNECTED, 'W reconnected with a new session');
    await grace();
    assert.deepEqual(await nodesOf(zkH, path, 'W'), [], 'no node left for W');
    assert.deepEqual(await holder.contenders(), ['H']);
    await holder.release();
  });

  test('ConnectionLoss during the contender create: no orphan node (found again by its prefix), lock acquired', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('lock');
    const D = timing(400); // proxy delay each way
    // Drop before the server saw the create (0.5 × the delay), in the window we want — as soon
    // as the observer sees the node, while its reply still sits in the proxy's delay — and after
    // the reply arrived (2.6 ×). The window is aimed at, not timed, so it is hit under load too.
    const plan: (number | 'window')[] = [0.5, 'window', 2.6, 'window'];
    let caught = 0;
    const tracker = new HolderTracker();
    for (const [attempt, fraction] of plan.entries()) {
      const holder = tracker.add(new Lock(observer, path, { identifier: `holder${attempt}` }));
      assert.equal(await holder.acquire(), true);
      tracker.acquired(holder);
      const identifier = `contender${attempt}`;
      const lock = tracker.add(new Lock(zk, path, { identifier }));
      assert.equal(await lock.acquire({ blocking: false }), false, 'warm-up: path ensured, node removed');
      const before = new Set(await children(observer, path));
      // Watch the directory the whole time: record every snapshot.
      const snapshots: string[][] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          snapshots.push(await children(observer, path));
          await delay(5);
        }
      })();
      proxy.setDelay(D);
      const acquiring = probe(
        lock.acquire().then((ok) => {
          if (ok) tracker.acquired(lock);
          return ok;
        }),
      );
      if (fraction === 'window') {
        await eventually(
          async () => (await children(observer, path)).some((name) => !before.has(name)) || undefined,
          'the create reaches the server',
        );
      } else {
        await delay(D * fraction);
      }
      const replySeen = lock.nodePath !== undefined;
      proxy.drop();
      const onServer = (await children(observer, path)).filter((name) => !before.has(name));
      proxy.setDelay(0);
      if (!replySeen && onServer.length === 1) caught++;
      // It reconnects (same session) and waits behind the holder with exactly one node.
      await eventually(() => lock.nodePath, `contender ${attempt} has its node`);
      const prefix = lock.nodePath!.slice(path.length + 1, -10);
      assert.equal((await children(observer, path)).filter((name) => name.startsWith(prefix)).length, 1);
      if (onServer.length === 1)
        assert.ok(onServer[0]!.startsWith(prefix), 'the node the server made before the drop was adopted');
      await holder.release();
      assert.equal(await within(acquiring.promise, `contender ${attempt} acquires`), true);
      assert.equal(lock.isAcquired, true);
      polling = false;
      await poller;
      snapshots.push(await children(observer, path));
      const ours = new Set(snapshots.flat().filter((name) => name.startsWith(prefix)));
      assert.deepEqual(
        [...ours],
        [lock.nodePath!.slice(path.length + 1)],
        `attempt ${attempt} (drop: ${fraction}): one node ever`,
      );
      for (const snapshot of snapshots)
        assert.ok(snapshot.filter((name) => name.startsWith(prefix)).length <= 1);
      assert.deepEqual(await nodesOf(observer, path, identifier), [lock.nodePath!.slice(path.length + 1)]);
      await lock.release();
      assert.deepEqual(await children(observer, path), []);
    }
    t.diagnostic(`drops that hit the create/reply window: ${caught}`);
    assert.ok(caught > 0, 'at least one drop hit the window between the create and its reply');
    tracker.assertClean();
  });

  test('SUSPENDED waiter (proxy drop): keeps its node and its place in the queue', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zkW = await connect(t, proxy.connectString);
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const holder = new Lock(zk, path, { identifier: 'H' });
    assert.equal(await holder.acquire(), true);
    const w = new Lock(zkW, path, { identifier: 'W' });
    const wGot = probe(w.acquire());
    await contendersReach(holder, 2);
    const c = new Lock(zk, path, { identifier: 'C' });
    const cGot = probe(c.acquire());
    await contendersReach(holder, 3);
    const node = w.nodePath;
    const { suspended, reconnected: connected } = dropConnection(zkW, proxy);
    await suspended;
    await connected;
    assert.equal(w.nodePath, node, 'same node');
    assert.deepEqual(await holder.contenders(), ['H', 'W', 'C']);
    await holder.release();
    assert.equal(await within(wGot.promise, 'W acquires first'), true);
    assert.equal(cGot.settled, false);
    await w.release();
    assert.equal(await within(cGot.promise, 'C acquires'), true);
    await c.release();
  });

  test('acquire({ timeout }) while disconnected resolves false at its deadline (before reconnect or LOST); no node after reconnect', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, holder, waiter: lock } = await holderHWaiterW(t, proxy);
    assert.equal(await lock.acquire({ blocking: false }), false, 'warm-up: path ensured');
    await noNodeOf(observer, path, 'W', '(the warm-up node is gone)');
    await zk.sync(path); // our client saw the warm-up delete's reply
    await disconnect(zk, proxy);
    const timed = probe(lock.acquire({ timeout: 300 }));
    await eventually(() => timed.settled, 'the timed acquire settles', timing(3_000)).catch(() => {});
    const stateAtSettle = timed.settled ? zk.state : undefined;
    await reconnect(zk, proxy);
    await within(timed.promise, 'the timed acquire, after the reconnect', safety(20_000)).catch(() => {});
    await noNodeOf(observer, path, 'W', 'after the reconnect');
    assert.equal(timed.value, false);
    assert.equal(
      stateAtSettle,
      ConnectionState.SUSPENDED,
      'the timeout (one deadline for the whole acquire) fired while still disconnected',
    );
    await holder.release();
  });

  test('aborting a waiting acquire while disconnected rejects AbortError at once; its node is deleted after the reconnect; the next acquire waits for that only within its deadline', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, holder, waiter: lock } = await holderHWaiterW(t, proxy);
    const controller = new AbortController();
    const waiting = probe(lock.acquire({ signal: controller.signal }));
    await contendersReach(holder, 2);
    await disconnect(zk, proxy);
    controller.abort();
    await eventually(() => waiting.settled, 'the aborted acquire settles', timing(3_000)).catch(() => {});
    const stateAtSettle = waiting.settled ? zk.state : undefined;
    assert.equal(
      await within(
        lock.acquire({ timeout: 500 }),
        'the next acquire, while still disconnected',
        timing(5_000),
      ),
      false,
    );
    assert.notEqual(zk.state, ConnectionState.CONNECTED, 'answered while disconnected');
    await reconnect(zk, proxy);
    await within(
      waiting.promise.catch(() => {}),
      'the aborted acquire, after the reconnect',
      safety(20_000),
    );
    assert.ok(waiting.error instanceof AbortError, `AbortError, got ${String(waiting.error)}`);
    await noNodeOf(observer, path, 'W', 'after the reconnect');
    assert.equal(
      stateAtSettle,
      ConnectionState.SUSPENDED,
      'abort settled the acquire while still disconnected',
    );
    await holder.release();
    assert.equal(await lock.acquire({ timeout: safety() }), true);
    await lock.release();
  });

  test('acquire({ timeout }) of a partitioned (blackholed) waiter settles false at its deadline, before the partition heals; its node goes after', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    // A long session: the client keeps believing it is connected (read timeout 20 s) throughout.
    const {
      zk: zkWaiter,
      holder,
      waiter,
    } = await heldWhileBehindProxy(t, server, proxy, newLock, {
      prefix: 'lock',
      sessionTimeout: 30_000,
    });
    const { acquired, events, statesDuring } = await acquireAcrossPartition(
      zkWaiter,
      proxy,
      () => waiter.acquire({ timeout: timing(1_000) }),
      () => contendersReach(holder, 2),
    );
    assert.equal(acquired, false);
    assert.deepEqual(events, ['settled', 'healed'], 'settled at its deadline, not once the partition healed');
    assert.deepEqual(statesDuring, [], 'the waiter never noticed the partition (no SUSPENDED)');
    await contendersReach(holder, 1); // the waiter's node is removed once the connection works again
    await holder.release();
  });

  test('partition (blackhole) of the holder: its signal fires before the waiter acquires; LOST clears isAcquired', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zkHolder = await connect(t, proxy.connectString, { sessionTimeout: 2_000 });
    const zkWaiter = await connect(t, server);
    const path = uniqueRoot('lock');
    const tracker = new HolderTracker();
    const holder = tracker.add(new Lock(zkHolder, path, { identifier: 'holder' }));
    assert.equal(await holder.acquire(), true);
    tracker.acquired(holder);
    const holderSession = zkHolder.sessionId;
    const waiter = tracker.add(new Lock(zkWaiter, path, { identifier: 'waiter' }));
    let holderSignalAtAcquire: boolean | undefined;
    const waiting = probe(
      waiter.acquire().then((ok) => {
        holderSignalAtAcquire = holder.signal.aborted;
        if (ok) tracker.acquired(waiter);
        return ok;
      }),
    );
    await contendersReach(waiter, 2);
    proxy.blackhole();
    assert.equal(
      await within(
        waiting.promise,
        'the waiter acquires after the server expired the holder',
        safety(20_000),
      ),
      true,
    );
    assert.equal(holderSignalAtAcquire, true, "the holder's signal had fired");
    tracker.assertClean();
    await eventually(
      () => zkHolder.state === ConnectionState.LOST || zkHolder.sessionId !== holderSession,
      'the holder sees LOST',
      safety(20_000),
    );
    assert.equal(holder.isAcquired, false);
    proxy.heal();
    await eventually(
      () => zkHolder.state === ConnectionState.CONNECTED,
      'the holder reconnects (new session)',
      safety(20_000),
    );
    assert.equal(await holder.release(), false);
    assert.equal(await holder.acquire({ blocking: false }), false, 'the waiter holds');
    await waiter.release();
    assert.equal(await holder.acquire({ blocking: false }), true);
    await holder.release();
  });
});

describe('Lock: long timeouts (issue 11, scenario 6)', () => {
  test('scenario 6: acquire({ timeout: Infinity }) on a contended lock keeps waiting, then acquires when the holder releases', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lock');
    const holder = new Lock(zk, path, { identifier: 'holder' });
    assert.equal(await holder.acquire(), true);
    const waiter = new Lock(zk, path, { identifier: 'waiter' });
    const waiting = probe(waiter.acquire({ timeout: Infinity }));
    await contendersReach(holder, 2);
    await grace(300);
    assert.equal(waiting.settled, false, `acquire settled early: ${String(waiting.value ?? waiting.error)}`);
    await holder.release();
    assert.equal(await within(waiting.promise, 'the waiter acquires'), true);
    await waiter.release();
  });
});

describe('Lock: reentrant (per async flow)', () => {
  /** Start `fn` as a flow of its own: it acquires after an await, never in its caller's synchronous code. */
  function flow<T>(fn: () => Promise<T>): Promise<T> {
    return (async () => {
      await null;
      return fn();
    })();
  }

  test('a nested acquire in the same flow counts up, release counts down; one node, held until the count is zero', async (t) => {
    const [zk, zkOther] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('lock');
    const lock = new Lock(zk, path, { identifier: 'outer', reentrant: true });
    const other = new Lock(zkOther, path, { identifier: 'other' });
    assert.equal(await lock.acquire(), true);
    const node = lock.nodePath;
    assert.equal(await lock.acquire(), true, 'nested');
    assert.equal(await (async () => lock.acquire({ blocking: false }))(), true, 'nested in an async call');
    assert.equal(lock.nodePath, node);
    assert.equal((await children(zk, path)).length, 1, 'one node for every level');
    assert.equal(await lock.release(), true);
    assert.equal(await lock.release(), true);
    assert.equal(lock.isAcquired, true, 'held while the count is above zero');
    assert.equal(await other.acquire({ blocking: false }), false, 'another client is still excluded');
    assert.equal(await lock.release(), true);
    assert.equal(lock.isAcquired, false);
    assert.deepEqual(await children(zk, path), []);
    assert.equal(await lock.release(), false, 'not held any more');
    assert.equal(await other.acquire({ blocking: false }), true);
    await other.release();
  });

  test('another flow on the same instance waits until the holding flow released every level, then holds; a timed one resolves false', async (t) => {
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'), { reentrant: true });
    const order: string[] = [];
    const gate = new Deferred();
    const first = flow(async () => {
      assert.equal(await lock.acquire(), true);
      assert.equal(await lock.acquire(), true);
      order.push('A holds twice');
      await gate.promise;
      await lock.release();
      order.push('A released once');
      await lock.release();
      order.push('A released');
    });
    await eventually(() => lock.isAcquired, 'A holds');
    const second = flow(async () => {
      const got = await lock.acquire();
      order.push('B holds');
      await lock.release();
      return got;
    });
    assert.equal(await flow(() => lock.acquire({ timeout: 200 })), false, 'a timed flow gives up');
    assert.equal(await flow(() => lock.acquire({ blocking: false })), false, 'a non-blocking flow too');
    await assert.rejects(
      flow(() => lock.release()),
      NotHeldError,
      'a flow that does not hold cannot release',
    );
    await grace();
    assert.deepEqual(order, ['A holds twice']);
    gate.resolve();
    await within(first, 'A finishes');
    assert.equal(await within(second, 'B acquires'), true);
    assert.deepEqual(order, ['A holds twice', 'A released once', 'A released', 'B holds']);
    assert.equal(lock.isAcquired, false);
  });

  test('LOST while held at depth 2: not held at once, a waiting flow then acquires in the new session', async (t) => {
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'), { reentrant: true });
    assert.equal(await lock.acquire(), true);
    assert.equal(await lock.acquire(), true);
    const waiting = flow(async () => {
      const got = await lock.acquire();
      assert.equal(await lock.release(), true);
      return got;
    });
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    assert.equal(lock.signal.aborted, true);
    assert.equal(await within(waiting, 'the waiting flow acquires after LOST'), true);
    assert.equal(await lock.release(), false, 'the first flow holds nothing any more');
  });

  test('without reentrant: a nested acquire throws AlreadyAcquiredError', async (t) => {
    const zk = await connect(t, server);
    const lock = new Lock(zk, uniqueRoot('lock'));
    assert.equal(await lock.acquire(), true);
    await assert.rejects(lock.acquire(), AlreadyAcquiredError);
    await lock.release();
  });
});
