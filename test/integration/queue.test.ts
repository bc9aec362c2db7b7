/**
 * Queue and LockingQueue against a real ZooKeeper server: kazoo's KazooQueueTests and
 * KazooLockingQueueTests (kazoo 2.8 kazoo/tests/test_queue.py, in our own words), the kazoo 2.8
 * layout, consumers that die between get() and consume() (client closed, session expired for
 * real: the item is delivered again, exactly once), connection drops that hit the lost-reply
 * windows (nothing lost or duplicated), and interop with Debian's kazoo 2.8 in both directions.
 *
 * Hitting a window: the consumer talks through a FaultProxy that delays every chunk by D ms each
 * way; its requests are sequential, so the n-th round trip's request reaches the server at
 * (2n−1)·D and its reply would arrive at 2n·D. Dropping in between loses the reply of an applied
 * write; each round checks with another client that the write was applied before the caller
 * had an answer.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import {
  AbortError,
  Barrier,
  ConnectionState,
  DoubleBarrier,
  FOLLOW_IDLE_MS,
  Party,
  InvalidArgumentError,
  LockingQueue,
  OutcomeUnknownError,
  QUEUE_MARKER_PREFIX,
  Queue,
  TimeoutError,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import {
  connect,
  loseSessionAfter,
  nextState,
  serverForFile,
  sorted,
  uniqueRoot,
} from '../support/client.js';
import { hex, KazooPeer, unhex } from '../support/kazoo.js';
import { testRandom } from '../support/random.js';
import { eventually, grace, probe, rejectsWithin, safety, within } from '../support/wait.js';

const server = await serverForFile();

const b = (text: string) => Buffer.from(text, 'utf8');
const text = (value: Buffer | null) => (value === null ? null : value.toString('utf8'));
/** A session timeout a test waits out (the server's minimum is 2 × tickTime = 1 s). */
const SHORT_SESSION = 2000;

/** Which validation errors both queues raise (kazoo: TypeError / ValueError). */
async function assertPutValidation(queue: Queue | LockingQueue): Promise<void> {
  await assert.rejects(queue.put({} as unknown as Buffer), InvalidArgumentError);
  await assert.rejects(queue.put('one' as unknown as Buffer), InvalidArgumentError, 'strings are not bytes');
  await assert.rejects(queue.put(b('one'), '100' as unknown as number), InvalidArgumentError);
  await assert.rejects(queue.put(b('one'), 10.5), InvalidArgumentError);
  await assert.rejects(queue.put(b('one'), -100), InvalidArgumentError);
  await assert.rejects(queue.put(b('one'), 100000), InvalidArgumentError);
  assert.equal(await queue.length, 0, 'nothing was put');
}

/** The marker children of a LockingQueue's root (see locking-queue.ts). */
async function markers(zk: ZooKeeperClient, path: string): Promise<string[]> {
  return (await zk.getChildren(path)).filter((name) => name.startsWith(QUEUE_MARKER_PREFIX));
}

/** Consume the held item, then get and consume the rest: the items in the order delivered. */
async function consumeRest(queue: LockingQueue): Promise<string[]> {
  const rest: string[] = [];
  for (;;) {
    assert.equal(await queue.consume(), true);
    const item = await queue.get({ timeout: 0 });
    if (item === null) return rest;
    rest.push(text(item)!);
  }
}

/** A LockingQueue consumer talking through `proxy` on a fresh path, and an observer beside it. */
async function consumer(t: TestContext, proxy: FaultProxy, sessionTimeout = 10_000) {
  const zk = await connect(t, proxy.connectString, { sessionTimeout });
  const observer = await connect(t, server);
  const path = uniqueRoot('lqueue');
  return { zk, observer, path, queue: new LockingQueue(zk, path) };
}

/** A LockingQueue whose consumer (through `proxy`) holds one item, and an observer beside it. */
async function holding(t: TestContext, proxy: FaultProxy, sessionTimeout = 10_000) {
  const { zk, observer, path, queue } = await consumer(t, proxy, sessionTimeout);
  const entry = await queue.put(b('job'));
  assert.equal(text(await queue.get({ timeout: timing(1000) })), 'job');
  return { zk, observer, path, queue, entry, lock: `${path}/taken/${entry.split('/').pop()!}` };
}

describe('Queue: kazoo KazooQueueTests', () => {
  test('test_queue_validation: non-bytes items and bad priorities are rejected', async (t) => {
    const zk = await connect(t, server);
    await assertPutValidation(new Queue(zk, uniqueRoot('queue')));
  });

  test('test_empty_queue: length 0, get() null, length still 0', async (t) => {
    const zk = await connect(t, server);
    const queue = new Queue(zk, uniqueRoot('queue'));
    assert.equal(await queue.length, 0);
    assert.equal(await queue.get(), null);
    assert.equal(await queue.length, 0);
  });

  test('test_queue: three puts → length 3; gets in FIFO order; length 0', async (t) => {
    const zk = await connect(t, server);
    const queue = new Queue(zk, uniqueRoot('queue'));
    for (const item of ['one', 'two', 'three']) await queue.put(b(item));
    assert.equal(await queue.length, 3);
    assert.equal(text(await queue.get()), 'one');
    assert.equal(text(await queue.get()), 'two');
    assert.equal(text(await queue.get()), 'three');
    assert.equal(await queue.length, 0);
  });

  test('test_priority: priorities 101, 0, 0, 10 → one, two, three, four', async (t) => {
    const zk = await connect(t, server);
    const queue = new Queue(zk, uniqueRoot('queue'));
    await queue.put(b('four'), 101);
    await queue.put(b('one'), 0);
    await queue.put(b('two'), 0);
    await queue.put(b('three'), 10);
    assert.deepEqual(
      [text(await queue.get()), text(await queue.get()), text(await queue.get()), text(await queue.get())],
      ['one', 'two', 'three', 'four'],
    );
    assert.equal(await queue.get(), null);
  });
});

