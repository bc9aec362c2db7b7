/**
 * MultiLock against a real ZooKeeper server: all or nothing within one timeout, release in
 * reverse order, paths or Lock instances (kazoo and Curator naming mixed), abort, SUSPENDED and
 * LOST; and against a real Curator 5.4 process (test/interop/curator/MultilockOps.java): our
 * MultiLock and Curator's InterProcessMultiLock on the same paths exclude each other, both ways.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import {
  AbortError,
  AlreadyAcquiredError,
  CHANNELS,
  ConnectionState,
  InvalidArgumentError,
  Lock,
  MultiLock,
  type LockEvent,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import { connect, dropConnection, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { children } from '../support/recipes.js';
import { eventually, rejectsWithin } from '../support/wait.js';

const server = await serverForFile();

const paths = (root: string) => [`${root}/a`, `${root}/b`, `${root}/c`];

describe('MultiLock', () => {
  test('all or nothing: one lock held elsewhere → false within the timeout and nothing left held; then all, released in reverse order', async (t) => {
    const zk = await connect(t, server);
    const other = await connect(t, server);
    const root = uniqueRoot('multi');
    const [a, b, c] = paths(root);
    const blocker = new Lock(other, b!);
    assert.equal(await blocker.acquire(), true);
    const multi = new MultiLock(zk, [a!, b!, c!]);
    assert.equal(await multi.acquire({ timeout: timing(300) }), false);
    assert.equal(multi.isAcquired, false);
    assert.ok(multi.signal.aborted);
    await eventually(async () => (await children(other, a!)).length === 0, 'the first lock was released');
    assert.deepEqual(await children(other, c!), [], 'the last was never tried');
    await blocker.release();

    const released: string[] = [];
    const onReleased = (message: unknown) => released.push((message as LockEvent).path);
    subscribe(CHANNELS.lockReleased, onReleased);
    t.after(() => unsubscribe(CHANNELS.lockReleased, onReleased));
    assert.equal(await multi.acquire({ timeout: timing(5000) }), true);
    assert.equal(multi.isAcquired, true);
    assert.equal(multi.signal.aborted, false);
    assert.equal(await new Lock(other, c!).acquire({ timeout: 0 }), false, 'held: others are excluded');
    await assert.rejects(multi.acquire(), AlreadyAcquiredError);
    assert.equal(await multi.release(), true);
    assert.deepEqual(released, [c, b, a], 'reverse order');
    for (const path of [a!, b!, c!]) assert.deepEqual(await children(other, path), []);
    assert.equal(await multi.release(), false);
  });

  test('Lock instances of both namings in one MultiLock; bad input is rejected', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('multi');
    const kazoo = new Lock(zk, `${root}/k`);
    const curator = new Lock(zk, `${root}/c`, { naming: 'curator' });
    await using multi = new MultiLock(zk, [kazoo, curator]);
    assert.equal(await multi.acquire(), true);
    assert.match((await zk.getChildren(`${root}/c`))[0]!, /^_c_[0-9a-f-]{36}-lock-\d{10}$/);
    assert.match((await zk.getChildren(`${root}/k`))[0]!, /^[0-9a-f]{32}__lock__\d{10}$/);
    assert.throws(() => new MultiLock(zk, []), InvalidArgumentError);
    assert.throws(() => new MultiLock(zk, [`${root}/x`, `${root}/x`]), InvalidArgumentError);
    assert.throws(() => new MultiLock(zk, [5 as unknown as string]), InvalidArgumentError);
  });

  test('abort while waiting: AbortError, and the locks already taken are released', async (t) => {
    const zk = await connect(t, server);
    const other = await connect(t, server);
    const [a, b] = paths(uniqueRoot('multi'));
    const blocker = new Lock(other, b!);
    await blocker.acquire();
    const controller = new AbortController();
    const multi = new MultiLock(zk, [a!, b!]);
    const acquiring = multi.acquire({ signal: controller.signal });
    await eventually(async () => (await children(other, b!)).length === 2, 'waiting for the second');
    controller.abort();
    assert.ok((await rejectsWithin(acquiring, 'aborted acquire')) instanceof AbortError);
    await eventually(
      async () => (await children(other, a!)).length + (await children(other, b!)).length === 1,
      'only the blocker is left',
    );
    await blocker.release();
  });

  test('SUSPENDED: signal fires, still held when the session survives; LOST: isAcquired false', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 10_000 });
    const multi = new MultiLock(zk, paths(uniqueRoot('multi')));
    assert.equal(await multi.acquire(), true);
    const signal = multi.signal;
    const { suspended, reconnected: connected } = dropConnection(zk, proxy);
    await suspended;
    assert.ok(signal.aborted, 'the signal fires on SUSPENDED');
    await connected;
    assert.equal(multi.isAcquired, true, 'the same session: still held');
    assert.equal(multi.signal.aborted, false, 'a live signal again');
    const lost = nextState(zk, ConnectionState.LOST);
    await server.expireSession(zk);
    await lost;
    assert.equal(multi.isAcquired, false);
    assert.ok(multi.signal.aborted);
    await multi.release();
  });

  test("interop: our MultiLock (naming 'curator') and Curator's InterProcessMultiLock on the same paths exclude each other, both ways", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const lockPaths = paths(uniqueRoot('multi'));
    const acquireJava = async (timeoutMs: number) =>
      (await peer.request('multilock.acquire', { name: 'm', thread: 'm', paths: lockPaths, timeoutMs }))[
        'acquired'
      ];
    assert.equal(await acquireJava(10_000), true);
    const multi = new MultiLock(zk, lockPaths, { naming: 'curator' });
    assert.equal(await multi.acquire({ timeout: timing(500) }), false, 'Curator holds them');
    const ours = multi.acquire({ timeout: timing(10_000) });
    await peer.request('multilock.release', { name: 'm', thread: 'm' });
    assert.equal(await ours, true, 'ours once Curator released');
    assert.equal(await acquireJava(500), false, 'Curator cannot take them while we hold');
    await multi.release();
    assert.equal(await acquireJava(10_000), true);
    await peer.request('multilock.release', { name: 'm', thread: 'm' });
  });
});
