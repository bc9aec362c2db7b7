/**
 * The Curator modes of existing recipes against a real Apache Curator 5.4 process (Debian's jars;
 * test/interop/curator/SemaphoreOps.java, RwlockOps.java, MutexOps.java) on the same server and
 * paths, both directions: `Semaphore({ naming: 'curator' })` ↔ InterProcessSemaphoreV2,
 * `ReadLock`/`WriteLock({ naming: 'curator' })` ↔ InterProcessReadWriteLock, `Lock` ↔
 * InterProcessMutex; hand-over when a holder's session ends; the layouts that cannot share a path
 * failing with `RecipeMismatchError`; SUSPENDED and LOST of the Curator modes.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  ConnectionState,
  Election,
  Lock,
  ReadLock,
  RecipeMismatchError,
  Semaphore,
  WriteLock,
  type ZooKeeperClient,
} from '../../src/index.js';

import { FaultProxy } from '../../src/testing/index.js';
import { connect, dropConnection, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { children } from '../support/recipes.js';
import { eventually, grace, probe, safety, within } from '../support/wait.js';

const server = await serverForFile();

const PROTECTED = '_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-';

async function curatorAcquire(
  peer: CuratorPeer,
  op: string,
  args: Record<string, unknown>,
): Promise<boolean> {
  const answer = await peer.request(op, args);
  return answer['acquired'] === true;
}

/** A client of the server, a Curator peer on it and a fresh path under `prefix`. */
async function withPeer(t: TestContext, prefix: string) {
  const zk = await connect(t, server);
  const peer = await CuratorPeer.start(t, server.connectString);
  return { zk, peer, path: uniqueRoot(prefix) };
}

/** A Curator InterProcessMutex, owned by the peer thread named after it. */
function mutexOf(peer: CuratorPeer, name: string, path: string, timeoutMs: number) {
  return curatorAcquire(peer, 'mutex.acquire', { name, thread: name, path, timeoutMs });
}

/** A Curator semaphore lease: `name` is the peer's handle. */
function leaseOf(peer: CuratorPeer, name: string, path: string, maxLeases: number, timeoutMs: number) {
  return curatorAcquire(peer, 'semaphore.acquire', { name, path, maxLeases, timeoutMs, identifier: name });
}

/** A Curator read or write lock, owned by the peer thread named after it. */
function rwOf(peer: CuratorPeer, name: string, path: string, mode: 'read' | 'write', timeoutMs: number) {
  return curatorAcquire(peer, 'rwlock.acquire', { name, thread: name, path, mode, timeoutMs });
}

function rwRelease(peer: CuratorPeer, name: string, mode: 'read' | 'write') {
  return peer.request('rwlock.release', { name, thread: name, mode });
}

/** `acquire` (started now) waits until `release` runs, then resolves true. */
async function waitsFor(
  acquire: Promise<boolean>,
  release: () => Promise<unknown>,
  what: string,
): Promise<void> {
  const waiting = probe(acquire);
  await grace();
  assert.equal(waiting.settled, false, `${what}: waits while the other holds`);
  await release();
  assert.equal(await within(waiting.promise, what), true);
}

/** The children of `path` in a layout, sorted. */
async function names(zk: ZooKeeperClient, path: string): Promise<string[]> {
  return (await children(zk, path)).sort();
}

