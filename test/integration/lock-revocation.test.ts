/**
 * Lock revocation (Curator's Revoker protocol: a lock node's data set to `__REVOKE__`) against a
 * real ZooKeeper server — ours to ours with both namings, holders and waiters, not after
 * release, across a dropped connection and an expired session — and against a real Curator 5.4
 * process (test/interop/curator/RevokeOps.java) both ways on one path, holders and waiters.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AbortError, Lock, type ZooKeeperClient } from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import { connect, dropConnection, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { Deferred, eventually, grace, within } from '../support/wait.js';

const server = await serverForFile();

/** Drop `zk`'s connection, ask for `node` (through `other`) while it is suspended, wait for the reconnect. */
async function revokeWhileSuspended(
  zk: ZooKeeperClient,
  proxy: FaultProxy,
  other: ZooKeeperClient,
  node: string,
): Promise<void> {
  const { suspended, reconnected } = dropConnection(zk, proxy);
  await suspended;
  await Lock.attemptRevoke(other, node);
  await reconnected;
}

describe('Lock revocation', () => {
  for (const naming of ['kazoo', 'curator'] as const) {
    test(`${naming} naming: attemptRevoke calls the holder's listener, which releases; the requester gets the lock`, async (t) => {
      const holderClient = await connect(t, server);
      const requesterClient = await connect(t, server);
      const path = uniqueRoot('revoke');
      const holder = new Lock(holderClient, path, { naming });
      const revoked = new Deferred<Lock>();
      holder.makeRevocable((lock) => {
        revoked.resolve(lock);
        void lock.release();
      });
      assert.equal(await holder.acquire(), true);
      const requester = new Lock(requesterClient, path, { naming });
      assert.equal(await requester.acquire({ timeout: 0 }), false);
      await Lock.attemptRevoke(requesterClient, holder.nodePath!);
      assert.equal(await within(revoked.promise, 'the listener is called'), holder);
      assert.equal(await requester.acquire({ timeout: timing(5000) }), true);
      await Lock.attemptRevoke(requesterClient, `${path}/gone-0000000000`); // a gone node is ignored
      await requester.release();
    });
  }

  for (const naming of ['kazoo', 'curator'] as const) {
    test(`${naming} naming: a waiter is asked too; its listener aborts the acquire, which leaves no node and no watch`, async (t) => {
      const holderClient = await connect(t, server);
      const zk = await connect(t, server);
      const path = uniqueRoot('revoke');
      const holder = new Lock(holderClient, path, { naming });
      assert.equal(await holder.acquire(), true);
      const waiter = new Lock(zk, path, { naming });
      const giveUp = new AbortController();
      const calls: boolean[] = [];
      waiter.makeRevocable((lock) => {
        calls.push(lock.isAcquired);
        giveUp.abort();
      });
      const aborted = assert.rejects(waiter.acquire({ signal: giveUp.signal }), AbortError);
      await eventually(() => waiter.nodePath !== undefined && zk.watchCount === 2, 'the waiter watches');
      await Lock.attemptRevoke(holderClient, waiter.nodePath!);
      await within(aborted, 'the acquire is aborted');
      assert.deepEqual(calls, [false], 'called once, as a waiter');
      await eventually(async () => (await zk.getChildren(path)).length === 1, 'the waiter node is removed');
      await eventually(() => zk.watchCount === 0, 'no watch is left');

      // A waiter that is never asked: timed out, no watch; granted, then released, no watch.
      assert.equal(await waiter.acquire({ timeout: timing(300) }), false);
      assert.equal(zk.watchCount, 0, 'no watch after a timed-out acquire');
      const granted = waiter.acquire();
      await eventually(() => zk.watchCount === 2, 'waiting again');
      await holder.release();
      assert.equal(await within(granted, 'granted'), true);
      assert.equal(zk.watchCount, 1, 'the holder watches its node');
      await waiter.release();
      await eventually(() => zk.watchCount === 0, 'no watch after release');
      assert.deepEqual(calls, [false]);
    });
  }

  test('a waiter: a request made while suspended arrives after the reconnect; after its session expired it watches its new node', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const other = await connect(t, server);
    const path = uniqueRoot('revoke');
    const holder = new Lock(other, path, { naming: 'curator' });
    await holder.acquire();
    const waiter = new Lock(zk, path, { naming: 'curator' });
    const calls: string[] = [];
    waiter.makeRevocable((lock) => calls.push(lock.nodePath!));
    const acquiring = waiter.acquire({ timeout: timing(30_000) });
    await eventually(() => zk.watchCount === 2, 'the waiter watches');
    const first = waiter.nodePath!;

    await revokeWhileSuspended(zk, proxy, other, first);
    await eventually(() => calls.length === 1, 'the listener is called after the reconnect');
    assert.deepEqual(calls, [first]);

    // LOST: the waiter re-queues with a new node (onSessionLost: 'requeue'), which is watched.
    await server.expireSession(zk);
    await eventually(() => waiter.nodePath !== undefined && waiter.nodePath !== first, 're-queued');
    const second = waiter.nodePath!;
    await eventually(() => zk.watchCount === 2, 'the new node is watched');
    await Lock.attemptRevoke(other, first); // gone: ignored
    await Lock.attemptRevoke(other, second);
    await eventually(() => calls.length === 2, 'the new node is asked');
    assert.deepEqual(calls, [first, second]);
    await holder.release();
    assert.equal(await acquiring, true, 'cooperative: a listener that does nothing keeps its place');
    await waiter.release();
    await eventually(() => zk.watchCount === 0, 'no watch left');
  });

  test('no listener call for a lock that is not revocable, nor after release; a request made while suspended arrives after the reconnect', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const other = await connect(t, server);
    const path = uniqueRoot('revoke');
    const plain = new Lock(zk, path);
    await plain.acquire();
    await Lock.attemptRevoke(other, plain.nodePath!);
    await plain.release();

    const calls: string[] = [];
    const lock = new Lock(zk, path);
    lock.makeRevocable(() => calls.push('revoked'));
    await lock.acquire();
    await grace();
    assert.deepEqual(calls, [], 'nothing asked yet');
    const node = lock.nodePath!;
    await revokeWhileSuspended(zk, proxy, other, node);
    await eventually(() => calls.length === 1, 'the listener is called after the reconnect');
    assert.equal(lock.isAcquired, true, 'cooperative: still held until the listener releases');
    await lock.release();
    await grace();
    assert.deepEqual(calls, ['revoked']);
  });

  test('interop: we ask a revocable Curator InterProcessMutex to release, and Curator asks ours', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('revoke');
    const held = await peer.request('revoke.acquire', { name: 'j', thread: 'j', path, timeoutMs: 10_000 });
    assert.equal(held['acquired'], true);
    const ours = new Lock(zk, path, { naming: 'curator' });
    const acquiring = ours.acquire({ timeout: timing(10_000) });
    await Lock.attemptRevoke(zk, String(held['node']));
    await peer.next(/^REVOKE_REQUESTED j$/);
    await peer.request('revoke.release', { name: 'j', thread: 'j' });
    assert.equal(await acquiring, true, 'ours once Curator released');

    const revoked = new Deferred();
    ours.makeRevocable((lock) => {
      revoked.resolve();
      void lock.release();
    });
    const javaAcquire = peer.request('mutex.acquire', { name: 'm', thread: 'm', path, timeoutMs: 10_000 });
    await eventually(async () => (await zk.getChildren(path)).length === 2, 'Curator waits');
    await peer.request('revoke.attempt', { path: ours.nodePath });
    await within(revoked.promise, 'our listener is called');
    assert.equal((await javaAcquire)['acquired'], true, 'Curator gets it once we released');
    await peer.request('mutex.release', { name: 'm', thread: 'm' });
  });

  test('interop: we ask a waiting revocable Curator InterProcessMutex to give up, and Curator asks our waiter', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('revoke');
    const holder = new Lock(zk, path, { naming: 'curator' });
    assert.equal(await holder.acquire(), true);
    const javaWaits = peer.request('revoke.acquire', { name: 'w', thread: 'w', path, timeoutMs: 10_000 });
    const javaNode = await eventually(async () => {
      const children = await zk.getChildren(path);
      return children.find((child) => `${path}/${child}` !== holder.nodePath);
    }, 'Curator waits');
    // Curator's waiter reads its node with a watch without checking the data it read
    // (LockInternals.internalLockLoop), so a request made before that read is not seen: ask
    // again until it is (each set fires the watch anew).
    await eventually(async () => {
      await Lock.attemptRevoke(zk, `${path}/${javaNode}`);
      await grace();
      return peer.saw(/^REVOKE_REQUESTED w$/);
    }, "Curator's listener is called");
    await holder.release();
    assert.equal((await javaWaits)['acquired'], true, 'Curator got it once we released');

    const waiter = new Lock(zk, path, { naming: 'curator' });
    const giveUp = new AbortController();
    const revoked = new Deferred<boolean>();
    waiter.makeRevocable((lock) => {
      revoked.resolve(lock.isAcquired);
      giveUp.abort();
    });
    const aborted = assert.rejects(waiter.acquire({ signal: giveUp.signal }), AbortError);
    await eventually(() => zk.watchCount === 2, 'our waiter waits');
    await peer.request('revoke.attempt', { path: waiter.nodePath });
    assert.equal(await within(revoked.promise, 'our listener is called'), false, 'as a waiter');
    await within(aborted, 'the acquire is aborted');
    await peer.request('revoke.release', { name: 'w', thread: 'w' });
    await eventually(async () => (await zk.getChildren(path)).length === 0, 'no node left');
    await eventually(() => zk.watchCount === 0, 'no watch left');
  });
});