describe('Queue: layout and semantics', () => {
  test('layout: entry-<PPP>-<seq> persistent sequential with the bytes; putAll is one transaction', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('queue');
    const queue = new Queue(zk, path);
    const first = await queue.put(b('a'), 5);
    assert.equal(first, `${path}/entry-005-0000000000`);
    const more = await queue.putAll([b('b'), new Uint8Array([0, 255])], 100);
    assert.deepEqual(more, [`${path}/entry-100-0000000001`, `${path}/entry-100-0000000002`]);
    const { data, stat } = await zk.get(more[1]!);
    assert.deepEqual(data, Buffer.from([0, 255]));
    assert.equal(stat.ephemeralOwner, 0n);
    assert.equal((await zk.get(path)).stat.ephemeralOwner, 0n);
    await assert.rejects(queue.putAll([b('ok'), 5 as unknown as Buffer]), InvalidArgumentError);
    assert.equal(await queue.length, 3, 'a rejected putAll adds nothing');
  });

  test('kazoo parity: names are cached per instance, so a better priority put after the cache was filled comes later', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('queue');
    const consumer = new Queue(zk, path);
    await consumer.put(b('x1'), 500);
    await consumer.put(b('x2'), 500);
    assert.equal(text(await consumer.get()), 'x1'); // the cache now holds x2
    await new Queue(zk, path).put(b('urgent'), 0);
    assert.equal(text(await consumer.get()), 'x2');
    assert.equal(text(await consumer.get()), 'urgent');
    assert.equal(text(await new Queue(zk, path).get()), null);
  });

  test('the next entry is read behind the delete of the one taken: a get sends only its delete; one read ahead and then taken by another is skipped', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const path = uniqueRoot('queue');
    const queue = new Queue(zk, path);
    const other = new Queue(await connect(t, server), path);
    const [, second, third] = await queue.putAll(['one', 'two', 'three', 'four'].map(b));
    const reads = (entry: string) => proxy.delayFrame({ op: 'getData', path: entry, times: Infinity }, 0);
    using readsOfSecond = reads(second!);
    assert.equal(text(await queue.get()), 'one');
    assert.equal(readsOfSecond.fired, 1, 'read ahead while "one" was deleted');
    assert.equal(text(await queue.get()), 'two');
    assert.equal(readsOfSecond.fired, 1, 'not read again');
    assert.equal(text(await other.get()), 'three', 'the other consumer takes "three", read ahead by ours');
    using readsOfThird = reads(third!);
    assert.equal(text(await queue.get()), 'four', '"three" is skipped');
    assert.equal(readsOfThird.fired, 0, 'not read again: our delete found it gone');
    assert.equal(await queue.get(), null);
  });

  test('two concurrent consumers drain 40 items: every item exactly once', async (t) => {
    const [zkA, zkB] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('queue');
    const items = Array.from({ length: 40 }, (_, i) => `item-${i}`);
    await new Queue(zkA, path).putAll(items.map(b));
    const received: string[] = [];
    await within(
      Promise.all(
        [zkA, zkB].map(async (zk) => {
          const queue = new Queue(zk, path);
          for (let value = await queue.get(); value !== null; value = await queue.get())
            received.push(value.toString());
        }),
      ),
      'drain',
    );
    assert.deepEqual(sorted(received), sorted(items));
  });

  for (const delivery of ['at-least-once', 'at-most-once'] as const) {
    test(`a get whose delete reply is swallowed, then the connection cut with the read ahead behind it, delivery ${delivery}: ${delivery === 'at-least-once' ? 'the item once' : 'skipped, as kazoo'}, then the next in order`, async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const zk = await connect(t, proxy.connectString);
      const path = uniqueRoot('queue');
      const queue = new Queue(zk, path, { delivery });
      const [first, second] = await queue.putAll(['one', 'two', 'three'].map(b));
      const swallowed = proxy.swallowReply({ op: 'delete', path: first! });
      const readAhead = proxy.delayFrame({ op: 'getData', path: second!, times: Infinity }, 0);
      const got = await within(queue.get(), 'get after a lost delete reply');
      assert.equal((await swallowed.happened).reply?.err, 0, 'our delete was applied');
      assert.ok(readAhead.fired >= 1, '"two" was read behind the delete');
      // at-least-once: the entry gone after our lost delete is delivered; at-most-once (kazoo) drops it.
      const rest = delivery === 'at-least-once' ? ['one', 'two', 'three'] : ['two', 'three'];
      const received = [text(got)];
      for (let value = await queue.get(); value !== null; value = await queue.get())
        received.push(text(value));
      assert.deepEqual(received, rest, 'each item at most once, in order');
      assert.equal(await queue.length, 0);
    });
  }

  test('one consumer across drops in the lost-delete-reply window: every item exactly once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const producer = await connect(t, server);
    const path = uniqueRoot('queue');
    const queue = new Queue(zk, path);
    await queue.size(); // ensured: a get is now list, read, delete
    const D = timing(250);
    const received: string[] = [];
    let hits = 0;
    for (let round = 0; round < 6; round++) {
      const entry = await new Queue(producer, path).put(b(`r${round}`));
      proxy.setDelay(D);
      let settled = false;
      const getting = queue.get().finally(() => (settled = true));
      // Aim at the window: drop as soon as the delete has been applied (its reply is still delayed).
      await eventually(
        async () => settled || (await producer.exists(entry)) === null,
        'the delete reaches the server',
      );
      proxy.drop();
      const settledAtDrop = settled;
      proxy.setDelay(0);
      if (!settledAtDrop && (await producer.exists(entry)) === null) hits++;
      const value = await within(getting, `get of round ${round}`);
      received.push(text(value)!);
      await eventually(() => zk.state === ConnectionState.CONNECTED, 'reconnected');
    }
    t.diagnostic(`lost-delete-reply window hit in ${hits} of 6 rounds`);
    assert.ok(hits >= 1, `the window was hit at least once (hits: ${hits})`);
    assert.deepEqual(received, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'], 'each item once, in order');
    assert.equal(await new Queue(producer, path).length, 0);
  });

  for (const delivery of ['at-least-once', 'at-most-once'] as const) {
    test(`two consumers with random drops, delivery ${delivery}: ${delivery === 'at-least-once' ? 'no item is ever lost' : 'no item is ever delivered twice'}`, async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const consumers = await Promise.all([connect(t, proxy.connectString), connect(t, proxy.connectString)]);
      const producer = await connect(t, server);
      const path = uniqueRoot('queue');
      const items = Array.from({ length: 60 }, (_, i) => `item-${i}`);
      await new Queue(producer, path).putAll(items.map(b));
      const random = testRandom(t);
      let done = false;
      const dropper = (async () => {
        while (!done) {
          await delay(timing(40 + random() * 80));
          if (!done) proxy.drop();
        }
      })();
      const received: string[] = [];
      await within(
        Promise.all(
          consumers.map(async (zk) => {
            const queue = new Queue(zk, path, { delivery });
            for (let value = await queue.get(); value !== null; value = await queue.get())
              received.push(value.toString());
          }),
        ),
        'drain under drops',
        safety(60_000),
      );
      done = true;
      await dropper;
      const distinct = new Set(received);
      const duplicates = received.length - distinct.size;
      const lost = items.filter((item) => !distinct.has(item)).length;
      t.diagnostic(`${duplicates} duplicate(s), ${lost} lost`);
      if (delivery === 'at-least-once') assert.equal(lost, 0, 'every item delivered');
      else assert.equal(duplicates, 0, 'no item delivered twice');
      assert.equal(await new Queue(producer, path).length, 0);
    });
  }
});

describe('LockingQueue: kazoo KazooLockingQueueTests', () => {
  test('test_queue_validation: as Queue, plus putAll of a non-array, of non-bytes, with bad priorities; a bad strictOrder', async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    await assertPutValidation(queue);
    await assert.rejects(queue.putAll({} as unknown as Buffer[]), InvalidArgumentError);
    await assert.rejects(queue.putAll([{}] as unknown as Buffer[]), InvalidArgumentError);
    await assert.rejects(queue.putAll([b('one')], '100' as unknown as number), InvalidArgumentError);
    assert.throws(
      () => new LockingQueue(zk, queue.path, { strictOrder: 'yes' as unknown as boolean }),
      InvalidArgumentError,
    );
    await assert.rejects(queue.putAll([b('one')], 10.5), InvalidArgumentError);
    await assert.rejects(queue.putAll([b('one')], -100), InvalidArgumentError);
    await assert.rejects(queue.putAll([b('one')], 100000), InvalidArgumentError);
    assert.equal(await queue.length, 0);
  });

  test('test_empty_queue: length 0, get({ timeout: 0 }) null, length 0', async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    assert.equal(await queue.length, 0);
    assert.equal(await queue.get({ timeout: 0 }), null);
    assert.equal(await queue.length, 0);
  });

  test('test_queue: put + putAll; get returns the held item again until consumed; in order; final consume false', async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    await queue.put(b('one'));
    await queue.putAll([b('two'), b('three')]);
    assert.equal(await queue.length, 3);
    assert.equal(await queue.consume(), false);
    assert.equal(await queue.holdsLock(), false);
    assert.equal(text(await queue.get({ timeout: timing(1000) })), 'one');
    assert.equal(await queue.holdsLock(), true);
    assert.equal(text(await queue.get({ timeout: timing(1000) })), 'one', 'the same item until consumed');
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.holdsLock(), false);
    for (const item of ['two', 'three']) {
      assert.equal(text(await queue.get({ timeout: timing(1000) })), item);
      assert.equal(await queue.holdsLock(), true);
      assert.equal(await queue.consume(), true);
      assert.equal(await queue.holdsLock(), false);
    }
    assert.equal(await queue.consume(), false);
    assert.equal(await queue.length, 0);
  });

  test('test_consume: consume false before get; true after; false again', async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    await queue.put(b('one'));
    assert.equal(await queue.consume(), false);
    assert.equal(text(await queue.get({ timeout: timing(100) })), 'one');
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.consume(), false);
  });

  test('test_release: release returns the item to the queue; the next get has it; after consume release is false', async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    await queue.put(b('one'));
    assert.equal(text(await queue.get({ timeout: timing(1000) })), 'one');
    assert.equal(await queue.holdsLock(), true);
    assert.equal(await queue.release(), true);
    assert.equal(await queue.holdsLock(), false);
    assert.equal(text(await queue.get({ timeout: timing(1000) })), 'one');
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.release(), false);
    assert.equal(await queue.length, 0);
  });

  test('test_holds_lock: false when idle; true while holding; false after consume', async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    assert.equal(await queue.holdsLock(), false);
    await queue.put(b('one'));
    await queue.get({ timeout: timing(100) });
    assert.equal(await queue.holdsLock(), true);
    await queue.consume();
    assert.equal(await queue.holdsLock(), false);
  });

  test('test_priority: priorities 101, 0, 0, 10 → one, two, three, four', async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    await queue.put(b('four'), 101);
    await queue.put(b('one'), 0);
    await queue.put(b('two'), 0);
    await queue.put(b('three'), 10);
    for (const item of ['one', 'two', 'three', 'four']) {
      assert.equal(text(await queue.get({ timeout: timing(1000) })), item);
      assert.equal(await queue.consume(), true);
    }
  });

  test('test_concurrent_execution: three waiting instances, one put → exactly one gets it, two time out with null', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lqueue');
    const gets = [0, 1, 2].map(() => new LockingQueue(zk, path).get({ timeout: timing(1500) }));
    await grace();
    await new LockingQueue(zk, path).put(b('one'));
    const results = (await within(Promise.all(gets), 'three gets')).map(text);
    assert.equal(results.filter((r) => r === 'one').length, 1);
    assert.equal(results.filter((r) => r === null).length, 2);
  });
});

