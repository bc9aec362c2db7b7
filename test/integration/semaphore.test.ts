/**
 * Semaphore against a real ZooKeeper 3.8: kazoo's `TestSemaphore` cases (kazoo/tests/test_lock.py),
 * the znode layout, max-leases checks, cancel/timeout cleanup, concurrent acquirers, SUSPENDED
 * (FaultProxy drop) and LOST (real session expiry), and interop with Debian's kazoo 2.8.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  AbortError,
  AlreadyAcquiredError,
  ConnectionLossError,
  ConnectionState,
  InvalidArgumentError,
  LockLostError,
  NotHeldError,
  RecipeMismatchError,
  Semaphore,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import {
  connect,
  disconnect,
  dropConnection,
  nextState,
  serverForFile,
  sorted,
  uniqueRoot,
} from '../support/client.js';
import { runKazoo } from '../support/kazoo.js';
import { acquireAcrossPartition, heldWhileBehindProxy } from '../support/recipes.js';
import { eventually, within } from '../support/wait.js';

const server = await serverForFile();

const LIMIT = timing(20_000);

const newSemaphore = (zk: ZooKeeperClient, path: string, identifier: string) =>
  new Semaphore(zk, path, { identifier });

/** 'pending' unless the promise has settled by the next macrotask. */
async function state(promise: Promise<unknown>): Promise<'pending' | 'settled'> {
  return Promise.race([
    promise.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending'))),
  ]);
}

/** Wait until `path` has exactly `count` children (e.g. waiters on the internal lock). */
function childCount(zk: ZooKeeperClient, path: string, count: number): Promise<unknown> {
  return eventually(
    async () => (await zk.getChildren(path).catch(() => [])).length === count,
    `${count} children of ${path}`,
    LIMIT,
  );
}