describe("Semaphore({ naming: 'curator' }) ↔ InterProcessSemaphoreV2", () => {
  test('1 lease: Curator holds, ours waits and gets it on release; ours holds, Curator times out then gets it', async (t) => {
    const { zk, peer, path } = await withPeer(t, 'csem');
    assert.equal(await leaseOf(peer, 'java', path, 1, 10_000), true);
    const ours = new Semaphore(zk, path, { naming: 'curator', identifier: 'node' });
    assert.equal(await ours.acquire({ timeout: 300 }), false, 'no second lease beside Curator');
    await waitsFor(
      ours.acquire(),
      () => peer.request('semaphore.release', { name: 'java' }),
      'ours gets the lease Curator returned',
    );
    const leases = await children(zk, `${path}/leases`);
    assert.equal(leases.length, 1);
    assert.match(leases[0]!, new RegExp(`^${PROTECTED}lease-\\d{10}$`));
    assert.equal((await zk.get(`${path}/leases/${leases[0]!}`)).data.toString(), 'node');
    assert.deepEqual(await ours.leaseHolders(), ['node']);
    assert.equal(await leaseOf(peer, 'java', path, 1, 300), false, 'Curator gets none while ours holds');
    await waitsFor(leaseOf(peer, 'java', path, 1, 10_000), () => ours.release(), 'Curator gets the lease');
    assert.deepEqual(await ours.leaseHolders(), ['java']);
    await peer.request('semaphore.release', { name: 'java' });
    assert.deepEqual(await children(zk, `${path}/leases`), []);
  });

  test('2 leases: one Curator and one of ours hold together; a third (either side) waits until one returns', async (t) => {
    const [zk1, zk2] = await Promise.all([connect(t, server), connect(t, server)]);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('csem');
    assert.equal(await leaseOf(peer, 'j1', path, 2, 10_000), true);
    const a = new Semaphore(zk1, path, { naming: 'curator', maxLeases: 2, identifier: 'a' });
    const b = new Semaphore(zk2, path, { naming: 'curator', maxLeases: 2, identifier: 'b' });
    assert.equal(await a.acquire({ timeout: 5_000 }), true, 'two leases: ours joins Curator');
    assert.equal(await b.acquire({ timeout: 300 }), false, 'no third lease');
    assert.equal(await leaseOf(peer, 'j2', path, 2, 300), false, 'Curator sees two holders too');
    await waitsFor(
      b.acquire(),
      () => peer.request('semaphore.release', { name: 'j1' }),
      'b takes the returned lease',
    );
    assert.deepEqual((await a.leaseHolders()).sort(), ['a', 'b']);
    const java = leaseOf(peer, 'j2', path, 2, 10_000);
    await a.release();
    assert.equal(await within(java, 'Curator takes the lease a returned'), true);
    await b.release();
    await peer.request('semaphore.release', { name: 'j2' });
  });

  test("hand-over when the holder's session ends: Curator's session expires, our waiter gets the lease; our holder's session expires, Curator's waiter gets it", async (t) => {
    const [zk, zkHolder] = await Promise.all([connect(t, server), connect(t, server)]);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('csem');
    assert.equal(await leaseOf(peer, 'java', path, 1, 10_000), true);
    const ours = new Semaphore(zkHolder, path, { naming: 'curator', identifier: 'ours' });
    const waiting = probe(ours.acquire());
    await eventually(
      async () => (await children(zk, `${path}/locks`)).length === 1,
      'ours waits on the pool',
    );
    await server.expireSession(peer.session);
    assert.equal(await within(waiting.promise, 'ours acquires after the Curator session ended'), true);

    const peer2 = await CuratorPeer.start(t, server.connectString, 'peer2');
    const java = leaseOf(peer2, 'java', path, 1, 30_000);
    await eventually(async () => (await children(zk, `${path}/locks`)).length === 1, 'Curator waits');
    const lost = nextState(zkHolder, ConnectionState.LOST, safety());
    await server.expireSession(zkHolder);
    await lost;
    assert.equal(ours.isAcquired, false, 'LOST: not held');
    assert.equal(ours.signal.aborted, true);
    assert.equal(await within(java, 'Curator acquires after our session ended'), true);
    await peer2.request('semaphore.release', { name: 'java' });
  });

  test('SUSPENDED (proxy drop): the signal fires, the lease is kept and still counts for Curator', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('csem');
    const ours = new Semaphore(zk, path, { naming: 'curator' });
    assert.equal(await ours.acquire(), true);
    const signal = ours.signal;
    const { suspended, reconnected: connected } = dropConnection(zk, proxy);
    await suspended;
    assert.equal(signal.aborted, true);
    assert.equal(ours.isAcquired, true);
    assert.equal(await leaseOf(peer, 'java', path, 1, 300), false, 'the lease still counts');
    await connected;
    assert.equal(ours.signal.aborted, false, 'a fresh signal after the reconnect');
    await ours.release();
    assert.equal(await leaseOf(peer, 'java', path, 1, 10_000), true);
    await peer.request('semaphore.release', { name: 'java' });
  });

  test('layouts meeting on one path: each of ours fails with RecipeMismatchError instead of granting', async (t) => {
    const { zk, peer, path } = await withPeer(t, 'csem');
    assert.equal(await leaseOf(peer, 'java', path, 1, 10_000), true);
    const kazooLayout = new Semaphore(zk, path, { identifier: 'kazoo' });
    await assert.rejects(kazooLayout.acquire({ timeout: 5_000 }), RecipeMismatchError);
    assert.equal(kazooLayout.isAcquired, false);
    assert.deepEqual(await names(zk, path), ['leases', 'locks'], 'no kazoo lease left beside Curator’s');
    await peer.request('semaphore.release', { name: 'java' });

    const other = uniqueRoot('csem');
    const kazooHolder = new Semaphore(zk, other);
    assert.equal(await kazooHolder.acquire(), true);
    const curatorLayout = new Semaphore(zk, other, { naming: 'curator' });
    await assert.rejects(curatorLayout.acquire({ timeout: 5_000 }), RecipeMismatchError);
    assert.equal(curatorLayout.isAcquired, false);
    await kazooHolder.release();
  });
});

