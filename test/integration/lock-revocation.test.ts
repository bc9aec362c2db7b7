/**
 * Lock revocation (Curator's Revoker protocol: the holder's node data set to `__REVOKE__`)
 * against a real ZooKeeper server — ours to ours with both namings, not after release, across a
 * dropped connection — and against a real Curator 5.4 process (test/interop/curator/
 * RevokeOps.java) both ways on one path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConnectionState, Lock } from '../../src/index.js';
import { FaultProxy, timing, ZooKeeperServer } from '../../src/testing/index.js';
import { connect, nextState, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { Deferred, eventually, grace, within } from '../support/wait.js';

let server: ZooKeeperServer;
before(async () => {
  server = await ZooKeeperServer.start();
});
after(() => server?.close());

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
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.drop();
    await suspended;
    await Lock.attemptRevoke(other, node);
    await connected;
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
});