describe('Semaphore', () => {
  describe('kazoo TestSemaphore', () => {
    test("test_basic: acquire and release; the znode layout is kazoo's", async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      const sem = new Semaphore(zk, path, { identifier: 'basic', maxLeases: 2 });
      assert.equal(sem.isAcquired, false);
      assert.equal(sem.signal.aborted, true);
      assert.equal(await sem.acquire(), true);
      assert.equal(sem.isAcquired, true);
      assert.equal(sem.signal.aborted, false);
      // <path>: persistent, data = max leases in ASCII; one ephemeral 32hex lease node with the identifier.
      const { data, stat } = await zk.get(path);
      assert.equal(data.toString('latin1'), '2');
      assert.equal(stat.ephemeralOwner, 0n);
      const children = await zk.getChildren(path);
      assert.equal(children.length, 1);
      assert.match(children[0]!, /^[0-9a-f]{32}$/);
      assert.equal(`${path}/${children[0]}`, sem.leasePath);
      const lease = await zk.get(sem.leasePath);
      assert.equal(lease.data.toString('utf8'), 'basic');
      assert.equal(lease.stat.ephemeralOwner, zk.sessionId);
      // The internal lock is a sibling directory, empty once the acquire is over.
      assert.equal(sem.lockPath, `${path}-__lock__`);
      assert.deepEqual(await zk.getChildren(sem.lockPath), []);
      assert.equal(await sem.release(), true);
      assert.equal(sem.isAcquired, false);
      assert.equal(sem.signal.aborted, true);
      assert.ok(sem.signal.reason instanceof NotHeldError);
      assert.deepEqual(await zk.getChildren(path), []);
    });

    test('test_lock_one: a second holder waits until the first releases', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      const sem1 = new Semaphore(zk, path, { maxLeases: 1 });
      const sem2 = new Semaphore(zk, path, { maxLeases: 1 });
      assert.equal(await sem1.acquire(), true);
      const second = sem2.acquire();
      await childCount(zk, sem1.lockPath, 1); // sem2 holds the internal lock and watches the pool
      assert.equal(await state(second), 'pending');
      assert.equal(sem2.isAcquired, false);
      await sem1.release();
      assert.equal(await within(second, 'sem2', LIMIT), true);
      assert.equal(sem2.isAcquired, true);
      await sem2.release();
    });

    test('test_non_blocking: max 2, a third non-blocking acquire fails until a lease is released', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      const [sem1, sem2, sem3] = ['sem1', 'sem2', 'sem3'].map(
        (identifier) => new Semaphore(zk, path, { identifier, maxLeases: 2 }),
      ) as [Semaphore, Semaphore, Semaphore];
      assert.equal(await sem1.acquire(), true);
      assert.equal(await sem2.acquire(), true);
      assert.equal(await sem3.acquire({ blocking: false }), false);
      assert.deepEqual(sorted(await sem1.leaseHolders()), ['sem1', 'sem2']);
      await sem2.release();
      assert.equal(await sem3.acquire(), true);
      assert.deepEqual(sorted(await sem1.leaseHolders()), ['sem1', 'sem3']);
      await sem1.release();
      await sem3.release();
      assert.deepEqual(await sem1.leaseHolders(), []);
    });

    test('test_non_blocking_release: releasing after a failed non-blocking acquire is harmless', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      const sem1 = new Semaphore(zk, path, { identifier: 'sem1' });
      const sem2 = new Semaphore(zk, path, { identifier: 'sem2' });
      assert.equal(await sem1.acquire(), true);
      assert.equal(await sem2.acquire({ blocking: false }), false);
      assert.equal(await sem1.release(), true);
      assert.equal(await sem2.release(), false);
      assert.deepEqual(await zk.getChildren(path), []);
      assert.deepEqual(await zk.getChildren(sem1.lockPath), []);
    });

    test("test_holders: leaseHolders() lists the holder's identifier", async (t) => {
      const zk = await connect(t, server);
      const other = await connect(t, server);
      const path = uniqueRoot('sem');
      await using fred = new Semaphore(other, path, { identifier: 'fred' });
      assert.equal(await fred.acquire(), true);
      const sem = new Semaphore(zk, path);
      assert.deepEqual(await sem.leaseHolders(), ['fred']);
      assert.deepEqual(await new Semaphore(zk, uniqueRoot('missing')).leaseHolders(), []);
    });

    test('test_semaphore_cancel: aborting a blocked acquire rejects with AbortError and leaves no node', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      const sem1 = new Semaphore(zk, path, { identifier: 'fred' });
      const sem2 = new Semaphore(zk, path, { identifier: 'george' });
      assert.equal(await sem1.acquire(), true);
      const controller = new AbortController();
      const pending = sem2.acquire({ signal: controller.signal });
      await childCount(zk, sem1.lockPath, 1);
      assert.deepEqual(await sem1.leaseHolders(), ['fred']);
      assert.equal(await state(pending), 'pending');
      controller.abort();
      await assert.rejects(within(pending, 'the aborted acquire', LIMIT), AbortError);
      assert.equal(sem2.isAcquired, false);
      assert.deepEqual(await sem1.leaseHolders(), ['fred']);
      assert.deepEqual(await zk.getChildren(sem1.lockPath), []);
      await sem1.release();
    });

    test('test_multiple_acquire_and_release: acquire is idempotent; a second release returns false', async (t) => {
      const zk = await connect(t, server);
      const sem = new Semaphore(zk, uniqueRoot('sem'), { identifier: 'fred' });
      assert.equal(await sem.acquire(), true);
      assert.equal(await sem.acquire(), true);
      assert.equal((await zk.getChildren(sem.path)).length, 1);
      assert.equal(await sem.release(), true);
      assert.equal(await sem.release(), false);
    });

    test('test_handle_session_loss: a waiter whose session expires starts over and gets the lease', async (t) => {
      const zk1 = await connect(t, server);
      const zk2 = await connect(t, server);
      const path = uniqueRoot('sem');
      const fred = new Semaphore(zk1, path, { identifier: 'fred' });
      const george = new Semaphore(zk2, path, { identifier: 'george' });
      assert.equal(await george.acquire(), true);
      const waiting = fred.acquire();
      await childCount(zk2, george.lockPath, 1);
      assert.deepEqual(await george.leaseHolders(), ['george']);
      const oldSession = zk1.sessionId;
      const lost = nextState(zk1, ConnectionState.LOST, LIMIT);
      await server.expireSession(zk1);
      await lost;
      await george.release();
      await zk2.close();
      assert.equal(await within(waiting, 'fred', LIMIT), true);
      assert.notEqual(zk1.sessionId, oldSession);
      assert.deepEqual(await fred.leaseHolders(), ['fred']);
      assert.equal((await zk1.exists(fred.leasePath))?.ephemeralOwner, zk1.sessionId);
      await fred.release();
    });

    test('test_inconsistent_max_leases: a different max leases is a RecipeMismatchError', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      const sem1 = new Semaphore(zk, path, { maxLeases: 1 });
      const sem2 = new Semaphore(zk, path, { maxLeases: 2 });
      assert.equal(await sem1.acquire(), true);
      await assert.rejects(sem2.acquire(), (error: unknown) => {
        assert.ok(error instanceof RecipeMismatchError);
        assert.match(error.message, /Inconsistent max leases: 1, expected: 2/);
        return true;
      });
      assert.equal(sem2.isAcquired, false);
      assert.equal((await zk.getChildren(path)).length, 1);
      assert.deepEqual(await zk.getChildren(sem2.lockPath), []);
      await sem1.release();
    });

    test('test_inconsistent_max_leases_other_data: non-numeric data is not checked', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      await zk.create(path, 'a$');
      const sem1 = new Semaphore(zk, path, { maxLeases: 1 });
      const sem2 = new Semaphore(zk, path, { maxLeases: 2 });
      assert.equal(await sem1.acquire(), true);
      assert.equal(await sem2.acquire({ blocking: false }), true); // sem2 thinks two holders are fine
      assert.equal((await zk.get(path)).data.toString(), 'a$'); // only the creator writes it
      await sem1.release();
      await sem2.release();
    });

    test('test_reacquire: acquire/release twice', async (t) => {
      const zk = await connect(t, server);
      const sem = new Semaphore(zk, uniqueRoot('sem'));
      for (let i = 0; i < 2; i++) {
        assert.equal(await sem.acquire(), true);
        assert.equal(await sem.release(), true);
      }
      assert.deepEqual(await zk.getChildren(sem.path), []);
    });

    test('test_acquire_after_cancelled: a stale abort does not affect the next acquire', async (t) => {
      const zk = await connect(t, server);
      const sem = new Semaphore(zk, uniqueRoot('sem'));
      const controller = new AbortController();
      assert.equal(await sem.acquire({ signal: controller.signal }), true);
      assert.equal(await sem.release(), true);
      controller.abort(); // kazoo: cancel() while idle
      assert.equal(await sem.acquire(), true);
      await assert.rejects(new Semaphore(zk, sem.path).acquire({ signal: controller.signal }), AbortError); // an aborted signal is refused up front
      await sem.release();
    });

    test('test_timeout: acquire({ timeout }) while held resolves false (kazoo: LockTimeout) and leaves no node', async (t) => {
      const zk1 = await connect(t, server);
      const zk2 = await connect(t, server);
      const path = uniqueRoot('sem');
      await using one = new Semaphore(zk1, path, { identifier: 'one' });
      assert.equal(await one.acquire(), true);
      const two = new Semaphore(zk2, path, { identifier: 'two' });
      assert.equal(await two.acquire({ timeout: 1_000 }), false);
      assert.equal(two.isAcquired, false);
      assert.deepEqual(await one.leaseHolders(), ['one']);
      assert.deepEqual(await zk1.getChildren(one.lockPath), []);
    });
  });

  describe("beyond kazoo's tests", () => {
    test('invalid options are typed errors; concurrent acquires on one instance are refused', async (t) => {
      const zk = await connect(t, server);
      assert.throws(() => new Semaphore(zk, uniqueRoot('sem'), { maxLeases: 0 }), InvalidArgumentError);
      assert.throws(() => new Semaphore(zk, uniqueRoot('sem'), { maxLeases: 1.5 }), InvalidArgumentError);
      assert.throws(() => new Semaphore(zk, 'relative'), /path must start with/);
      const path = uniqueRoot('sem');
      const holder = new Semaphore(zk, path);
      assert.equal(await holder.acquire(), true);
      const sem = new Semaphore(zk, path);
      const controller = new AbortController();
      const first = sem.acquire({ signal: controller.signal });
      await assert.rejects(sem.acquire(), AlreadyAcquiredError);
      controller.abort();
      await assert.rejects(first, AbortError);
      await holder.release();
    });

    test('abort and timeout leave no lease node and no lock node, in both waiting phases', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      const holder = new Semaphore(zk, path, { identifier: 'holder' });
      assert.equal(await holder.acquire(), true);
      // Phase 2: holding the internal lock, watching the pool.
      const inPool = new Semaphore(zk, path, { identifier: 'in-pool' });
      const poolController = new AbortController();
      const poolWait = inPool.acquire({ signal: poolController.signal });
      await childCount(zk, holder.lockPath, 1);
      // Phase 1: queued on the internal lock behind it.
      const queued = new Semaphore(zk, path, { identifier: 'queued' });
      const queuedController = new AbortController();
      const queuedWait = queued.acquire({ signal: queuedController.signal });
      await childCount(zk, holder.lockPath, 2);
      const timedOut = new Semaphore(zk, path, { identifier: 'timed-out' });
      assert.equal(await timedOut.acquire({ timeout: 500 }), false); // queued third, gives up
      assert.equal((await zk.getChildren(holder.lockPath)).length, 2);
      queuedController.abort();
      await assert.rejects(within(queuedWait, 'queued', LIMIT), AbortError);
      assert.equal((await zk.getChildren(holder.lockPath)).length, 1);
      poolController.abort();
      await assert.rejects(within(poolWait, 'in-pool', LIMIT), AbortError);
      assert.deepEqual(await zk.getChildren(holder.lockPath), []);
      assert.deepEqual(await holder.leaseHolders(), ['holder']);
      for (const sem of [inPool, queued, timedOut]) {
        assert.equal(sem.isAcquired, false);
        assert.equal(await zk.exists(sem.leasePath), null);
      }
      await holder.release();
      assert.deepEqual(await zk.getChildren(path), []);
    });

    test('a timed-out acquire answers at its deadline while disconnected; its nodes go in the background, and the next acquire waits for that only within its own deadline', async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const { zk, observer, path, holder, waiter } = await heldWhileBehindProxy(
        t,
        server,
        proxy,
        newSemaphore,
        {
          prefix: 'sem',
          sessionTimeout: 30_000,
        },
      );
      const acquiring = waiter.acquire({ timeout: 1500 });
      await childCount(observer, holder.lockPath, 1); // the waiter holds the internal lock, watching the pool
      await disconnect(zk, proxy, LIMIT); // well within the session timeout: nothing can be deleted now
      const cutOff = 'while still disconnected (the session lives 30 s)';
      assert.equal(await within(acquiring, `the acquire's answer ${cutOff}`, timing(8000)), false);
      assert.equal(
        await within(waiter.acquire({ timeout: 500 }), `a second acquire's answer ${cutOff}`, timing(8000)),
        false,
      );
      assert.notEqual(zk.state, ConnectionState.CONNECTED, 'answered while disconnected');
      proxy.accept();
      await childCount(observer, holder.lockPath, 0); // the internal lock node went in the background
      assert.deepEqual(await observer.getChildren(path), [holder.leasePath.slice(path.length + 1)]);
      await holder.release();
      assert.equal(await waiter.acquire({ timeout: LIMIT }), true);
      await waiter.release();
      assert.deepEqual(await observer.getChildren(path), []);
    });

    test('acquire({ timeout }) of a partitioned (blackholed) waiter settles false at its deadline, before the partition heals; its nodes go after', async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      // A long session: the client keeps believing it is connected (read timeout 20 s) throughout.
      const { zk, observer, holder, waiter } = await heldWhileBehindProxy(t, server, proxy, newSemaphore, {
        prefix: 'sem',
        sessionTimeout: 30_000,
      });
      const { acquired, events, statesDuring } = await acquireAcrossPartition(
        zk,
        proxy,
        () => waiter.acquire({ timeout: timing(1_000) }),
        () => childCount(observer, holder.lockPath, 1), // the waiter holds the internal lock
      );
      assert.equal(acquired, false);
      assert.deepEqual(
        events,
        ['settled', 'healed'],
        'settled at its deadline, not once the partition healed',
      );
      assert.deepEqual(statesDuring, [], 'the waiter never noticed the partition (no SUSPENDED)');
      await childCount(observer, holder.lockPath, 0); // the internal lock node goes once connected again
      assert.deepEqual(await holder.leaseHolders(), ['holder']);
      await holder.release();
    });

    test('a lease whose create reply is lost, then the deadline passes while disconnected: the acquire answers at its deadline; the lease goes in the background', async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const zk = await connect(t, proxy.connectString, { sessionTimeout: 30_000 });
      const observer = await connect(t, server);
      const path = uniqueRoot('sem');
      const sem = new Semaphore(zk, path, { identifier: 'w' });
      const lost = proxy.swallowReply({ op: 'multi', path: sem.leasePath }); // then the connection is cut
      proxy.refuse(); // and stays down, well within the session timeout
      const acquiring = sem.acquire({ timeout: 1500 });
      assert.equal((await within(lost.happened, 'the lease create', LIMIT)).reply?.err, 0, 'applied');
      assert.equal(
        await within(
          acquiring,
          'the answer, while still disconnected (the session lives 30 s)',
          timing(8000),
        ),
        false,
      );
      assert.notEqual(zk.state, ConnectionState.CONNECTED, 'answered while disconnected');
      assert.equal(sem.isAcquired, false);
      proxy.accept();
      await childCount(observer, path, 0); // the uncertain lease, found and deleted after the reconnect
      await childCount(observer, sem.lockPath, 0);
      assert.equal(await sem.acquire({ timeout: LIMIT }), true);
      await sem.release();
    });

    test('holders never exceed maxLeases: 6 clients, maxLeases 2, 2 rounds each', async (t) => {
      const N = 6;
      const ROUNDS = 2;
      const path = uniqueRoot('sem');
      const clients = await Promise.all(Array.from({ length: N }, () => connect(t, server)));
      let inside = 0;
      let maxInside = 0;
      const roundsDone = new Array<number>(N).fill(0);
      const overfull: string[][] = [];
      await Promise.all(
        clients.map(async (zk, i) => {
          const sem = new Semaphore(zk, path, { identifier: `c${i}`, maxLeases: 2 });
          for (let round = 0; round < ROUNDS; round++) {
            assert.equal(await sem.acquire({ timeout: LIMIT }), true);
            inside++; // after acquiring, before releasing: never more than the real holders
            maxInside = Math.max(maxInside, inside);
            const holders = await sem.leaseHolders();
            if (holders.length > 2) overfull.push(holders);
            // Stay until a second holder is in, or nobody else will come: forces an overlap. Then
            // stay a little longer: a broken semaphore would let a third acquirer in meanwhile.
            await eventually(
              () => inside >= 2 || roundsDone.every((done, j) => j === i || done === ROUNDS),
              'a second holder',
              LIMIT,
            );
            await delay(100);
            inside--;
            assert.equal(await sem.release(), true);
            roundsDone[i]!++;
          }
        }),
      );
      assert.deepEqual(overfull, []);
      assert.equal(maxInside, 2);
      assert.deepEqual(await clients[0]!.getChildren(path), []);
      assert.deepEqual(await clients[0]!.getChildren(`${path}-__lock__`), []);
    });

    test("SUSPENDED fires the holder's signal; the lease survives the reconnect", async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const zk = await connect(t, proxy.connectString, { sessionTimeout: 10_000 });
      const observer = await connect(t, server);
      const path = uniqueRoot('sem');
      const sem = new Semaphore(zk, path, { identifier: 'suspended' });
      const lostOnly = new Semaphore(zk, uniqueRoot('sem'), { ownershipLostOn: 'LOST' });
      assert.equal(await sem.acquire(), true);
      assert.equal(await lostOnly.acquire(), true);
      const signal = sem.signal;
      const sessionId = zk.sessionId;
      const { suspended, reconnected } = dropConnection(zk, proxy, LIMIT);
      await suspended;
      assert.equal(signal.aborted, true);
      assert.ok(signal.reason instanceof ConnectionLossError);
      assert.equal(lostOnly.signal.aborted, false);
      await reconnected;
      assert.equal(zk.sessionId, sessionId);
      assert.equal(sem.isAcquired, true);
      assert.equal(sem.signal.aborted, false); // a fresh signal for the same session
      assert.equal((await observer.exists(sem.leasePath))?.ephemeralOwner, sessionId);
      assert.equal(await new Semaphore(observer, path).acquire({ blocking: false }), false);
      assert.equal(await sem.release(), true);
      assert.equal(await lostOnly.release(), true);
    });

    test('waiters keep their place through SUSPENDED (in the pool phase and queued on the lock)', async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const zk = await connect(t, proxy.connectString, { sessionTimeout: 10_000 });
      const direct = await connect(t, server);
      const path = uniqueRoot('sem');
      const holder = new Semaphore(direct, path, { identifier: 'holder' });
      assert.equal(await holder.acquire(), true);
      const first = new Semaphore(zk, path, { identifier: 'first' });
      const second = new Semaphore(zk, path, { identifier: 'second' });
      const firstWait = first.acquire();
      await childCount(direct, holder.lockPath, 1);
      const secondWait = second.acquire();
      await childCount(direct, holder.lockPath, 2);
      const lockNodes = sorted(await direct.getChildren(holder.lockPath));
      const sessionId = zk.sessionId;
      const { reconnected } = dropConnection(zk, proxy, LIMIT);
      await reconnected;
      assert.equal(zk.sessionId, sessionId);
      assert.deepEqual(sorted(await direct.getChildren(holder.lockPath)), lockNodes); // same nodes, same places
      assert.equal(await state(firstWait), 'pending');
      await holder.release();
      assert.equal(await within(firstWait, 'first', LIMIT), true);
      assert.equal(await state(secondWait), 'pending');
      assert.deepEqual(await holder.leaseHolders(), ['first']);
      await first.release();
      assert.equal(await within(secondWait, 'second', LIMIT), true);
      assert.deepEqual(await holder.leaseHolders(), ['second']);
      await second.release();
      assert.deepEqual(await direct.getChildren(holder.lockPath), []);
    });

    test('LOST: isAcquired is false at once, the signal fires, the lease node is gone', async (t) => {
      const zk = await connect(t, server);
      const observer = await connect(t, server);
      const path = uniqueRoot('sem');
      const sem = new Semaphore(zk, path, { identifier: 'lost', ownershipLostOn: 'LOST' });
      assert.equal(await sem.acquire(), true);
      const signal = sem.signal;
      let acquiredAtLost: boolean | undefined;
      zk.on('state', (s) => {
        if (s === ConnectionState.LOST) acquiredAtLost ??= sem.isAcquired;
      });
      await server.expireSession(zk);
      await eventually(() => acquiredAtLost !== undefined, 'LOST', LIMIT);
      assert.equal(acquiredAtLost, false);
      assert.equal(signal.aborted, true);
      assert.ok(signal.reason instanceof LockLostError);
      assert.equal(await observer.exists(sem.leasePath), null);
      assert.deepEqual(await new Semaphore(observer, path).leaseHolders(), []);
      assert.equal(await sem.release(), false);
      assert.equal(await sem.acquire({ timeout: LIMIT }), true); // a new lease in the new session
      assert.equal((await observer.exists(sem.leasePath))?.ephemeralOwner, zk.sessionId);
      await sem.release();
    });

    test("onSessionLost: 'fail' — a waiter whose session expires rejects with LockLostError", async (t) => {
      const zk1 = await connect(t, server);
      const zk2 = await connect(t, server);
      const path = uniqueRoot('sem');
      await using holder = new Semaphore(zk2, path);
      assert.equal(await holder.acquire(), true);
      const waiter = new Semaphore(zk1, path, { onSessionLost: 'fail' });
      const waiting = waiter.acquire();
      await childCount(zk2, holder.lockPath, 1);
      await server.expireSession(zk1);
      await assert.rejects(within(waiting, 'the waiter', LIMIT), LockLostError);
      assert.deepEqual(await zk2.getChildren(holder.lockPath), []);
      assert.equal((await zk2.getChildren(path)).length, 1);
    });
  });

  describe('interop with kazoo 2.8', () => {
    test('a kazoo holder counts against our maxLeases', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      // kazoo takes a lease and exits without closing its session: the lease node stays.
      const kazoo = runKazoo(
        server.connectString,
        `
sem = Semaphore(zk, args['path'], identifier='kazoo-holder', max_leases=2)
out['acquired'] = sem.acquire()
keep_session = True
`,
        { path },
      );
      assert.equal(kazoo.out['acquired'], true);
      assert.equal((await zk.get(path)).data.toString('latin1'), '2'); // kazoo's creator wrote it
      const a = new Semaphore(zk, path, { identifier: 'ts-a', maxLeases: 2 });
      const b = new Semaphore(zk, path, { identifier: 'ts-b', maxLeases: 2 });
      assert.equal(await a.acquire({ blocking: false }), true);
      assert.equal(await b.acquire({ blocking: false }), false);
      assert.deepEqual(sorted(await a.leaseHolders()), ['kazoo-holder', 'ts-a']);
      const waiting = b.acquire({ timeout: LIMIT });
      await server.expireSession(kazoo.session); // the kazoo holder's session ends: its lease goes
      assert.equal(await within(waiting, 'ts-b', LIMIT), true);
      assert.deepEqual(sorted(await a.leaseHolders()), ['ts-a', 'ts-b']);
      await a.release();
      await b.release();
    });

    test('our holders count against a kazoo Semaphore; kazoo checks our stored max leases', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      const a = new Semaphore(zk, path, { identifier: 'ts-a', maxLeases: 2 });
      const b = new Semaphore(zk, path, { identifier: 'ts-b', maxLeases: 2 });
      assert.equal(await a.acquire(), true);
      assert.equal(await b.acquire(), true);
      const full = runKazoo(
        server.connectString,
        `
sem = Semaphore(zk, args['path'], identifier='kazoo', max_leases=2)
out['acquired'] = sem.acquire(blocking=False)
out['holders'] = sorted(sem.lease_holders())
try:
    Semaphore(zk, args['path'], max_leases=3).acquire(blocking=False)
    out['mismatch'] = None
except ValueError as e:
    out['mismatch'] = str(e)
out['lock_children'] = zk.get_children(args['path'] + '-__lock__')
`,
        { path },
      );
      assert.equal(full.out['acquired'], false);
      assert.deepEqual(full.out['holders'], ['ts-a', 'ts-b']);
      assert.equal(full.out['mismatch'], 'Inconsistent max leases: 2, expected: 3');
      assert.deepEqual(full.out['lock_children'], []);
      await b.release();
      const free = runKazoo(
        server.connectString,
        `
sem = Semaphore(zk, args['path'], identifier='kazoo', max_leases=2)
out['acquired'] = sem.acquire(blocking=False)
out['holders'] = sorted(sem.lease_holders())
sem.release()
`,
        { path },
      );
      assert.equal(free.out['acquired'], true);
      assert.deepEqual(free.out['holders'], ['kazoo', 'ts-a']);
      assert.deepEqual(await a.leaseHolders(), ['ts-a']);
      await a.release();
    });

    test('a semaphore node created by kazoo with another max leases is a RecipeMismatchError', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('sem');
      runKazoo(
        server.connectString,
        `
sem = Semaphore(zk, args['path'], max_leases=1)
sem.acquire()
sem.release()
`,
        { path },
      );
      assert.equal((await zk.get(path)).data.toString('latin1'), '1');
      await assert.rejects(new Semaphore(zk, path, { maxLeases: 2 }).acquire(), RecipeMismatchError);
      const same = new Semaphore(zk, path, { maxLeases: 1 });
      assert.equal(await same.acquire(), true);
      await same.release();
    });
  });
});
