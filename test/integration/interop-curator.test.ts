/**
 * Interop with a real Apache Curator 5.4 process (Debian's jars; test/interop/curator/
 * CuratorPeer.java, driven by test/support/curator.ts) on the same server and paths, both
 * directions: Counter ↔ SharedCount (whoever creates the counter node seeds it).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Election } from '../../src/index.js';
import { LockUnavailableError, withLock } from '../../src/di/index.js';
import { Deferred, eventually } from '../support/wait.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';

const server = await serverForFile();

describe('interop with Curator 5.4', () => {
  test('Counter({ curator: true }) reads what SharedCount seeded and incremented, and SharedCount ours', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('counter');
    assert.equal((await peer.request('counter.get', { path, seed: 7 }))['value'], 7);
    const counter = new Counter(zk, path, { curator: true });
    assert.equal(await counter.get(), 7);
    await peer.request('counter.add', { path, delta: 5 });
    assert.equal(await counter.get(), 12);
    assert.deepEqual(await counter.add(-20), { pre: 12, post: -8 });
    assert.equal((await peer.request('counter.get', { path }))['value'], -8);
  });

  test('a Counter({ curator: true }) read first creates the node seeded (int32 of its default): SharedCount reads and increments it', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = `${uniqueRoot('counter')}/nested/hits`;
    const counter = new Counter(zk, path, { curator: true, default: 41 });
    assert.equal(await counter.get(), 41);
    assert.equal((await zk.get(path)).data.toString('hex'), '00000029', 'seeded, not empty');
    assert.equal((await peer.request('counter.get', { path, seed: 0 }))['value'], 41);
    assert.deepEqual(
      await peer.request('counter.add', { path, delta: 1 }).then((a) => [a['pre'], a['post']]),
      [41, 42],
    );
    assert.equal(await counter.get(), 42);
  });

  test('SharedCount first (seeded), then our Counter reads, adds, and SharedCount sees it', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('counter');
    assert.equal((await peer.request('counter.get', { path, seed: -3 }))['value'], -3);
    const counter = new Counter(zk, path, { curator: true, default: 100 });
    assert.equal(await counter.get(), -3, 'the existing node wins over our default');
    await counter.add(10);
    assert.equal((await peer.request('counter.get', { path, seed: 0 }))['value'], 7);
  });

  test("Election({ naming: 'curator' }) and a Curator LeaderSelector on one path: never both lead, leadership passes both ways", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('election');
    const election = new Election(zk, path, { identifier: 'node', naming: 'curator' });
    const stepDown = new Deferred();
    const leading = new Deferred();
    const ours = election.run(async () => {
      leading.resolve();
      await stepDown.promise;
    });
    await leading.promise;
    await peer.request('selector.start', { name: 'java', path, participant: 'java' });
    await eventually(async () => (await election.contenders()).length === 2, 'the selector queued');
    assert.equal(peer.saw(/^LEADER java$/), false, 'Curator does not lead while we do');
    stepDown.resolve();
    await ours;
    await peer.next(/^LEADER java$/);
    const ourTurn = election.run(() => 'led');
    await eventually(async () => (await election.contenders()).length === 2, 'we queued');
    assert.equal(election.isLeader, false, 'we do not lead while Curator does');
    await peer.request('selector.release', { name: 'java' });
    assert.equal(await ourTurn, 'led');
    await peer.request('selector.close', { name: 'java' });
  });

  test("withLock({ naming: 'curator' }) and Curator's InterProcessMutex on one path exclude each other, both ways", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('lock');
    assert.equal(
      (await peer.request('mutex.acquire', { name: 'm', thread: 'm', path, timeoutMs: 10_000 }))['acquired'],
      true,
    );
    await assert.rejects(
      withLock(zk, path, () => 'never', { naming: 'curator', timeout: 500 }),
      LockUnavailableError,
    );
    await peer.request('mutex.release', { name: 'm', thread: 'm' });
    const inside = await withLock(
      zk,
      path,
      async () =>
        (await peer.request('mutex.acquire', { name: 'm', thread: 'm', path, timeoutMs: 500 }))['acquired'],
      { naming: 'curator' },
    );
    assert.equal(inside, false, 'Curator cannot take the mutex while withLock holds it');
    assert.equal(
      (await peer.request('mutex.acquire', { name: 'm', thread: 'm', path, timeoutMs: 10_000 }))['acquired'],
      true,
    );
    await peer.request('mutex.release', { name: 'm', thread: 'm' });
  });
});