describe('LockingQueue: layout and limits', () => {
  test('layout: entries/entry-<PPP>-<seq> persistent; taken/<entry> ephemeral with the 32-hex consumer id; consume deletes both', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lqueue');
    const queue = new LockingQueue(zk, path);
    assert.match(queue.id, /^[0-9a-f]{32}$/);
    assert.equal(await queue.put(b('x'), 7), `${path}/entries/entry-007-0000000000`);
    assert.deepEqual(sorted(await zk.getChildren(path)), ['entries', 'taken']);
    assert.equal(text(await queue.get({ timeout: timing(1000) })), 'x');
    const lock = await zk.get(`${path}/taken/entry-007-0000000000`);
    assert.equal(lock.data.toString('latin1'), queue.id);
    assert.equal(lock.stat.ephemeralOwner, zk.sessionId);
    assert.equal((await zk.get(`${path}/entries/entry-007-0000000000`)).stat.ephemeralOwner, 0n);
    assert.equal(await queue.length, 1, 'a locked item still counts');
    assert.equal(
      await new LockingQueue(zk, path).get({ timeout: 0 }),
      null,
      'a locked item is not available',
    );
    assert.equal(await queue.consume(), true);
    assert.deepEqual(await zk.getChildren(`${path}/entries`), []);
    assert.deepEqual(await zk.getChildren(`${path}/taken`), []);
  });

  test('a get() that times out leaves no watch behind (kazoo #175); abort rejects with AbortError', async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    await queue.size();
    const baseline = zk.watchCount;
    for (let i = 0; i < 5; i++) assert.equal(await queue.get({ timeout: timing(50) }), null);
    await eventually(() => zk.watchCount === baseline, 'watches removed');
    const controller = new AbortController();
    const getting = queue.get({ signal: controller.signal });
    await grace();
    controller.abort();
    await assert.rejects(getting, AbortError);
  });

  test('a waiting get() is woken by a put from another client', async (t) => {
    const [zkA, zkB] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('lqueue');
    const getting = probe(new LockingQueue(zkA, path).get());
    await grace();
    assert.equal(getting.settled, false);
    await new LockingQueue(zkB, path).put(b('late'));
    assert.equal(text(await within(getting.promise, 'get')), 'late');
  });

  test('gets reuse the last listing only while nothing was put: a better priority put meanwhile comes next once this session has seen it (ours, or after a sync); released and consumed items are seen', async (t) => {
    const [zkA, zkB] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('lqueue');
    const a = new LockingQueue(zkA, path, { strictOrder: true }); // the order asserted is kazoo's
    const other = new LockingQueue(zkB, path, { strictOrder: true });
    await a.putAll(['a1', 'a2', 'a3', 'a4', 'a5'].map(b));
    assert.equal(text(await a.get()), 'a1'); // listed here
    assert.equal(await a.consume(), true);
    await other.put(b('urgent'), 0);
    // As any ZooKeeper read: another session's write is seen once this session has seen its zxid.
    await zkA.sync(path);
    assert.equal(text(await a.get()), 'urgent', 'put by another client after the listing, then a sync');
    assert.equal(await a.consume(), true);
    await a.put(b('mine'), 1);
    assert.equal(text(await a.get()), 'mine', 'put by this client after the listing');
    assert.equal(await a.consume(), true); // locks a2 ahead
    assert.equal(text(await a.get()), 'a2');
    assert.equal(text(await other.get()), 'a3', 'a locked item is skipped');
    assert.equal(await other.consume(), true); // locks a4 ahead
    assert.equal(await a.release(), true);
    await zkB.sync(path);
    assert.equal(
      text(await other.get()),
      'a2',
      'a released item is available again, before the one locked ahead',
    );
    assert.equal(await other.consume(), true); // locks a4 ahead again
    await zkA.sync(path);
    assert.equal(text(await a.get()), 'a5', 'items consumed or locked ahead by another consumer are skipped');
    assert.equal(await a.consume(), true);
    assert.equal(text(await other.get()), 'a4');
    assert.equal(await other.consume(), true);
    assert.equal(await a.get({ timeout: 0 }), null);
    await eventually(
      async () => (await zkA.getChildren(`${path}/taken`)).length === 0,
      'no lock left behind (a lock ahead on an entry consumed meanwhile is handed back)',
    );
  });
});

