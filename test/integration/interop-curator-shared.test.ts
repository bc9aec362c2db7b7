/**
 * SharedValue / SharedCount ↔ Curator 5.4's SharedValue / SharedCount
 * (test/interop/curator/SharedOps.java) on one path and server, both directions: whoever starts
 * first seeds the node, each side's writes are read by the other and reported to its listeners,
 * and a `trySet` against a value the other side changed fails on both.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SharedCount, SharedValue } from '../../src/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { Recorder } from '../support/recorder.js';
import { eventually } from '../support/wait.js';

const server = await serverForFile();

describe('SharedValue / SharedCount interop with Curator 5.4', () => {
  test("SharedValue: Curator seeds, we read and write, Curator's listener sees it; Curator writes, ours sees it", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('shared');
    await peer.request('shared.value', { name: 'v', path, seedHex: 'cafe' });
    await using ours = new SharedValue(zk, path, Buffer.from('ignored'));
    await ours.start();
    assert.equal(ours.getValue().toString('hex'), 'cafe', "Curator's seed");
    const seen = Recorder.from(ours.changes()).calls;

    await ours.setValue(Buffer.from('beef', 'hex'));
    await peer.next(/^SHARED_CHANGED v beef$/);
    assert.equal((await peer.request('shared.get', { name: 'v' }))['hex'], 'beef');

    assert.equal((await peer.request('shared.set', { name: 'v', hex: '00ff' })).ok, true);
    await eventually(() => seen.some((value) => value.toString('hex') === '00ff'), 'ours sees the change');
    const stale = { ...ours.getVersionedValue(), value: Buffer.from('beef', 'hex'), zxid: 0n };
    assert.equal(await ours.trySetValue(stale, Buffer.from('01', 'hex')), false);
    assert.equal(await ours.trySetValue(ours.getVersionedValue(), Buffer.from('02', 'hex')), true);
    await peer.next(/^SHARED_CHANGED v 02$/);
    await peer.request('shared.close', { name: 'v' });
  });

  test('SharedCount: ours seeds (int32), Curator reads it; increments from both sides by trySet, each seen by the other', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = `${uniqueRoot('count')}/nested`;
    await using ours = new SharedCount(zk, path, 41);
    await ours.start();
    const seen = Recorder.from(ours.changes()).calls;
    await peer.request('shared.count', { name: 'c', path, seed: 0 });
    assert.equal((await peer.request('shared.get', { name: 'c' }))['count'], 41, 'our seed');

    assert.equal((await peer.request('shared.trySet', { name: 'c', count: 42 }))['set'], true);
    await eventually(() => ours.getCount() === 42, "ours sees Curator's write");
    assert.deepEqual(seen, [42]);
    assert.equal(await ours.trySetCount(ours.getVersionedValue(), 43), true);
    await peer.next(/^SHARED_CHANGED c 0000002b$/);
    assert.equal((await peer.request('shared.get', { name: 'c' }))['count'], 43);
    await ours.setCount(-1);
    await peer.next(/^SHARED_CHANGED c ffffffff$/);
    await peer.request('shared.close', { name: 'c' });
  });
});