describe("ReadLock / WriteLock({ naming: 'curator' }) ↔ InterProcessReadWriteLock", () => {
  test('a Curator writer excludes our readers and writers; our writer excludes Curator readers and writers', async (t) => {
    const { zk, peer, path } = await withPeer(t, 'crw');
    assert.equal(await rwOf(peer, 'w', path, 'write', 10_000), true);
    const reader = new ReadLock(zk, path, { naming: 'curator', identifier: 'r' });
    const writer = new WriteLock(zk, path, { naming: 'curator', identifier: 'w' });
    assert.equal(await reader.acquire({ timeout: 300 }), false, 'no reader beside a Curator writer');
    assert.equal(await writer.acquire({ timeout: 300 }), false, 'no writer beside a Curator writer');
    await waitsFor(writer.acquire(), () => rwRelease(peer, 'w', 'write'), 'our writer takes over');
    const node = writer.nodePath!.slice(path.length + 1);
    assert.match(node, new RegExp(`^${PROTECTED}__WRIT__\\d{10}$`));
    assert.equal(await rwOf(peer, 'r', path, 'read', 300), false, 'no Curator reader beside our writer');
    assert.equal(await rwOf(peer, 'w', path, 'write', 300), false, 'no Curator writer beside our writer');
    await waitsFor(
      rwOf(peer, 'w', path, 'write', 10_000),
      () => writer.release(),
      'the Curator writer takes over',
    );
    await rwRelease(peer, 'w', 'write');
  });

  test('readers share across both sides; a writer (either side) waits for every reader, and readers after it wait for it', async (t) => {
    const { zk, peer, path } = await withPeer(t, 'crw');
    assert.equal(await rwOf(peer, 'r', path, 'read', 10_000), true);
    const reader = new ReadLock(zk, path, { naming: 'curator' });
    assert.equal(await reader.acquire({ timeout: 5_000 }), true, 'readers share');
    assert.match(reader.nodePath!.slice(path.length + 1), new RegExp(`^${PROTECTED}__READ__\\d{10}$`));
    const writer = new WriteLock(zk, path, { naming: 'curator' });
    const ourWriter = probe(writer.acquire());
    await eventually(async () => (await children(zk, path)).length === 3, 'our writer queued');
    // A Curator reader after our queued writer waits for it (no writer starvation).
    assert.equal(await rwOf(peer, 'r2', path, 'read', 300), false, 'a reader queued behind a writer waits');
    await reader.release();
    await grace();
    assert.equal(ourWriter.settled, false, 'the Curator reader still holds');
    await rwRelease(peer, 'r', 'read');
    assert.equal(await within(ourWriter.promise, 'our writer holds once both readers left'), true);
    await writer.release();

    // The other way: our reader holds, a Curator writer waits for it.
    assert.equal(await reader.acquire(), true);
    await waitsFor(
      rwOf(peer, 'w', path, 'write', 10_000),
      () => reader.release(),
      'the Curator writer holds once our reader left',
    );
    await rwRelease(peer, 'w', 'write');
  });

  test('write→read downgrade, both sides: the holder of the write lock takes the read lock; others still wait', async (t) => {
    const { zk, peer, path } = await withPeer(t, 'crw');
    const writer = new WriteLock(zk, path, { naming: 'curator' });
    const reader = new ReadLock(zk, path, { naming: 'curator', writeLock: writer });
    assert.equal(await writer.acquire(), true);
    assert.equal(await reader.acquire({ timeout: 5_000 }), true, 'downgrade: granted while our writer holds');
    await writer.release();
    assert.equal(
      await rwOf(peer, 'w', path, 'write', 300),
      false,
      'the downgraded read lock excludes Curator writers',
    );
    assert.equal(await rwOf(peer, 'r', path, 'read', 5_000), true, 'and shares with Curator readers');
    await rwRelease(peer, 'r', 'read');
    await reader.release();

    // Curator's downgrade: write, then read on the same thread, then release the write lock.
    assert.equal(await rwOf(peer, 'd', path, 'write', 10_000), true);
    assert.equal(await rwOf(peer, 'd', path, 'read', 5_000), true);
    await rwRelease(peer, 'd', 'write');
    const ourWriter = new WriteLock(zk, path, { naming: 'curator' });
    assert.equal(
      await ourWriter.acquire({ timeout: 300 }),
      false,
      'Curator’s downgraded read lock excludes our writer',
    );
    const ourReader = new ReadLock(zk, path, { naming: 'curator' });
    assert.equal(await ourReader.acquire({ timeout: 5_000 }), true, 'and shares with our reader');
    await ourReader.release();
    await rwRelease(peer, 'd', 'read');
    assert.equal(await ourWriter.acquire({ timeout: 5_000 }), true);
    await ourWriter.release();
  });

  test("hand-over when the Curator writer's session ends; SUSPENDED and LOST of our Curator-layout writer", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, server);
    const zkHolder = await connect(t, proxy.connectString);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('crw');
    assert.equal(await rwOf(peer, 'w', path, 'write', 10_000), true);
    const writer = new WriteLock(zkHolder, path, { naming: 'curator' });
    const waiting = probe(writer.acquire());
    await eventually(async () => (await children(zk, path)).length === 2, 'our writer queued');
    await server.expireSession(peer.session);
    assert.equal(await within(waiting.promise, 'our writer holds once the Curator session ended'), true);

    const signal = writer.signal;
    const { suspended, reconnected: connected } = dropConnection(zkHolder, proxy);
    await suspended;
    assert.equal(signal.aborted, true, 'SUSPENDED: the signal fires');
    assert.equal(writer.isAcquired, true);
    await connected;

    const peer2 = await CuratorPeer.start(t, server.connectString, 'peer2');
    const java = rwOf(peer2, 'r', path, 'read', 30_000);
    await eventually(async () => (await children(zk, path)).length === 2, 'the Curator reader queued');
    const lost = nextState(zkHolder, ConnectionState.LOST, safety());
    await server.expireSession(zkHolder);
    await lost;
    assert.equal(writer.isAcquired, false, 'LOST: not held');
    assert.equal(writer.signal.aborted, true);
    assert.equal(await within(java, 'the Curator reader holds once our session ended'), true);
    await rwRelease(peer2, 'r', 'read');
  });

  test('layouts meeting on one path: a kazoo-layout WriteLock or ReadLock beside a Curator writer fails with RecipeMismatchError (was: both held)', async (t) => {
    const { zk, peer, path } = await withPeer(t, 'crw');
    assert.equal(await rwOf(peer, 'w', path, 'write', 10_000), true);
    for (const lock of [new WriteLock(zk, path), new ReadLock(zk, path), new Lock(zk, path)]) {
      await assert.rejects(lock.acquire({ timeout: 5_000 }), RecipeMismatchError);
      assert.equal(lock.isAcquired, false);
    }
    assert.equal((await children(zk, path)).length, 1, 'none of our nodes left behind');
    await rwRelease(peer, 'w', 'write');

    // Ours in kazoo's layout first: a Curator-layout lock of ours refuses the path.
    const kazooWriter = new WriteLock(zk, path);
    assert.equal(await kazooWriter.acquire(), true);
    await assert.rejects(
      new ReadLock(zk, path, { naming: 'curator' }).acquire({ timeout: 5_000 }),
      RecipeMismatchError,
    );
    await kazooWriter.release();
  });
});