describe('LockingQueue: one round trip of writes per item (the lock ahead), reads only per get', () => {
  test('a get that loses the race for the entry its listing put first does not try that entry again', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    const other = new LockingQueue(observer, queue.path);
    const [first] = (await queue.putAll(['p0', 'x'].map(b))).map((entry) => entry.split('/').pop()!);
    assert.equal(text(await queue.get()), 'p0'); // listed here
    assert.equal(await queue.release(), true); // available again, still first in our listing
    const lock = `${queue.path}/taken/${first!}`;
    using tries = proxy.delayFrame({ op: 'create', path: lock, times: Infinity }, 0);
    using late = proxy.delayFrame({ op: 'create', path: lock }, timing(1000)); // reaches the server after the other's
    using checked = proxy.delayFrame({ op: 'multiRead', path: `${queue.path}/entries` }, 0, 'reply');
    const getting = queue.get();
    await within(checked.happened, 'our check is answered: it saw no lock');
    assert.equal(text(await other.get()), 'p0', 'the other consumer locks it first');
    assert.equal(text(await within(getting, 'our get')), 'x');
    assert.equal(late.fired, 1);
    assert.equal(tries.fired, 1, 'p0 tried once: the race lost, not tried again');
  });

  test('consume locks the next entry in its transaction and checks the listing behind it; the next get sends nothing while this session saw no later state, else checks again (a put meanwhile is in the listing by its watch): kept when its entry is still first, handed back when a better one was put', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const producer = new LockingQueue(observer, uniqueRoot('lqueue'));
    const queue = new LockingQueue(zk, producer.path);
    const [, a2] = (await producer.putAll(['a1', 'a2', 'a3'].map(b))).map((entry) => entry.split('/').pop()!);
    assert.equal(text(await queue.get()), 'a1'); // listed here
    const taken = `${producer.path}/taken/`;
    const count = async (work: () => Promise<string | null | boolean>) => {
      using creates = proxy.delayFrame(
        { op: 'create', path: (p) => p.startsWith(taken), times: Infinity },
        0,
      );
      using multis = proxy.delayFrame({ op: 'multi', times: Infinity }, 0);
      using lists = proxy.delayFrame(
        { op: 'getChildren2', path: `${producer.path}/entries`, times: Infinity },
        0,
      );
      using checks = proxy.delayFrame(
        { op: 'multiRead', path: `${producer.path}/entries`, times: Infinity },
        0,
      );
      const value = await work();
      return {
        value,
        locks: creates.fired,
        transactions: multis.fired,
        listings: lists.fired,
        checks: checks.fired,
      };
    };
    assert.deepEqual(await count(() => queue.consume()), {
      value: true,
      locks: 0,
      transactions: 1,
      listings: 0,
      checks: 1,
    });
    assert.deepEqual(
      await observer.getChildren(`${producer.path}/taken`),
      [a2],
      'a2 locked ahead by the consume',
    );
    assert.deepEqual(
      await count(async () => text(await queue.get())),
      { value: 'a2', locks: 0, transactions: 0, listings: 0, checks: 0 },
      'nothing put: the lock ahead kept, nothing sent (the check behind the consume answered it)',
    );
    assert.equal(await queue.consume(), true); // a3 locked ahead
    await producer.put(b('later')); // same priority: after a3
    await zk.sync(producer.path); // this session sees the put: its check behind the consume is older
    assert.deepEqual(
      await count(async () => text(await queue.get())),
      { value: 'a3', locks: 0, transactions: 0, listings: 0, checks: 1 },
      "a put meanwhile: checked (the listing's watch had added it, so not listed again), the lock ahead kept",
    );
    assert.equal(await queue.consume(), true); // "later" locked ahead
    const urgent = (await producer.put(b('urgent'), 0)).split('/').pop()!;
    await zk.sync(producer.path);
    assert.deepEqual(
      await count(async () => text(await queue.get())),
      { value: 'urgent', locks: 1, transactions: 0, listings: 0, checks: 1 },
      'a better priority put meanwhile: the lock ahead on "later" handed back, "urgent" locked',
    );
    assert.deepEqual(
      await observer.getChildren(`${producer.path}/taken`),
      [urgent],
      'only our lock, on urgent',
    );
    assert.equal(text(await producer.get({ timeout: 0 })), 'later', 'the handed-back item is available');
    assert.equal(await producer.consume(), true);
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.length, 0);
  });

  test("puts by another client while a consumer drains: the listing's watch adds them, so entries is listed once; a better priority put comes next once seen; every item once", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy);
    const producer = new LockingQueue(observer, path);
    await producer.putAll(Array.from({ length: 10 }, (_, i) => b(`old-${i}`)));
    using lists = proxy.delayFrame({ op: 'getChildren2', path: `${path}/entries`, times: Infinity }, 0);
    const got: string[] = [];
    got.push(text(await queue.get())!); // listed here
    for (let i = 0; i < 8; i++) {
      await producer.put(b(`urgent-${i}`), 50);
      await producer.put(b(`new-${i}`)); // after every old one
      await zk.sync(path); // this session sees both puts before its next get
      assert.equal(await queue.consume(), true);
      got.push(text(await queue.get())!);
      assert.equal(got.at(-1), `urgent-${i}`, 'the better priority put comes first');
    }
    while (got.length < 26) {
      assert.equal(await queue.consume(), true);
      got.push(text(await queue.get({ timeout: 0 }))!);
    }
    assert.equal(lists.fired, 1, 'entries listed once: the watch added every put');
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.get({ timeout: 0 }), null);
    const olds = Array.from({ length: 10 }, (_, i) => `old-${i}`);
    const news = Array.from({ length: 8 }, (_, i) => `new-${i}`);
    assert.deepEqual(got.slice(9), [...olds.slice(1), ...news], 'then the rest in order');
    assert.equal(new Set(got).size, got.length, 'every item once');
    assert.equal(await queue.length, 0);
  });

  test('a put whose watch event came before the listing was in place, then a later put the watch added: the listing is not taken as complete; the better priority comes next once seen', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy);
    const producer = new LockingQueue(observer, path);
    const [job] = await producer.putAll([b('job')]);
    // The first listing reads entries, then taken: 'urgent' is put in between, so its event
    // comes before the listing is in place and the listing does not have it.
    const listed = proxy.delayFrame({ op: 'getChildren2', path: `${path}/entries` }, 0, 'reply');
    proxy.delayFrame({ op: 'getChildren', path: `${path}/taken` }, timing(500));
    const first = queue.get();
    await within(listed.happened, 'entries listed, taken not yet');
    await producer.put(b('urgent'), 0);
    assert.equal(text(await first), 'job', "listed before 'urgent' was put");
    assert.equal(await queue.release(), true);
    await zk.sync(path); // this session has seen 'urgent' now
    // The next get checks its listing and locks 'job' behind the check; 'later' is put between
    // the two, and the watch adds it before the get looks at the check.
    const checked = proxy.delayFrame({ op: 'multiRead', path: `${path}/entries` }, 0, 'reply');
    proxy.delayFrame({ op: 'create', path: `${path}/taken/${job!.split('/').pop()!}` }, timing(500));
    const second = queue.get();
    await within(checked.happened, "the check answered, the lock of 'job' not sent yet");
    await producer.put(b('later'));
    assert.equal(text(await second), 'urgent', 'the better priority first');
    assert.deepEqual(await consumeRest(queue), ['job', 'later']);
  });

  test('after a reconnect the watch may have missed a put: the next get lists entries again, and the put is delivered', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy);
    const producer = new LockingQueue(observer, path);
    await producer.putAll(['a', 'b', 'c'].map(b));
    using lists = proxy.delayFrame({ op: 'getChildren2', path: `${path}/entries`, times: Infinity }, 0);
    assert.equal(text(await queue.get()), 'a');
    const session = zk.sessionId;
    proxy.drop();
    await producer.put(b('urgent'), 0); // perhaps while no watch of ours is in place
    await eventually(() => zk.state === ConnectionState.CONNECTED, 'reconnected');
    assert.equal(zk.sessionId, session, 'the same session');
    await zk.sync(path);
    assert.equal(await queue.consume(), true);
    assert.equal(text(await queue.get()), 'urgent');
    assert.equal(lists.fired, 2, 'listed again after the resync');
    for (const expected of ['b', 'c']) {
      assert.equal(await queue.consume(), true);
      assert.equal(text(await queue.get()), expected);
    }
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.length, 0);
  });

  test('after LOST (a new session) the next get lists entries again: a put made meanwhile is delivered, every item once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy, SHORT_SESSION);
    const producer = new LockingQueue(observer, path);
    await producer.putAll(['a', 'b'].map(b));
    using lists = proxy.delayFrame({ op: 'getChildren2', path: `${path}/entries`, times: Infinity }, 0);
    assert.equal(text(await queue.get()), 'a');
    const lost = nextState(zk, ConnectionState.LOST);
    proxy.blackhole(); // no event reaches the old session's watch from here on
    await lost;
    await producer.put(b('urgent'), 0);
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.drop();
    proxy.heal();
    await connected;
    assert.equal(text(await queue.get()), 'urgent', 'the put made while no watch of ours could see it');
    assert.equal(lists.fired, 2, 'listed again in the new session');
    assert.equal(await queue.consume(), true);
    // 'a' stays locked by the old session until the server expires it: then it comes back, once.
    const rest: string[] = [];
    while (rest.length < 2) {
      const item = await queue.get({ timeout: safety() });
      assert.ok(item, 'every item is delivered again');
      rest.push(text(item)!);
      assert.equal(await queue.consume(), true);
    }
    assert.deepEqual(rest.sort(), ['a', 'b']);
    assert.equal(await queue.length, 0);
  });

  test("the listing's watch is removed FOLLOW_IDLE_MS after the queue's last call; none is left behind", async (t) => {
    const zk = await connect(t, server);
    const queue = new LockingQueue(zk, uniqueRoot('lqueue'));
    await queue.putAll(['a', 'b'].map(b));
    assert.equal(text(await queue.get()), 'a');
    assert.equal(await queue.consume(), true);
    assert.equal(zk.watchCount, 1, "the listing's watch");
    const entries = `${queue.path}/entries`;
    assert.ok((await server.fourLetterWord('wchp')).includes(entries), 'on the server too');
    await eventually(() => zk.watchCount === 0, 'the watch removed', safety(FOLLOW_IDLE_MS + 10_000));
    await eventually(
      async () => !(await server.fourLetterWord('wchp')).includes(entries),
      'removed on the server',
    );
    assert.equal(text(await queue.get()), 'b', 'the queue works on, listing again');
    assert.equal(await queue.consume(), true);
  });

  for (const after of [
    'nothing',
    'a consume and a release with nothing held (kazoo test_consume: false again)',
  ])
    test(`a lock ahead that no get claims is handed back after LOCK_AHEAD_MS, and the last marker deleted, after ${after}: another consumer gets the item`, async (t) => {
      const [zk, observer] = await Promise.all([connect(t, server), connect(t, server)]);
      const path = uniqueRoot('lqueue');
      const queue = new LockingQueue(zk, path);
      const [, second] = (await queue.putAll([b('first'), b('second')])).map((entry) =>
        entry.split('/').pop()!,
      );
      assert.equal(text(await queue.get()), 'first');
      assert.equal(await queue.consume(), true);
      assert.deepEqual(await observer.getChildren(`${path}/taken`), [second], 'locked ahead');
      assert.equal(
        (await markers(observer, path)).length,
        1,
        "the consume's marker, for the next transaction to delete",
      );
      if (after !== 'nothing') {
        assert.equal(await queue.consume(), false, 'nothing held');
        assert.equal(await queue.release(), false, 'nothing held');
      }
      await eventually(
        async () => (await observer.getChildren(`${path}/taken`)).length === 0,
        'the lock ahead is handed back',
      );
      await eventually(async () => (await markers(observer, path)).length === 0, 'the marker is deleted');
      const other = new LockingQueue(observer, path);
      assert.equal(text(await other.get({ timeout: 0 })), 'second');
      assert.equal(await other.consume(), true);
      assert.equal(await queue.get({ timeout: 0 }), null);
    });

  test('two consumers on one client: a consume whose lock ahead is taken by the other meanwhile consumes without it (one more transaction)', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const path = uniqueRoot('lqueue');
    const a = new LockingQueue(zk, path, { strictOrder: true }); // both choose a2
    const other = new LockingQueue(zk, path, { strictOrder: true });
    await a.putAll(['a1', 'a2', 'a3'].map(b));
    assert.equal(text(await a.get()), 'a1'); // listed, a2 not locked then
    assert.equal(text(await other.get()), 'a2');
    using multis = proxy.delayFrame({ op: 'multi', times: Infinity }, 0);
    assert.equal(await a.consume(), true);
    assert.equal(
      multis.fired,
      2,
      'the transaction with the lock ahead failed on it and was sent again without',
    );
    assert.equal(await other.holdsLock(), true, 'the other consumer keeps its item');
    assert.equal(text(await a.get()), 'a3');
    assert.equal(await a.consume(), true);
    assert.equal(await other.consume(), true);
    assert.equal(await a.length, 0);
    assert.deepEqual(await zk.getChildren(`${path}/taken`), []);
  });

  test('two consumers on one client drain 60 items concurrently: every item delivered and consumed exactly once', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('lqueue');
    const items = Array.from({ length: 60 }, (_, i) => `job-${String(i).padStart(2, '0')}`);
    await new LockingQueue(zk, path).putAll(items.map(b));
    const delivered: string[] = [];
    const consumed: string[] = [];
    await within(
      Promise.all(
        [0, 1].map(async () => {
          const queue = new LockingQueue(zk, path);
          for (;;) {
            const value = await queue.get({ timeout: 0 });
            if (value === null) return;
            delivered.push(value.toString());
            if (await queue.consume()) consumed.push(value.toString());
          }
        }),
      ),
      'drain with two consumers on one client',
    );
    assert.deepEqual(sorted(delivered), items, 'each item delivered exactly once');
    assert.deepEqual(sorted(consumed), items, 'each item consumed exactly once');
    assert.deepEqual(await zk.getChildren(`${path}/taken`), [], 'no lock left behind');
  });

  for (const sentBy of ['the consume', 'the get'] as const) {
    test(`a check sent by ${sentBy} whose reply is swallowed, then the connection cut: the lock ahead kept or taken again, the item once, no orphan lock`, async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const { zk, observer, path, queue } = await consumer(t, proxy);
      const entries = (await queue.putAll(['first', 'second', 'third'].map(b))).map((entry) =>
        entry.split('/').pop()!,
      );
      assert.equal(text(await queue.get()), 'first'); // listed here
      const check = { op: 'multiRead' as const, path: `${path}/entries` };
      let swallowed = sentBy === 'the consume' ? proxy.swallowReply(check, { then: 'cut' }) : undefined;
      assert.equal(await within(queue.consume(), 'consume'), true); // second locked ahead, checked behind it
      if (!swallowed) {
        await zk.create(`${path}-later`); // a later state seen (a write of ours): the get checks again
        swallowed = proxy.swallowReply(check, { then: 'cut' });
      }
      assert.equal(text(await within(queue.get(), 'get across the cut')), 'second');
      assert.equal(swallowed.fired, 1, 'the reply was lost');
      assert.equal(await queue.holdsLock(), true);
      assert.deepEqual(await observer.getChildren(`${path}/taken`), [entries[1]], 'one lock, ours');
      assert.equal(await queue.consume(), true);
      assert.equal(text(await queue.get()), 'third');
      assert.equal(await queue.consume(), true);
      assert.equal(await queue.length, 0);
      assert.deepEqual(await observer.getChildren(`${path}/taken`), [], 'no orphan lock');
    });
  }

  for (const fault of ['swallowed', 'cut after'] as const) {
    test(`a consume with a lock ahead whose reply is ${fault === 'swallowed' ? 'swallowed, then the connection cut' : 'followed by a cut (its read ahead lost)'}: true once, the next get returns the entry locked ahead, no orphan lock or marker`, async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const { zk, observer, path, queue } = await consumer(t, proxy);
      const entries = (await queue.putAll(['first', 'second', 'third'].map(b))).map((entry) =>
        entry.split('/').pop()!,
      );
      assert.equal(text(await queue.get()), 'first');
      const session = zk.sessionId;
      const match = { op: 'multi' as const, path: `${path}/taken/${entries[1]!}` };
      const faulted =
        fault === 'swallowed' ? proxy.swallowReply(match, { then: 'cut' }) : proxy.cutAfterReply(match);
      assert.equal(await within(queue.consume(), 'consume across the cut'), true);
      assert.equal(faulted.fired, 1);
      assert.equal((await faulted.happened).reply?.err, 0, 'the transaction was applied');
      assert.equal(zk.sessionId, session, 'the same session');
      assert.equal(await queue.consume(), false, 'consumed once');
      assert.equal(text(await within(queue.get(), 'get')), 'second', 'the entry locked ahead');
      assert.deepEqual(await observer.getChildren(`${path}/taken`), [entries[1]], 'one lock, ours');
      assert.equal(await queue.consume(), true);
      assert.equal(text(await queue.get()), 'third');
      assert.equal(await queue.consume(), true);
      assert.equal(await queue.length, 0);
      await eventually(
        async () =>
          (await observer.getChildren(`${path}/taken`)).length === 0 &&
          (await markers(observer, path)).length === 0,
        'no orphan lock, no marker left',
      );
    });
  }

  test("LOST after a consume locked ahead: the old session's lock ahead is never used in the new session; the item comes back locked by the new one", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy, SHORT_SESSION);
    const [, second] = (await queue.putAll([b('first'), b('second')])).map(
      (entry) => `${path}/taken/${entry.split('/').pop()!}`,
    );
    assert.equal(text(await queue.get()), 'first');
    const oldSession = zk.sessionId;
    const applied = proxy.cutAfterReply({ op: 'multi', path: second! });
    assert.equal(await queue.consume(), true);
    assert.equal(
      (await observer.exists(second!))?.ephemeralOwner,
      oldSession,
      'locked ahead in the old session',
    );
    await loseSessionAfter(zk, proxy, applied);
    assert.notEqual(zk.sessionId, oldSession);
    assert.equal(
      text(await within(queue.get(), 'get in the new session')),
      'second',
      "locked again once the old session's lock went",
    );
    assert.equal(
      (await observer.exists(second!))?.ephemeralOwner,
      zk.sessionId,
      'our lock belongs to the new session',
    );
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.length, 0);
  });
  test("a get cut off after taking its lock ahead on an incomplete listing, which lists again only in a new session: never returns the old session's lock", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy, SHORT_SESSION);
    const producer = new LockingQueue(observer, path);
    await producer.putAll([b('first'), b('second')]);
    // The listing's watch is never set (its request is cut off): the listing counts no put.
    proxy.swallowReply({ op: 'addWatch' }, { then: 'cut' });
    assert.equal(text(await queue.get()), 'first');
    await producer.put(b('third'));
    // The consume locks 'second' ahead; its check (incomplete: 'third') is answered, then the
    // connection is cut and no new one accepted. The get lists again, in the next session.
    proxy.refuse();
    proxy.cutAfterReply({ op: 'multiRead', path: `${path}/entries` });
    const suspended = nextState(zk, ConnectionState.SUSPENDED, safety());
    const lost = nextState(zk, ConnectionState.LOST, safety());
    const oldSession = zk.sessionId;
    assert.equal(await queue.consume(), true);
    await suspended;
    const getting = queue.get();
    await lost;
    proxy.accept();
    const got = text(await within(getting, 'the get in the new session'));
    assert.notEqual(zk.sessionId, oldSession);
    assert.equal(await queue.holdsLock(), true, `the lock of '${got}' is ours`);
    const other = new LockingQueue(observer, path);
    const rest = text(await other.get({ timeout: safety() }));
    assert.notEqual(rest, got, 'not delivered twice');
    assert.equal(await queue.consume(), true);
    assert.equal(await other.consume(), true);
  });
});

