/**
 * ChangeWaiter (the wait shared by Lock, Semaphore, Barrier, the queues...) against a real
 * ZooKeeper server behind a FaultProxy: a deadline that passes while SUSPENDED leaves no
 * listener behind, even when the watch-setting read was still queued for the reconnect, and
 * takes no server watch from another listener of the same path (issue 11).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionState, KeeperState, type WatchEvent } from '../../src/index.js';
import { ChangeWaiter } from '../../src/recipes/change-waiter.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { Recorder } from '../support/recorder.js';
import { within } from '../support/wait.js';

const server = await serverForFile();

describe('ChangeWaiter', () => {
  test("a deadline passing while SUSPENDED: the waiter's listener is gone at once and stays gone after the reconnect; another listener's server watch stays", async (t) => {
    const proxy = await FaultProxy.start(server.connectString);
    t.after(() => proxy.close());
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 20_000 });
    const direct = await connect(t, server);
    const path = uniqueRoot('waiter');
    await direct.create(path, 'v1');
    const other = new Recorder<WatchEvent>();
    await zk.get(path, { watch: other.listener });
    const before = zk.watchCount;

    proxy.refuse();
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.drop();
    await suspended;
    // As Lock.waitForChange does: a watching read with the signal only, queued for the reconnect.
    const waiter = new ChangeWaiter(zk, { deadline: Date.now() + 300 });
    const read = zk.get(path, { watch: waiter.watch(path, 'data') });
    assert.equal(await within(waiter.wait(), 'the deadline'), 'deadline');
    waiter.dispose();
    assert.equal(zk.watchCount, before, 'the listener is removed at once, while SUSPENDED');

    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.accept();
    await connected;
    assert.equal((await within(read, 'the queued read, after the reconnect')).data.toString(), 'v1');
    assert.equal(zk.watchCount, before, 'its reply registered nothing');
    await direct.set(path, 'v2');
    assert.deepEqual(
      await other.nth(1),
      { type: 'NodeDataChanged', state: KeeperState.CONNECTED, path },
      "the other listener's server watch stayed",
    );
  });
});
