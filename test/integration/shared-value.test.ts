/**
 * SharedValue and SharedCount against a real ZooKeeper server (Curator's TestSharedCount
 * adapted): seeding, reads kept current by the watch, `changes()`, `trySetValue` against a
 * stale version, Curator's int32 shared with `Counter({ curator: true })`, a write whose reply was
 * lost (proven applied, once), SUSPENDED and LOST (changes made meanwhile are seen afterwards).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectionState,
  Counter,
  InvalidArgumentError,
  RecipeMismatchError,
  RecipeStateError,
  SharedCount,
  SharedValue,
} from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { children } from '../support/recipes.js';
import { Recorder } from '../support/recorder.js';
import { eventually, within } from '../support/wait.js';

const server = await serverForFile();

describe('SharedValue', () => {
  test('start seeds the node (parents too) unless it exists; setValue is seen by the other through changes()', async (t) => {
    const zk = await connect(t, server);
    const zkOther = await connect(t, server);
    const path = `${uniqueRoot('shared')}/nested/value`;
    await using first = new SharedValue(zk, path, Buffer.from('seed'));
    await using second = new SharedValue(zkOther, path, Buffer.from('other seed'));
    await assert.rejects(first.setValue(Buffer.from('x')), RecipeStateError, 'not started');
    await first.start();
    await second.start();
    assert.equal(second.getValue().toString(), 'seed', 'the existing node wins over the seed');
    assert.deepEqual((await zk.get(path)).data, Buffer.from('seed'));
    const seen = Recorder.from(second.changes()).calls;
    await first.setValue(Buffer.from('one'));
    assert.equal(first.getValue().toString(), 'one');
    await eventually(() => seen.length === 1, 'second sees the change');
    assert.equal(seen[0]!.toString(), 'one');
    assert.equal(second.getValue().toString(), 'one');
    assert.equal(second.getVersionedValue().version, 1);
    await zkOther.set(path, Buffer.from('two'));
    await eventually(() => first.getValue().toString() === 'two', 'a plain write is seen too');
    await eventually(() => seen.length === 2, 'and reported');
    assert.deepEqual(await children(zk, path), [], 'no marker left');
  });

  test('trySetValue: false against a stale value (then the value is read again), true against the current one', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('shared');
    await using value = new SharedValue(zk, path, Buffer.from('a'));
    await value.start();
    const seen = value.getVersionedValue();
    await zk.set(path, Buffer.from('b'));
    // Before the watch reports it, the write at the seen version fails on the server.
    const stale = await value.trySetValue(seen, Buffer.from('mine'));
    assert.equal(stale, false);
    assert.equal(value.getValue().toString(), 'b', 'read again');
    assert.equal((await zk.get(path)).data.toString(), 'b', 'nothing written');
    assert.equal(await value.trySetValue(value.getVersionedValue(), Buffer.from('c')), true);
    assert.equal((await zk.get(path)).data.toString(), 'c');
    assert.equal(await value.trySetValue(seen, Buffer.from('d')), false, 'an old versioned value');
    await assert.rejects(() => value.setValue('text' as unknown as Buffer), InvalidArgumentError);
  });

  test('a trySetValue whose reply was lost is proven applied by its marker: true, written once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('shared');
    await using value = new SharedValue(zk, path, Buffer.from('a'));
    await value.start();
    proxy.swallowReply({ op: 'multi', path }, { then: 'cut' });
    const result = await within(
      value.trySetValue(value.getVersionedValue(), Buffer.from('b')),
      'trySetValue',
    );
    assert.equal(result, true, 'applied, proven by the marker');
    const { data, stat } = await zkOther.get(path);
    assert.equal(data.toString(), 'b');
    assert.equal(stat.version, 1, 'written once');
    await eventually(async () => (await children(zkOther, path)).length === 0, 'the marker is deleted');
  });

  test('SUSPENDED and LOST: the value changed meanwhile is seen once reconnected; writes go on in the new session', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('shared');
    await using value = new SharedValue(zk, path, Buffer.from('0'));
    await value.start();
    const seen = Recorder.from(value.changes()).calls;

    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.blackhole();
    await suspended;
    await zkOther.set(path, Buffer.from('1'));
    assert.equal(value.getValue().toString(), '0', 'the cached value while suspended');
    proxy.heal();
    proxy.drop();
    await connected;
    await eventually(() => value.getValue().toString() === '1', 'read again on reconnect');

    const lost = nextState(zk, ConnectionState.LOST);
    await server.expireSession(zk);
    await lost;
    await zkOther.set(path, Buffer.from('2'));
    await eventually(() => value.getValue().toString() === '2', 'watching in the new session');
    await value.setValue(Buffer.from('3'));
    assert.equal((await zkOther.get(path)).data.toString(), '3');
    // Its own write is reported once, whichever of the reply and the watch's read comes first.
    await eventually(() => seen.length === 3, 'the own write is reported');
    assert.deepEqual(
      seen.map((b) => b.toString()),
      ['1', '2', '3'],
    );
  });
});

describe('SharedCount', () => {
  test("Curator's int32 big-endian; the same node as Counter({ curator: true }); bad input and a foreign node are typed errors", async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('count');
    await using count = new SharedCount(zk, path, -3);
    await count.start();
    assert.equal((await zk.get(path)).data.toString('hex'), 'fffffffd');
    assert.equal(count.getCount(), -3);
    const seen = Recorder.from(count.changes()).calls;
    const counter = new Counter(zk, path, { curator: true });
    assert.deepEqual(await counter.add(10), { pre: -3, post: 7 });
    await eventually(() => count.getCount() === 7, 'the Counter write is seen');
    assert.equal(await count.trySetCount(count.getVersionedValue(), 8), true);
    assert.equal(await counter.get(), 8);
    await count.setCount(2 ** 31 - 1);
    assert.equal((await zk.get(path)).data.toString('hex'), '7fffffff');
    await eventually(() => seen.includes(7), 'changes() reports counts');
    await assert.rejects(count.setCount(2 ** 31), InvalidArgumentError);
    assert.throws(() => new SharedCount(zk, path, 1.5), InvalidArgumentError);

    const foreign = uniqueRoot('count');
    await zk.create(foreign, Buffer.from('abc'));
    await assert.rejects(new SharedCount(zk, foreign, 0).start(), RecipeMismatchError);
  });
});
