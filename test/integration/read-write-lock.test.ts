/**
 * ReadLock / WriteLock against a real ZooKeeper server (kazoo's recipe/lock.py ReadLock and
 * WriteLock, kazoo/tests/test_lock.py): kazoo's
 * test_read_lock, test_write_lock and test_rw_lock (HEAD semantics: no #649 deadlock), FIFO
 * between readers and writers, and how they mix with a plain Lock on one path. Issue 11 scenario 4: a
 * reader is blocked by every writer layout a caller can ask for.
 * A second acquire on a held instance rejects AlreadyAcquiredError (kazoo: False).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AlreadyAcquiredError,
  ConnectionState,
  InvalidArgumentError,
  Lock,
  ReadLock,
  RecipeMismatchError,
  WriteLock,
} from '../../src/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { children, contendersReach, HolderTracker } from '../support/recipes.js';
import { eventually, grace, probe, safety, within } from '../support/wait.js';

const server = await serverForFile();

describe('ReadLock / WriteLock: kazoo tests', () => {
  test('test_read_lock: readers share across clients; a second acquire on one instance is refused; a writer is not admitted', async (t) => {
    const [zk1, zk2, zk3] = await Promise.all([connect(t, server), connect(t, server), connect(t, server)]);
    const path = uniqueRoot('rw');
    const lock = new ReadLock(zk1, path, { identifier: 'reader one' });
    assert.equal(await lock.acquire({ blocking: false }), true);
    assert.equal(lock.isAcquired, true);
    await assert.rejects(lock.acquire({ blocking: false }), AlreadyAcquiredError);
    const lock2 = new ReadLock(zk2, path, { identifier: 'reader two' });
    assert.equal(await lock2.acquire({ blocking: false }), true);
    assert.equal(lock2.isAcquired, true);
    await assert.rejects(lock2.acquire({ blocking: false }), AlreadyAcquiredError);
    const lock3 = new WriteLock(zk3, path, { identifier: 'writer' });
    assert.equal(await lock3.acquire({ blocking: false }), false);
    assert.deepEqual(await lock3.contenders(), ['reader one', 'reader two']);
    assert.equal((await children(zk1, path)).length, 2, 'the refused writer left no node');
    await lock.release();
    await lock2.release();
    assert.equal(await lock3.acquire({ blocking: false }), true, 'the writer gets in once the readers left');
    await lock3.release();
  });

  test('test_write_lock: a writer holds; a second acquire on it is refused; a reader from another client is not admitted', async (t) => {
    const zk1 = await connect(t, server);
    const zk2 = await connect(t, server);
    const path = uniqueRoot('rw');
    const lock = new WriteLock(zk1, path, { identifier: 'writer' });
    assert.equal(await lock.acquire({ blocking: false }), true);
    assert.equal(lock.isAcquired, true);
    await assert.rejects(lock.acquire({ blocking: false }), AlreadyAcquiredError);
    const lock2 = new ReadLock(zk2, path, { identifier: 'reader' });
    assert.equal(await lock2.acquire({ blocking: false }), false);
    assert.deepEqual(await lock2.contenders(), ['writer']);
    await lock.release();
  });

  test('test_rw_lock (HEAD): writer holds, reader then writer queue; order test → reader → writer, no deadlock', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('rw');
    const lock = new WriteLock(zk, path, { identifier: 'test' });
    assert.equal(await lock.acquire(), true);
    const order: string[] = [];
    const reader = new ReadLock(zk, path, { identifier: 'reader' });
    const readerGot = probe(reader.acquire().then((ok) => (order.push('reader'), ok)));
    // Wait until the reader is a contender before starting the writer (kazoo HEAD 6540c93).
    await contendersReach(lock, 2);
    const writer = new WriteLock(zk, path, { identifier: 'writer' });
    const writerGot = probe(writer.acquire().then((ok) => (order.push('writer'), ok)));
    assert.deepEqual(await contendersReach(lock, 3), ['test', 'reader', 'writer']);
    await lock.release();
    assert.equal(await within(readerGot.promise, 'the reader acquires (no #649 deadlock)'), true);
    await grace();
    assert.equal(writerGot.settled, false, 'the writer waits for the reader');
    assert.equal(writer.isAcquired, false);
    await reader.release();
    assert.equal(await within(writerGot.promise, 'the writer acquires'), true);
    assert.deepEqual(order, ['reader', 'writer']);
    await writer.release();
  });
});

describe('ReadLock / WriteLock: semantics', () => {
  test('scenario 4: a ReadLock and a WriteLock are never held at once, whatever layout the writer is asked for', async (t) => {
    const [zkW, zkR] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('rw');
    // What a JS caller can pass (Curator first: it is the layout a kazoo reader used to miss).
    const asked: Record<string, unknown>[] = [
      { naming: 'curator' },
      { naming: 'kazoo' },
      {},
      { extraLockPatterns: ['-lock-'] },
    ];
    for (const options of asked) {
      const writer = new WriteLock(zkW, path, options as never);
      assert.equal(await writer.acquire({ blocking: false }), true);
      const reader = new ReadLock(zkR, path);
      let both: boolean;
      try {
        both = await reader.acquire({ blocking: false });
      } catch (error) {
        // A kazoo-layout reader beside a Curator-layout writer: refused, never granted.
        assert.ok(error instanceof RecipeMismatchError && options['naming'] === 'curator', String(error));
        both = false;
      }
      if (both) await reader.release();
      await writer.release();
      assert.equal(both, false, `a reader held together with a writer made with ${JSON.stringify(options)}`);
    }
    assert.throws(() => new ReadLock(zkR, path, { naming: 'zookeeper' } as never), InvalidArgumentError);
    assert.deepEqual(await children(zkR, path), [], 'no node left behind');
  });

  test('readers ahead of a queued writer hold together; a reader arriving after the writer waits for it (FIFO)', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('rw');
    const tracker = new HolderTracker();
    const r1 = new ReadLock(zk, path, { identifier: 'r1' });
    const r2 = new ReadLock(zk, path, { identifier: 'r2' });
    assert.equal(await r1.acquire(), true);
    assert.equal(await r2.acquire(), true);
    const w = tracker.add(new WriteLock(zk, path, { identifier: 'w' }));
    const wGot = probe(w.acquire());
    await contendersReach(r1, 3);
    const r3 = new ReadLock(zk, path, { identifier: 'r3' });
    assert.equal(await r3.acquire({ blocking: false }), false, 'a later reader does not overtake the writer');
    const r3Got = probe(r3.acquire());
    assert.deepEqual(await contendersReach(r1, 4), ['r1', 'r2', 'w', 'r3']);
    await r1.release();
    await grace();
    assert.equal(wGot.settled, false, 'the writer still waits for r2');
    await r2.release();
    assert.equal(await within(wGot.promise, 'the writer acquires'), true);
    assert.equal(r3Got.settled, false);
    await w.release();
    assert.equal(await within(r3Got.promise, 'r3 acquires'), true);
    await r3.release();
  });

  test('a plain Lock and a WriteLock exclude each other, both ways', async (t) => {
    const zk1 = await connect(t, server);
    const zk2 = await connect(t, server);
    const path = uniqueRoot('rw');
    const lock = new Lock(zk1, path, { identifier: 'lock' });
    const writer = new WriteLock(zk2, path, { identifier: 'writer' });
    assert.equal(await lock.acquire(), true);
    assert.equal(await writer.acquire({ blocking: false }), false);
    const writerGot = probe(writer.acquire());
    assert.deepEqual(await contendersReach(lock, 2), ['lock', 'writer']);
    await grace();
    assert.equal(writerGot.settled, false);
    await lock.release();
    assert.equal(await within(writerGot.promise, 'the writer acquires'), true);
    assert.equal(await lock.acquire({ blocking: false }), false, 'the Lock is blocked by the WriteLock');
    const lockGot = probe(lock.acquire());
    await contendersReach(lock, 2);
    await writer.release();
    assert.equal(await within(lockGot.promise, 'the Lock acquires'), true);
    await lock.release();
  });

  test('a plain Lock does not see readers (both hold at once); readers and writers do see a plain Lock', async (t) => {
    const zk1 = await connect(t, server);
    const zk2 = await connect(t, server);
    const path = uniqueRoot('rw');
    const reader = new ReadLock(zk1, path, { identifier: 'reader' });
    assert.equal(await reader.acquire(), true);
    const lock = new Lock(zk2, path, { identifier: 'lock' });
    assert.equal(
      await lock.acquire({ blocking: false }),
      true,
      'kazoo behaviour: a Lock ignores __rlock__ nodes',
    );
    assert.deepEqual(await lock.contenders(), ['lock'], "a Lock's contenders() lists no readers");
    assert.deepEqual(await reader.contenders(), ['reader', 'lock'], "a ReadLock's contenders() lists both");
    // The reader holds while the Lock holds (it was first); a new reader is blocked by the Lock.
    const reader2 = new ReadLock(zk1, path, { identifier: 'reader2' });
    assert.equal(
      await reader2.acquire({ blocking: false }),
      false,
      'a reader treats a plain Lock as a writer',
    );
    const writer = new WriteLock(zk1, path, { identifier: 'writer' });
    assert.equal(await writer.acquire({ blocking: false }), false);
    await lock.release();
    assert.equal(await reader2.acquire({ blocking: false }), true);
    assert.equal(await writer.acquire({ blocking: false }), false, 'a writer is blocked by readers');
    await reader.release();
    await reader2.release();
    assert.equal(await writer.acquire({ blocking: false }), true);
    await writer.release();
  });

  test('LOST of a reading holder (real expiry): its signal fires and the waiting writer acquires', async (t) => {
    const zkR = await connect(t, server);
    const zkW = await connect(t, server);
    const path = uniqueRoot('rw');
    const reader = new ReadLock(zkR, path, { identifier: 'reader' });
    assert.equal(await reader.acquire(), true);
    const writer = new WriteLock(zkW, path, { identifier: 'writer' });
    const writerGot = probe(writer.acquire());
    await contendersReach(writer, 2);
    await server.expireSession(zkR);
    assert.equal(await within(writerGot.promise, 'the writer acquires'), true);
    await eventually(() => !reader.isAcquired, 'the reader sees LOST', safety());
    assert.equal(reader.signal.aborted, true);
    await eventually(() => zkR.state === ConnectionState.CONNECTED, 'the reader reconnects');
    assert.equal(await reader.release(), false);
    await writer.release();
  });
});