describe('LockingQueue: consumers that die, SUSPENDED, connection drops', () => {
  async function deliveredAgainOnce(
    t: import('node:test').TestContext,
    kill: (victim: ZooKeeperClient) => Promise<void>,
  ): Promise<void> {
    const victimClient = await connect(t, server);
    const [zkB, zkC] = await Promise.all([connect(t, server), connect(t, server)]);
    const path = uniqueRoot('lqueue');
    const victim = new LockingQueue(victimClient, path);
    await victim.put(b('job'));
    assert.equal(text(await victim.get({ timeout: timing(1000) })), 'job');
    const waiters = [
      probe(new LockingQueue(zkB, path).get({ timeout: timing(2500) })),
      probe(new LockingQueue(zkC, path).get({ timeout: timing(2500) })),
    ];
    await grace();
    assert.deepEqual(
      waiters.map((w) => w.settled),
      [false, false],
      'the item is locked',
    );
    await kill(victimClient);
    const results = (await within(Promise.all(waiters.map((w) => w.promise)), 'both waiters')).map(text);
    assert.deepEqual(sorted(results.map(String)), ['job', 'null'], 'delivered again to exactly one consumer');
    assert.equal(await new LockingQueue(zkB, path).length, 1, 'not consumed yet');
  }

  test('the holder closes its client before consume(): the item goes to exactly one other consumer', async (t) => {
    await deliveredAgainOnce(t, (victim) => victim.close());
  });

  test('the holder session expires (for real) before consume(): the item goes to exactly one other consumer', async (t) => {
    await deliveredAgainOnce(t, (victim) => server.expireSession(victim));
  });

  test('after LOST the victim: holdsLock false, consume false, and get() locks a fresh item (kazoo would return the stale one)', async (t) => {
    const zk = await connect(t, server);
    const other = await connect(t, server);
    const path = uniqueRoot('lqueue');
    const queue = new LockingQueue(zk, path);
    await queue.putAll([b('first'), b('second')]);
    assert.equal(text(await queue.get({ timeout: timing(1000) })), 'first');
    const connected = nextState(zk, ConnectionState.CONNECTED, safety());
    await server.expireSession(zk);
    await connected;
    assert.equal(await queue.holdsLock(), false);
    assert.equal(await queue.consume(), false);
    const thief = new LockingQueue(other, path);
    assert.equal(
      text(await thief.get({ timeout: timing(1000) })),
      'first',
      'the item went back to the queue',
    );
    assert.equal(text(await queue.get({ timeout: timing(1000) })), 'second');
    assert.equal(await thief.consume(), true);
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.length, 0);
  });

  test('SUSPENDED: a waiting consumer cut off while an item is put gets it after the reconnect', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const producer = await connect(t, server);
    const path = uniqueRoot('lqueue');
    const getting = probe(new LockingQueue(zk, path).get());
    await grace();
    const suspended = nextState(zk, ConnectionState.SUSPENDED, safety());
    proxy.refuse();
    proxy.drop();
    await suspended;
    await new LockingQueue(producer, path).put(b('while-away'));
    await grace();
    assert.equal(getting.settled, false);
    proxy.accept();
    assert.equal(text(await within(getting.promise, 'get after the reconnect')), 'while-away');
  });

  test('drops in the lost-reply windows of the lock create and of consume: nothing lost, nothing duplicated, no orphan lock', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const producer = await connect(t, server);
    const path = uniqueRoot('lqueue');
    const queue = new LockingQueue(zk, path);
    await queue.size(); // ensured: get = list entries+taken, create lock, read entry
    const D = timing(250);
    let takeHits = 0;
    let consumeHits = 0;
    const consumed: string[] = [];
    for (let round = 0; round < 5; round++) {
      const entry = (await new LockingQueue(producer, path).put(b(`r${round}`))).split('/').pop()!;
      proxy.setDelay(D);
      let settled = false;
      const getting = queue.get().finally(() => (settled = true));
      // Aim at each window: drop as soon as the write is applied (its reply is still delayed).
      await eventually(
        async () => settled || (await producer.exists(`${path}/taken/${entry}`)) !== null,
        'the lock create reaches the server',
      );
      proxy.drop();
      let settledAtDrop = settled;
      proxy.setDelay(0);
      if (!settledAtDrop && (await producer.exists(`${path}/taken/${entry}`)) !== null) takeHits++;
      assert.equal(text(await within(getting, `get of round ${round}`)), `r${round}`);
      assert.equal(await queue.holdsLock(), true);
      assert.deepEqual(await producer.getChildren(`${path}/taken`), [entry], 'one lock, ours');
      await eventually(() => zk.state === ConnectionState.CONNECTED, 'reconnected');

      proxy.setDelay(D);
      settled = false;
      const consuming = queue.consume().finally(() => (settled = true));
      await eventually(
        async () => settled || (await producer.exists(`${path}/entries/${entry}`)) === null,
        'the consume reaches the server',
      );
      proxy.drop();
      settledAtDrop = settled;
      proxy.setDelay(0);
      if (!settledAtDrop && (await producer.exists(`${path}/entries/${entry}`)) === null) consumeHits++;
      assert.equal(await within(consuming, `consume of round ${round}`), true);
      consumed.push(`r${round}`);
      await eventually(() => zk.state === ConnectionState.CONNECTED, 'reconnected');
    }
    t.diagnostic(`lock-create window hit ${takeHits}/5, consume window hit ${consumeHits}/5`);
    assert.ok(takeHits >= 1, `lock-create window hit (${takeHits})`);
    assert.ok(consumeHits >= 1, `consume window hit (${consumeHits})`);
    assert.deepEqual(consumed, ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.equal(await queue.length, 0);
    assert.deepEqual(await producer.getChildren(`${path}/taken`), []);
  });

  test('three consumers under random drops: every item consumed exactly once, delivered exactly once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const consumers = await Promise.all([0, 1, 2].map(() => connect(t, proxy.connectString)));
    const sessions = consumers.map((zk) => zk.sessionId);
    const producer = await connect(t, server);
    const path = uniqueRoot('lqueue');
    const items = Array.from({ length: 45 }, (_, i) => `job-${String(i).padStart(2, '0')}`);
    await new LockingQueue(producer, path).putAll(items.map(b));
    const random = testRandom(t);
    let done = false;
    const dropper = (async () => {
      while (!done) {
        await delay(timing(30 + random() * 90));
        if (!done) proxy.drop();
      }
    })();
    const delivered: string[] = [];
    const consumed: string[] = [];
    await within(
      Promise.all(
        consumers.map(async (zk) => {
          const queue = new LockingQueue(zk, path);
          for (;;) {
            const value = await queue.get({ timeout: timing(1500) });
            if (value === null) {
              if ((await queue.length) === 0) return;
              continue;
            }
            delivered.push(value.toString());
            if (await queue.consume()) consumed.push(value.toString());
          }
        }),
      ),
      'drain under drops',
      safety(90_000),
    );
    done = true;
    await dropper;
    assert.deepEqual(
      consumers.map((zk) => zk.sessionId),
      sessions,
      'every session survived the drops',
    );
    assert.deepEqual(sorted(consumed), items, 'each item consumed exactly once');
    assert.deepEqual(sorted(delivered), items, 'each item delivered exactly once');
    assert.deepEqual(await producer.getChildren(`${path}/taken`), [], 'no orphan lock');
  });
});