describe('Lock ↔ InterProcessMutex, Election ↔ LeaderLatch: hand-over and layouts that meet', () => {
  test("Lock({ naming: 'curator' }): hand-over when the Curator holder's session ends", async (t) => {
    const { zk, peer, path } = await withPeer(t, 'cmutex');
    assert.equal(await mutexOf(peer, 'm', path, 10_000), true);
    const lock = new Lock(zk, path, { naming: 'curator' });
    const waiting = probe(lock.acquire());
    await eventually(async () => (await children(zk, path)).length === 2, 'queued');
    await server.expireSession(peer.session);
    assert.equal(await within(waiting.promise, 'ours holds once the Curator session ended'), true);
    await lock.release();
  });

  test('a default-named Lock beside an InterProcessMutex holder fails with RecipeMismatchError; with naming: curator it waits its turn', async (t) => {
    const { zk, peer, path } = await withPeer(t, 'cmutex');
    assert.equal(await mutexOf(peer, 'm', path, 10_000), true);
    const plain = new Lock(zk, path);
    await assert.rejects(plain.acquire({ timeout: 5_000 }), RecipeMismatchError);
    assert.equal(plain.isAcquired, false);
    assert.equal((await children(zk, path)).length, 1, 'our node is gone');
    const curatorNamed = new Lock(zk, path, { naming: 'curator' });
    assert.equal(await curatorNamed.acquire({ timeout: 300 }), false);
    await peer.request('mutex.release', { name: 'm', thread: 'm' });
  });

  test('an Election (kazoo or Curator layout) beside a Curator LeaderLatch fails with RecipeMismatchError instead of leading too', async (t) => {
    const { zk, peer, path } = await withPeer(t, 'latch');
    await peer.request('latch.start', { name: 'java', path, participant: 'java' });
    await peer.next(/^LATCH_LEADER java$/);
    for (const naming of ['kazoo', 'curator'] as const) {
      const election = new Election(zk, path, { naming });
      let led = false;
      await assert.rejects(
        election.run(() => {
          led = true;
        }),
        RecipeMismatchError,
      );
      assert.equal(led, false, `${naming}: never led beside a LeaderLatch`);
    }
    assert.equal((await peer.request('latch.has', { name: 'java' }))['leader'], true);
    assert.equal((await children(zk, path)).length, 1, 'only the latch node');
    await peer.request('latch.close', { name: 'java' });
  });
});
