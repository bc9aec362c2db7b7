/**
 * DistributedAtomicLong against a real ZooKeeper server (Curator's TestDistributedAtomicLong
 * adapted): Curator's 8-byte encoding, concurrent increments that sum exactly (optimistic, and
 * promoted to a Curator-named mutex), compareAndSet / initialize / trySet, and increments through
 * SUSPENDED (proxy drop) and LOST (real expiry) still counted once each. Interop with Curator:
 * its increments and ours on one node add up (test/interop/curator/AtomicOps.java).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionState, DistributedAtomicLong, InvalidArgumentError } from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { children } from '../support/recipes.js';

const server = await serverForFile();

describe('DistributedAtomicLong', () => {
  test("Curator's 8-byte big-endian; get of a missing node is 0; compareAndSet, initialize, trySet", async (t) => {
    const zk = await connect(t, server);
    const path = `${uniqueRoot('atomic')}/nested/hits`;
    const atomic = new DistributedAtomicLong(zk, path);
    assert.deepEqual(await atomic.get(), { succeeded: true, preValue: 0n, postValue: 0n });
    assert.deepEqual(
      await atomic.compareAndSet(0n, 5n),
      { succeeded: false, preValue: 0n, postValue: 0n },
      'a missing node never matches',
    );
    assert.equal(await atomic.initialize(-2n), true);
    assert.equal(await atomic.initialize(7n), false, 'exists already');
    assert.equal((await zk.get(path)).data.toString('hex'), 'fffffffffffffffe');
    assert.deepEqual(await atomic.increment(), { succeeded: true, preValue: -2n, postValue: -1n });
    assert.deepEqual(await atomic.compareAndSet(-1n, 2n ** 40n), {
      succeeded: true,
      preValue: -1n,
      postValue: 2n ** 40n,
    });
    assert.deepEqual(await atomic.compareAndSet(0n, 1n), {
      succeeded: false,
      preValue: 2n ** 40n,
      postValue: 2n ** 40n,
    });
    assert.equal((await atomic.trySet(9n)).postValue, 9n);
    assert.equal((await zk.get(path)).data.toString('hex'), '0000000000000009');
    await assert.rejects(atomic.add(1 as unknown as bigint), InvalidArgumentError);
    assert.deepEqual(await children(zk, path), [], 'no marker left');
  });

  test('two clients increment concurrently, optimistic and promoted to a mutex: the sum is exact', async (t) => {
    const zks = [await connect(t, server), await connect(t, server)];
    const path = uniqueRoot('atomic');
    const lockPath = uniqueRoot('atomic-lock');
    const counters = zks.map(
      (zk) => new DistributedAtomicLong(zk, path, { tries: 1, promotedToLock: { path: lockPath } }),
    );
    const succeeded = await Promise.all(
      counters.map(async (counter) => {
        let ok = 0;
        for (let i = 0; i < 25; i++) if ((await counter.increment()).succeeded) ok++;
        return ok;
      }),
    );
    const total = succeeded[0]! + succeeded[1]!;
    assert.equal((await counters[0]!.get()).postValue, BigInt(total), 'every success counted once');
    assert.ok(total > 25, `most increments succeed (${total})`);
  });

  test('increments through SUSPENDED (proxy drop) and LOST (real expiry) are each counted once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const path = uniqueRoot('atomic');
    const atomic = new DistributedAtomicLong(zk, path);
    await atomic.increment();
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.drop();
    await suspended;
    assert.equal((await atomic.increment()).postValue, 2n, 'waits for the reconnect');
    const lost = nextState(zk, ConnectionState.LOST);
    await server.expireSession(zk);
    await lost;
    assert.equal((await atomic.increment()).postValue, 3n, 'goes on in the new session');
    assert.equal((await atomic.get()).postValue, 3n);
  });

  test('interop: Curator DistributedAtomicLong and ours add to one node concurrently; the sum is exact', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('atomic');
    const lockPath = uniqueRoot('atomic-lock');
    const ours = new DistributedAtomicLong(zk, path, { tries: 2, promotedToLock: { path: lockPath } });
    const [theirs, mine] = await Promise.all([
      peer.request('atomic.add', { path, delta: 3, times: 20, lockPath }),
      (async () => {
        let ok = 0;
        for (let i = 0; i < 20; i++) if ((await ours.add(5n)).succeeded) ok++;
        return ok;
      })(),
    ]);
    const expected = BigInt((theirs['succeeded'] as number) * 3 + mine * 5);
    assert.equal((await ours.get()).postValue, expected);
    assert.equal(
      BigInt((await peer.request('atomic.get', { path }))['value'] as number),
      expected,
      'Curator reads the same',
    );
  });
});