describe('LockingQueue: lost consume/release replies, within a session and across a session change (issue 11)', () => {
  test('a lock handed back whose delete reply is lost: the delete is not sent again once another consumer holds the item', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy);
    const [, second] = await queue.putAll([b('first'), b('second')]);
    const lock = `${path}/taken/${second!.split('/').pop()!}`;
    assert.equal(text(await queue.get()), 'first');
    const other = new LockingQueue(observer, path);
    // The consume locks 'second' ahead; no get follows, so after LOCK_AHEAD_MS it is handed back.
    const handedBack = proxy.swallowReply({ op: 'delete', path: lock }, { then: 'blackhole' });
    assert.equal(await queue.consume(), true);
    const taking = other.get(); // waits: 'second' is locked ahead
    await within(handedBack.happened, 'the hand-back delete is applied, its reply lost');
    assert.equal(text(await within(taking, 'the other consumer gets the item handed back')), 'second');
    // The first request naming the lock after the reconnect settles the lost delete.
    const settling = proxy.delayFrame({ path: lock }, 0);
    proxy.drop();
    proxy.heal();
    await within(settling.happened, 'the lost delete is settled after the reconnect');
    await zk.sync(lock); // answered after that request (a session's requests are handled in order)
    assert.equal(
      (await observer.exists(lock))?.ephemeralOwner,
      observer.sessionId,
      "the other consumer's lock stands",
    );
    assert.equal(await other.holdsLock(), true);
    assert.equal(await other.consume(), true);
    assert.equal(await queue.get({ timeout: timing(300) }), null, 'nothing left, nothing delivered twice');
    assert.deepEqual(await observer.getChildren(`${path}/taken`), [], 'no orphan lock');
  });

  test('a get that drops the lock it took on an incomplete listing, then times out on its next lock, does not delete that lock again: another consumer holds the item', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy);
    const [holderClient, thirdClient] = await Promise.all([connect(t, server), connect(t, server)]);
    const [first] = await queue.putAll([b('job')]);
    const job = `${path}/taken/${first!.split('/').pop()!}`;
    assert.equal(text(await queue.get()), 'job');
    assert.equal(await queue.release(), true);
    // A better item put while the listing's watch is blind: the next get takes 'job' from its
    // listing, finds the listing incomplete, lists again and drops 'job' for 'urgent'.
    const suspended = nextState(zk, ConnectionState.SUSPENDED, safety());
    proxy.refuse();
    proxy.drop();
    await suspended;
    const urgent = `${path}/taken/${(await new LockingQueue(observer, path).put(b('urgent'), 0)).split('/').pop()!}`;
    const connected = nextState(zk, ConnectionState.CONNECTED, safety());
    proxy.accept();
    await connected;
    // Its lock of 'urgent' reaches the server after its deadline, when another consumer has it.
    const late = proxy.delayFrame({ op: 'create', path: urgent }, timing(2000));
    const getting = probe(queue.get({ timeout: timing(1000) }));
    await within(late.happened, "the lock of 'urgent' is sent");
    assert.equal(await observer.exists(job), null, "'job' dropped");
    await observer.create(urgent, b('someone else'), { ephemeral: true });
    const holder = new LockingQueue(holderClient, path);
    assert.equal(
      text(await holder.get({ timeout: timing(1000) })),
      'job',
      'another consumer takes the item dropped',
    );
    assert.equal(await within(getting.promise, 'the get times out'), null);
    await zk.sync(job); // answered after any request of the get's
    const third = new LockingQueue(thirdClient, path);
    assert.equal(await third.get({ timeout: 0 }), null, 'the item is not delivered twice');
    assert.equal(await holder.holdsLock(), true, "the other consumer's lock stands");
    assert.equal(await holder.consume(), true);
  });

  test('scenario 3: a consume cut off until LOST, whose item another consumer consumed meanwhile, never resolves true', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk: zk1, observer: zk2, path, queue: consumer1 } = await holding(t, proxy, SHORT_SESSION);
    const consumer2 = new LockingQueue(zk2, path);
    const oldSession = zk1.sessionId;

    // The consume request is lost in the partition; consumer 1's client declares LOST on its own timer.
    const lost = nextState(zk1, ConnectionState.LOST, safety());
    proxy.blackhole();
    const consuming = probe(consumer1.consume());
    await lost;
    // The server expires the old session, its lock goes, and consumer 2 takes and consumes the item.
    assert.equal(text(await within(consumer2.get(), 'consumer 2 gets the item')), 'job');
    assert.equal(await consumer2.consume(), true);

    const reconnected = nextState(zk1, ConnectionState.CONNECTED, safety());
    proxy.heal();
    await reconnected;
    assert.notEqual(zk1.sessionId, oldSession, 'a new session');
    await within(
      consuming.promise.catch(() => {}),
      'consumer 1 settles its consume',
    );
    if (consuming.error === undefined)
      assert.equal(consuming.value, false, 'the item was consumed by consumer 2, not by consumer 1');
    else
      assert.ok(
        consuming.error instanceof OutcomeUnknownError,
        `unprovable: OutcomeUnknownError, got ${String(consuming.error)}`,
      );
    assert.equal(await consumer1.holdsLock(), false);
    assert.equal(await consumer1.length, 0);
    await zk1.close();
    assert.deepEqual(
      sorted(await zk2.getChildren(path)),
      ['entries', 'taken'],
      'no marker is left once the session ended',
    );
  });

  test("a lock create whose reply is lost: settled as ours in the same session; across LOST the old session's lock is never adopted", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy, SHORT_SESSION);
    const lockOf = (entry: string) => `${path}/taken/${entry.split('/').pop()!}`;
    const first = lockOf(await queue.put(b('first')));

    const swallowed = proxy.swallowReply({ op: 'create', path: first });
    assert.equal(text(await within(queue.get(), 'get after a lost lock-create reply')), 'first');
    assert.equal(swallowed.fired, 1, 'the reply was lost');
    assert.equal(await queue.holdsLock(), true);
    assert.equal(await queue.consume(), true);
    const second = lockOf(await queue.put(b('second'))); // after the consume: the get locks it, not the consume

    const oldSession = zk.sessionId;
    const lost = proxy.swallowReply({ op: 'create', path: second }, { then: 'blackhole' });
    const getting = queue.get();
    await loseSessionAfter(zk, proxy, lost);
    assert.notEqual(zk.sessionId, oldSession);
    assert.equal(
      text(await within(getting, 'get in the new session')),
      'second',
      "locked again once the old session's lock went",
    );
    assert.equal(
      (await observer.exists(second))?.ephemeralOwner,
      zk.sessionId,
      'our lock belongs to the new session',
    );
    assert.equal(await queue.holdsLock(), true);
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.length, 0);
  });

  test('an entry read behind our lock whose reply is lost until LOST: the entry is not taken for consumed; it comes back in order', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await consumer(t, proxy, SHORT_SESSION);
    const [a] = await new LockingQueue(observer, path).putAll(['a', 'b', 'c'].map(b));
    const lost = proxy.swallowReply({ op: 'getData', path: a! }, { then: 'blackhole' });
    const getting = queue.get();
    await loseSessionAfter(zk, proxy, lost);
    assert.equal(
      text(await within(getting, 'get in the new session')),
      'b',
      "'a' was locked by the old session",
    );
    await eventually(
      async () => (await observer.exists(`${path}/taken/${a!.split('/').pop()!}`)) === null,
      "the old session's lock went",
    );
    assert.deepEqual(await consumeRest(queue), ['a', 'c']);
  });

  test('a consume whose reply is swallowed, then LOST, the old session expired before the settle: OutcomeUnknownError, never false', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue, entry } = await holding(t, proxy, SHORT_SESSION);
    const swallowed = proxy.swallowReply({ op: 'multi', path: entry }, { then: 'blackhole' });
    const consuming = probe(queue.consume());
    await loseSessionAfter(zk, proxy, swallowed, () =>
      eventually(
        async () => (await markers(observer, path)).length === 0,
        'the old session expired, and its marker with it',
      ),
    );
    assert.equal((await swallowed.happened).reply?.err, 0, 'the consume was applied');
    const error = await rejectsWithin(consuming.promise, 'consume after the old session expired');
    assert.ok(error instanceof OutcomeUnknownError, `got ${String(error)}`);
    assert.equal(
      await new LockingQueue(observer, path).length,
      0,
      'the item was consumed (once, by that attempt)',
    );
    assert.equal(await queue.consume(), false, 'nothing is held any more');
  });

  test('a consume whose reply is swallowed, then the connection cut (same session): true exactly once, the item gone, no marker left', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue, entry } = await holding(t, proxy);
    const session = zk.sessionId;
    const swallowed = proxy.swallowReply({ op: 'multi', path: entry });
    assert.equal(await within(queue.consume(), 'consume'), true);
    assert.equal(swallowed.fired, 1, 'the reply was lost');
    assert.equal(zk.sessionId, session, 'the same session');
    assert.equal(await queue.consume(), false, 'consumed once');
    assert.deepEqual(await observer.getChildren(`${path}/entries`), []);
    assert.deepEqual(await observer.getChildren(`${path}/taken`), []);
    await eventually(
      async () => (await markers(observer, path)).length === 0,
      'the marker is deleted once proven',
    );
  });

  test('a release whose reply is swallowed, then the connection cut: true, the item available to another consumer, no marker left', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { observer, path, queue, lock } = await holding(t, proxy);
    const swallowed = proxy.swallowReply({ op: 'multi', path: lock });
    assert.equal(await within(queue.release(), 'release'), true);
    assert.equal(swallowed.fired, 1, 'the reply was lost');
    assert.equal(await queue.release(), false, 'released once');
    const other = new LockingQueue(observer, path);
    assert.equal(text(await other.get({ timeout: timing(1000) })), 'job', 'back in the queue');
    assert.equal(await other.consume(), true);
    await eventually(
      async () => (await markers(observer, path)).length === 0,
      'the marker is deleted once proven',
    );
  });

  test('a consume lost in a partition within one session: proven not applied (fenced), retried, true once; the fence goes with the session', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await holding(t, proxy);
    const session = zk.sessionId;
    proxy.blackhole();
    const consuming = queue.consume();
    await grace(); // the request is sent into the partition and lost there
    proxy.drop();
    proxy.heal();
    assert.equal(await within(consuming, 'consume'), true);
    assert.equal(zk.sessionId, session, 'the same session');
    assert.equal(await new LockingQueue(observer, path).length, 0);
    const fences = await eventually(async () => {
      const names = await markers(observer, path);
      return names.length === 1 ? names : undefined;
    }, "the fence of the lost attempt stays while its session lives (the applied attempt's marker is deleted)");
    assert.equal((await observer.get(`${path}/${fences[0]!}`)).data.toString(), 'fence');
    await zk.close();
    assert.deepEqual(await markers(observer, path), [], 'and goes with it');
  });

  test('a consume whose caller gives up while its reply is lost rejects OutcomeUnknownError; the next consume proves it applied', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { observer, path, queue, entry } = await holding(t, proxy);
    const swallowed = proxy.swallowReply({ op: 'multi', path: entry }, { then: 'blackhole' });
    const consuming = queue.consume({ timeout: timing(1000) });
    await within(swallowed.happened, 'the consume is applied');
    proxy.blackhole();
    const error = await rejectsWithin(consuming, 'consume with a timeout');
    assert.ok(error instanceof OutcomeUnknownError, `got ${String(error)}`);
    proxy.drop();
    proxy.heal();
    assert.equal(await within(queue.consume(), 'the next consume'), true, 'the earlier attempt applied');
    assert.equal(await queue.consume(), false);
    assert.equal(await new LockingQueue(observer, path).length, 0);
  });

  test('a get({ timeout }) or get({ signal }) queued behind a call stuck in a partition honours its own limit; the stuck call completes after the heal', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { observer, path, queue } = await holding(t, proxy);
    proxy.blackhole();
    const consuming = probe(queue.consume()); // no limit: stuck until the partition heals
    await grace();
    assert.equal(consuming.settled, false, 'the consume waits on the partition');
    assert.equal(
      await within(queue.get({ timeout: timing(300) }), 'get({ timeout }) behind the stuck consume'),
      null,
    );
    const controller = new AbortController();
    const getting = queue.get({ signal: controller.signal });
    await grace();
    controller.abort();
    assert.ok(
      (await rejectsWithin(getting, 'get({ signal }) behind the stuck consume')) instanceof AbortError,
    );
    const releasing = queue.release({ timeout: timing(300) });
    assert.ok(
      (await rejectsWithin(releasing, 'release({ timeout }) behind the stuck consume')) instanceof
        TimeoutError,
    );
    assert.equal(consuming.settled, false, 'the consume still waits');
    proxy.heal();
    proxy.drop(); // the blackholed connection carries nothing more: reconnect now, same session
    assert.equal(await within(consuming.promise, 'the consume after the heal'), true);
    assert.equal(await new LockingQueue(observer, path).length, 0, 'consumed once');
    assert.equal(await queue.consume(), false, 'nothing held any more');
  });
});

describe('Queue / LockingQueue: interop with kazoo 2.8', () => {
  test('a kazoo LockingQueue producer (put, put_all, priorities) feeds our consumer, in order', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const path = uniqueRoot('lqueue');
    await peer.request('queue_put', { kind: 'locking', path, values: [hex('low')], priority: 200 });
    await peer.request('queue_put', {
      kind: 'locking',
      path,
      values: [hex('a'), hex('b')],
      priority: 100,
      all: true,
    });
    await peer.request('queue_put', { kind: 'locking', path, values: [hex('urgent')], priority: 0 });
    const queue = new LockingQueue(zk, path);
    const got: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      got.push(text(await queue.get({ timeout: timing(2000) })));
      assert.equal(await queue.consume(), true);
    }
    assert.deepEqual(got, ['urgent', 'a', 'b', 'low']);
    assert.deepEqual(
      (await peer.request('queue_get', { kind: 'locking', path, count: 1, timeout: 0 }))['values'],
      [],
    );
  });

  test('our LockingQueue producer feeds a kazoo consumer', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const path = uniqueRoot('lqueue');
    const queue = new LockingQueue(zk, path);
    await queue.put(b('two'), 50);
    await queue.putAll([b('one'), b('ünï')], 10);
    const answer = await peer.request('queue_get', { kind: 'locking', path, count: 4, timeout: 0.5 });
    assert.deepEqual((answer['values'] as string[]).map(unhex), ['one', 'ünï', 'two']);
    assert.equal(await queue.length, 0);
  });

  test('a kazoo consumer holding an item loses its session (for real): our waiting consumer gets the item', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const path = uniqueRoot('lqueue');
    await new LockingQueue(zk, path).put(b('precious'));
    assert.equal(unhex((await peer.request('lq_get', { path, name: 'k', timeout: 2 }))['value']), 'precious');
    assert.equal((await peer.request('lq_holds', { name: 'k' }))['holds'], true);
    const ours = new LockingQueue(zk, path);
    assert.equal(await ours.get({ timeout: 0 }), null, 'locked by kazoo');
    const waiting = probe(ours.get({ timeout: timing(8000) }));
    await server.expireSession(peer.session);
    assert.equal(text(await within(waiting.promise, 'our get')), 'precious');
    assert.equal(await ours.consume(), true);
    assert.equal(await ours.length, 0);
  });

  test('our markers (a fence left by a lost consume) do not disturb kazoo consumers on the same path: every item once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const { zk, observer, path, queue } = await holding(t, proxy);
    await queue.putAll([b('b'), b('c')]);
    proxy.blackhole();
    const consuming = queue.consume();
    await grace(); // the request is lost in the partition: settled by a fence that stays while the session lives
    proxy.drop();
    proxy.heal();
    assert.equal(await within(consuming, 'consume'), true);
    await eventually(
      async () => (await markers(observer, path)).length === 1,
      "the fence is left (the applied attempt's marker is deleted)",
    );
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const answer = await peer.request('queue_get', { kind: 'locking', path, count: 3, timeout: 0.5 });
    assert.deepEqual(
      (answer['values'] as string[]).map(unhex),
      ['b', 'c'],
      'kazoo gets and consumes the rest',
    );
    await peer.request('queue_put', { kind: 'locking', path, values: [hex('d')], priority: 100 });
    assert.equal(text(await queue.get({ timeout: timing(1000) })), 'd');
    assert.equal(await queue.consume(), true);
    assert.equal(await queue.length, 0);
    assert.equal(zk.state, ConnectionState.CONNECTED);
  });

  test('structure nodes we create have empty data, as kazoo creates them (not null)', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const root = uniqueRoot('structure');
    await new Queue(zk, `${root}/q`).size();
    await new LockingQueue(zk, `${root}/lq`).size();
    await new Barrier(zk, `${root}/barrier`).create();
    await new Party(zk, `${root}/party`).size();
    const double = new DoubleBarrier(zk, `${root}/double`, 1);
    await double.enter();
    const paths = [
      root,
      `${root}/q`,
      `${root}/lq`,
      `${root}/lq/entries`,
      `${root}/lq/taken`,
      `${root}/barrier`,
      `${root}/party`,
      `${root}/double`,
      `${root}/double/ready`,
    ];
    assert.deepEqual((await peer.request('null_data', { paths }))['nulls'], []);
    await double.leave();
  });

  test('kazoo Queue ↔ our Queue, both directions, priority order kept', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const path = uniqueRoot('queue');
    await peer.request('queue_put', { kind: 'queue', path, values: [hex('k-later')], priority: 300 });
    await peer.request('queue_put', { kind: 'queue', path, values: [hex('k-first')], priority: 1 });
    const queue = new Queue(zk, path);
    assert.equal(text(await queue.get()), 'k-first');
    assert.equal(text(await queue.get()), 'k-later');
    assert.equal(await queue.get(), null);
    await queue.put(b('t-2'), 20);
    await queue.put(b('t-1'), 10);
    await queue.put(b('t-3'), 20);
    const answer = await peer.request('queue_get', { kind: 'queue', path, count: 5 });
    assert.deepEqual((answer['values'] as string[]).map(unhex), ['t-1', 't-2', 't-3']);
    assert.equal(await queue.length, 0);
  });
});
