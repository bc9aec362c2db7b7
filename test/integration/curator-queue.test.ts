/**
 * The Curator queues against a real ZooKeeper server: SimpleDistributedQueue, DistributedQueue,
 * DistributedPriorityQueue and DistributedDelayQueue — Curator 5.4's layouts and item format,
 * consumers (two on one client, one that crashes mid-item with a lock directory, one that
 * throws), the lost-reply windows of a take (proven, or OutcomeUnknownError), and Curator 5's
 * builder behaviours: container directories, `maxItems` (through SUSPENDED and LOST), put
 * listeners and `flushPuts`. Interop with a real Curator process: interop-curator-queue.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbortError,
  ConnectionState,
  DistributedDelayQueue,
  DistributedPriorityQueue,
  DistributedQueue,
  InvalidArgumentError,
  LockLostError,
  OutcomeUnknownError,
  SimpleDistributedQueue,
  priorityToString,
  epochToString,
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
import { children } from '../support/recipes.js';
import { Deferred, eventually, probe, rejectsWithin, safety, within } from '../support/wait.js';

/** Resolves once the server's container reaper has run after this call (a control container goes). */
async function reaperRan(zk: ZooKeeperClient): Promise<void> {
  const control = uniqueRoot('control');
  await zk.create(control, null, { container: true });
  await zk.create(`${control}/child`);
  await zk.delete(`${control}/child`);
  await eventually(
    async () => (await zk.exists(control)) === null,
    'the container reaper ran',
    safety(30_000),
  );
}

// The container reaper runs every second (default: every minute).
const server = await serverForFile({ javaOptions: ['-Dznode.container.checkIntervalMs=1000'] });

const b = (text: string) => Buffer.from(text, 'utf8');
const text = (value: Buffer | null) => (value === null ? null : value.toString('utf8'));
const strings = { encode: (s: string) => b(s), decode: (bytes: Buffer) => bytes.toString('utf8') };
/** A session timeout a test waits out (the server's minimum is 2 × tickTime = 1 s). */
const SHORT_SESSION = 2000;

/** The take markers left under `dir`. */
async function markers(zk: ZooKeeperClient, dir: string): Promise<string[]> {
  return (await children(zk, dir)).filter((name) => name.startsWith('__take_op__'));
}

describe('SimpleDistributedQueue', () => {
  test("Curator's layout: qn-<seq> persistent sequential with the bytes; FIFO; peek leaves, poll takes; foreign children skipped", async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('squeue');
    const queue = new SimpleDistributedQueue(zk, path);
    assert.equal(await queue.peek(), null);
    assert.equal(await queue.poll(), null);
    assert.equal(await queue.offer(b('one')), `${path}/qn-0000000000`);
    await queue.offer(new Uint8Array([0, 255]));
    await zk.create(`${path}/other`, b('not an item'));
    const { data, stat } = await zk.get(`${path}/qn-0000000001`);
    assert.deepEqual(data, Buffer.from([0, 255]));
    assert.equal(stat.ephemeralOwner, 0n);
    assert.equal(text(await queue.peek()), 'one');
    assert.equal(text(await queue.poll()), 'one');
    assert.deepEqual(await queue.take(), Buffer.from([0, 255]));
    assert.equal(await queue.poll(), null);
    assert.deepEqual(await zk.getChildren(path), ['other']);
    await assert.rejects(queue.offer('text' as unknown as Buffer), InvalidArgumentError);
  });

  test('take() waits for an offer, and resolves null after its timeout', async (t) => {
    const zk = await connect(t, server);
    const producer = await connect(t, server);
    const path = uniqueRoot('squeue');
    const queue = new SimpleDistributedQueue(zk, path);
    assert.equal(await queue.take({ timeout: timing(200) }), null);
    const waiting = queue.take({ timeout: safety() });
    await new SimpleDistributedQueue(producer, path).offer(b('late'));
    assert.equal(text(await within(waiting, 'take after the offer')), 'late');
  });

  test('two consumers on one client: every item exactly once', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('squeue');
    const producer = new SimpleDistributedQueue(zk, path);
    const items = Array.from({ length: 30 }, (_, i) => `item-${i}`);
    for (const item of items) await producer.offer(b(item));
    const consumers = [new SimpleDistributedQueue(zk, path), new SimpleDistributedQueue(zk, path)];
    const taken: string[] = [];
    await Promise.all(
      consumers.map(async (consumer) => {
        for (let item; (item = await consumer.poll()) !== null;) taken.push(text(item)!);
      }),
    );
    assert.deepEqual(sorted(taken), sorted(items));
  });

  test('a take whose delete reply is swallowed, then the connection cut (same session): the item exactly once, no marker left', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('squeue');
    const queue = new SimpleDistributedQueue(zk, path);
    const node = await queue.offer(b('job'));
    await queue.offer(b('next'));
    const session = zk.sessionId;
    const swallowed = proxy.swallowReply({ op: 'multi', path: node });
    assert.equal(text(await within(queue.poll(), 'poll after a lost reply')), 'job');
    assert.equal(swallowed.fired, 1, 'the reply was lost');
    assert.equal(zk.sessionId, session, 'the same session');
    assert.equal(text(await queue.poll()), 'next', 'job was taken once');
    assert.equal(await queue.poll(), null);
    await eventually(async () => (await markers(observer, path)).length === 0, 'the marker is deleted');
  });

  test('a take whose reply is swallowed, then LOST with the old session expired: OutcomeUnknownError, never null or the next item', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: SHORT_SESSION });
    const observer = await connect(t, server);
    const path = uniqueRoot('squeue');
    const queue = new SimpleDistributedQueue(zk, path);
    const node = await queue.offer(b('job'));
    const swallowed = proxy.swallowReply({ op: 'multi', path: node }, { then: 'blackhole' });
    const polling = probe(queue.poll());
    await loseSessionAfter(zk, proxy, swallowed, () =>
      eventually(async () => (await markers(observer, path)).length === 0, 'the old session expired'),
    );
    assert.equal((await swallowed.happened).reply?.err, 0, 'the take was applied');
    const error = await rejectsWithin(polling.promise, 'poll after the old session expired');
    assert.ok(error instanceof OutcomeUnknownError, `got ${String(error)}`);
    assert.deepEqual(
      // A SimpleDistributedQueue is a container: emptied, the server may remove it (no children then).
      (await children(observer, path)).filter((name) => name.startsWith('qn-')),
      [],
      'taken once, by that attempt (our fence marker stays until our session ends)',
    );
  });

  test('its own marker directory (a container) reaped while items remain: the next take creates it again and takes the item', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('squeue');
    const queue = new SimpleDistributedQueue(zk, `${root}/q`, { markerPath: `${root}/markers` });
    await queue.offer(b('one'));
    await queue.offer(b('two'));
    assert.equal(text(await queue.poll()), 'one');
    // Its marker deleted, the emptied container goes; the queue, holding 'two', stays.
    await eventually(
      async () => (await zk.exists(`${root}/markers`)) === null,
      'the emptied marker directory is reaped',
      safety(30_000),
    );
    assert.equal(text(await within(queue.poll(), 'poll without a marker directory')), 'two');
    assert.equal(await queue.poll(), null);
  });

  test('a waiting take() survives a dropped connection and gets the item put meanwhile', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const producer = await connect(t, server);
    const path = uniqueRoot('squeue');
    const queue = new SimpleDistributedQueue(zk, path);
    assert.equal(await queue.poll(), null);
    const waiting = queue.take({ timeout: safety() });
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.blackhole();
    await suspended;
    await new SimpleDistributedQueue(producer, path).offer(b('meanwhile'));
    proxy.drop();
    proxy.heal();
    assert.equal(text(await within(waiting, 'take after the reconnect')), 'meanwhile');
  });
});

describe('DistributedQueue', () => {
  test("Curator's layout and item format: queue-<seq>, 0x00010001 + (0x01 len bytes)* + 0x02; putMulti in one node, taken in order", async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const queue = new DistributedQueue(zk, path, strings);
    assert.equal(await queue.put('a'), `${path}/queue-0000000000`);
    assert.equal(
      (await zk.get(`${path}/queue-0000000000`)).data.toString('hex'),
      '00010001' + '01' + '00000001' + '61' + '02',
    );
    await queue.putMulti(['b', 'cc']);
    assert.equal(
      (await zk.get(`${path}/queue-0000000001`)).data.toString('hex'),
      '00010001' + '0100000001' + '62' + '0100000002' + '6363' + '02',
    );
    assert.deepEqual(
      [await queue.take(), await queue.take(), await queue.take(), await queue.take({ timeout: 0 })],
      ['a', 'b', 'cc', null],
    );
    assert.deepEqual(await zk.getChildren(path), []);
    await assert.rejects(queue.putMulti([]), InvalidArgumentError);
    await assert.rejects(
      new DistributedQueue(zk, path).put('text' as unknown as Buffer),
      InvalidArgumentError,
    );
  });

  test('a corrupt node is reported and skipped; the next item is taken', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const errors: unknown[] = [];
    const queue = new DistributedQueue(zk, path, { ...strings, onError: (error) => errors.push(error) });
    await queue.start();
    await zk.create(`${path}/queue-`, b('garbage'), { sequence: true });
    await queue.put('fine');
    assert.equal(await queue.take(), 'fine');
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof InvalidArgumentError);
    await queue.close();
  });

  test('consumers (two on one client, no lock directory): every item exactly once, in order per consumer', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const seen: string[][] = [[], []];
    const done = new Deferred();
    const items = Array.from({ length: 40 }, (_, i) => `item-${String(i).padStart(2, '0')}`);
    const consumers = seen.map(
      (log) =>
        new DistributedQueue(zk, path, {
          ...strings,
          consumer: (item) => {
            log.push(item);
            if (seen[0]!.length + seen[1]!.length === items.length) done.resolve();
          },
        }),
    );
    for (const consumer of consumers) await consumer.start();
    const producer = new DistributedQueue(zk, path, strings);
    for (let i = 0; i < items.length; i += 4) await producer.putMulti(items.slice(i, i + 4));
    await within(done.promise, 'all consumed');
    await Promise.all(consumers.map((consumer) => consumer.close()));
    assert.deepEqual(sorted([...seen[0]!, ...seen[1]!]), items);
    for (const log of seen) assert.deepEqual(log, [...log].sort(), 'each consumer sees them in order');
    assert.deepEqual(await zk.getChildren(path), []);
    assert.throws(() => consumers[0]!.take(), /take\(\) is for queues without a consumer/);
  });

  test('lockPath: a consumer that crashes mid-item (session expired) — the item goes to the other consumer, once', async (t) => {
    const victim = await connect(t, server);
    const survivor = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const lockPath = `${path}-locks`;
    const started = new Deferred();
    const got = new Deferred<string>();
    const victimErrors: unknown[] = [];
    let aborted: unknown;
    const crashing = new DistributedQueue(victim, path, {
      ...strings,
      lockPath,
      onError: (error) => victimErrors.push(error),
      consumer: async (_item, { signal }) => {
        started.resolve();
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        aborted = signal.reason;
        // Still busy until the survivor has it: returning earlier, the victim may lock it again first and finish it.
        await got.promise;
      },
    });
    await crashing.start();
    await new DistributedQueue(survivor, path, strings).put('job');
    await within(started.promise, 'the victim got the item');
    assert.equal((await survivor.getChildren(lockPath)).length, 1, 'locked while processed');
    const other = new DistributedQueue(survivor, path, {
      ...strings,
      lockPath,
      consumer: (item) => got.resolve(item),
    });
    await other.start();
    const lost = nextState(victim, ConnectionState.LOST);
    await server.expireSession(victim);
    await lost;
    assert.equal(await within(got.promise, 'delivered again'), 'job');
    await eventually(async () => (await survivor.getChildren(path)).length === 0, 'the survivor deleted it');
    await crashing.close();
    assert.ok(aborted !== undefined, "the victim's signal aborted on LOST");
    assert.ok(
      victimErrors.every((error) => error instanceof LockLostError),
      `victim errors: ${victimErrors.map(String).join(', ')}`,
    );
    await other.close();
    assert.deepEqual(await survivor.getChildren(lockPath), []);
  });

  test('lockPath: the session ends while an item is processed, and the re-lock in the new session is lost on its way: locked again and deleted, processed once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: SHORT_SESSION });
    const observer = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const lockPath = `${path}-locks`;
    const started = new Deferred();
    const gate = new Deferred();
    const processed: string[] = [];
    const errors: unknown[] = [];
    const queue = new DistributedQueue(zk, path, {
      ...strings,
      lockPath,
      onError: (error) => errors.push(error),
      consumer: async (item) => {
        started.resolve();
        await gate.promise;
        processed.push(item);
      },
    });
    await queue.start();
    const node = (await queue.put('job'))!;
    await within(started.promise, 'the item is being processed');
    const lost = nextState(zk, ConnectionState.LOST, safety(30_000));
    await server.expireSession(zk);
    await lost;
    await nextState(zk, ConnectionState.CONNECTED, safety(30_000));
    // The lock is made again in the new session; that create never reaches the server.
    const relock = proxy.delayFrame(
      { op: 'create', path: `${lockPath}/${node.split('/').pop()!}` },
      timing(2000),
    );
    gate.resolve();
    await within(relock.happened, 'the re-lock is sent');
    proxy.drop();
    await eventually(async () => (await observer.exists(node)) === null, 'the item is deleted');
    await queue.close();
    assert.deepEqual(processed, ['job'], 'processed once');
    assert.deepEqual(errors, [], 'no LockLostError: nobody else held it');
    const locks = (await children(observer, lockPath)).filter((name) => !name.startsWith('__take_op__'));
    assert.deepEqual(locks, [], 'no lock left');
  });

  test("lockPath, errorMode 'requeue': a consumer's throw puts the node back (same prefix, new sequence); 'delete' drops it", async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const delivered: string[] = [];
    const twice = new Deferred();
    const queue = new DistributedPriorityQueue(zk, path, {
      ...strings,
      lockPath: `${path}-locks`,
      onError: () => {},
      consumer: (item) => {
        delivered.push(item);
        if (delivered.length === 1) throw new Error('first try fails');
        twice.resolve();
      },
    });
    await new DistributedPriorityQueue(zk, path, strings).put('job', 7);
    await queue.start();
    await within(twice.promise, 'delivered again');
    await queue.close();
    assert.deepEqual(delivered, ['job', 'job']);
    assert.deepEqual(await zk.getChildren(path), []);

    const dropped = new Deferred();
    const deleting = new DistributedQueue(zk, path, {
      ...strings,
      lockPath: `${path}-locks`,
      errorMode: 'delete',
      onError: () => dropped.resolve(),
      consumer: () => {
        throw new Error('fails');
      },
    });
    await deleting.start();
    await deleting.put('poison');
    await within(dropped.promise, 'consumed and failed');
    await eventually(async () => (await zk.getChildren(path)).length === 0, 'deleted');
    await deleting.close();
  });

  test('lockPath take(): a lost reply on the delete is proven; the item exactly once, no lock or marker left', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const lockPath = `${path}-locks`;
    const queue = new DistributedQueue(zk, path, { ...strings, lockPath });
    const node = (await queue.put('job'))!;
    await queue.put('next');
    const swallowed = proxy.swallowReply({ op: 'multi', path: node });
    assert.equal(await within(queue.take(), 'take after a lost reply'), 'job');
    assert.equal(swallowed.fired, 1);
    assert.equal(await queue.take(), 'next');
    assert.equal(await queue.take({ timeout: 0 }), null);
    await eventually(
      async () => (await observer.getChildren(lockPath)).length === 0,
      'no lock and no marker left',
    );
  });
  test("lockPath take(): the session ends between the item's read and its delete, and another consumer locks it meanwhile: the take never deletes it in the new session", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: SHORT_SESSION });
    const observer = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const lockPath = `${path}-locks`;
    const queue = new DistributedQueue(zk, path, { ...strings, lockPath });
    const node = (await queue.put('job'))!;
    const processing = new Deferred<string>();
    const done = new Deferred();
    const processed: string[] = [];
    const other = new DistributedQueue(observer, path, {
      ...strings,
      lockPath,
      consumer: async (item) => {
        processing.resolve(item);
        await done.promise;
        processed.push(item);
      },
    });
    // Locked and read, then cut off: the delete goes out (or waits) only after the session is LOST.
    const cut = proxy.cutAfterReply({ op: 'getData', path: node });
    proxy.refuse();
    const lost = nextState(zk, ConnectionState.LOST, safety(30_000));
    const taking = probe(queue.take({ timeout: safety(30_000) }));
    await within(cut.happened, 'the item was read');
    await lost;
    await other.start();
    assert.equal(await within(processing.promise, 'the other consumer locked it once our lock went'), 'job');
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.accept();
    await connected;
    await queue.put('next');
    assert.equal(await within(taking.promise, 'the take goes on in the new session'), 'next');
    assert.notEqual(await observer.exists(node), null, 'the item the other consumer holds is still there');
    done.resolve();
    await eventually(async () => (await observer.exists(node)) === null, 'the other consumer finished it');
    assert.deepEqual(processed, ['job'], 'processed once, by its holder');
    await other.close();
    const locks = async () =>
      (await children(observer, lockPath)).filter((name) => !name.startsWith('__take_op__'));
    assert.deepEqual(await locks(), [], 'no lock left (a fence of ours may stay until our session ends)');
  });
});

describe('DistributedPriorityQueue and DistributedDelayQueue', () => {
  test('priority in the name as Curator writes it; served by priority (int32, negative first), then insertion', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('pqueue');
    const queue = new DistributedPriorityQueue(zk, path, strings);
    assert.equal(priorityToString(5), '100000005');
    assert.equal(priorityToString(-1), '0FFFFFFFF');
    assert.equal(priorityToString(-(2 ** 31)), '080000000');
    assert.throws(() => priorityToString(1.5), InvalidArgumentError);
    assert.equal(await queue.put('five', 5), `${path}/queue-1000000050000000000`);
    await queue.put('max', 2 ** 31 - 1);
    await queue.put('minus-one', -1);
    await queue.putMulti(['zero-a', 'zero-b'], 0);
    await queue.put('min', -(2 ** 31));
    await queue.put('five-again', 5);
    const order: (string | null)[] = [];
    for (let item; (item = await queue.take({ timeout: 0 })) !== null;) order.push(item);
    assert.deepEqual(order, ['min', 'minus-one', 'zero-a', 'zero-b', 'five', 'five-again', 'max']);
  });

  test('delay: due time in the name; an item is not taken before its time, and a waiting take wakes when it is due', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('delayq');
    const queue = new DistributedDelayQueue(zk, path, strings);
    assert.equal(epochToString(0x1234), '|00001234|');
    const due = Date.now() + timing(600);
    const node = await queue.put('later', due);
    assert.equal(node, `${path}/queue-|${due.toString(16).toUpperCase()}|0000000000`);
    await queue.put('now', Date.now() - 1000);
    assert.equal(await queue.take({ timeout: 0 }), 'now');
    assert.equal(await queue.take({ timeout: 0 }), null, 'not due yet');
    assert.equal(await queue.take(), 'later');
    assert.ok(Date.now() >= due, 'not before its time');
    await assert.rejects(queue.put('x', 0), InvalidArgumentError);
  });
});

describe("Curator 5's builder behaviours", () => {
  test('containers: a DistributedQueue and its lockPath are persistent under container parents; a SimpleDistributedQueue is a container', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('containers');
    const queue = new DistributedQueue(zk, `${root}/app/q`, { ...strings, lockPath: `${root}/app/locks` });
    await queue.start();
    await queue.put('job');
    assert.equal(await queue.take(), 'job');
    const simpleRoot = uniqueRoot('containers');
    const simple = new SimpleDistributedQueue(zk, `${simpleRoot}/simple/q`);
    await simple.offer(b('x'));
    assert.equal(text(await simple.take()), 'x');
    await reaperRan(zk);
    assert.notEqual(
      await zk.exists(`${root}/app/q`),
      null,
      'the emptied DistributedQueue stays (persistent)',
    );
    assert.notEqual(await zk.exists(`${root}/app/locks`), null, 'its lock directory too');
    await eventually(
      async () => (await zk.exists(simpleRoot)) === null,
      'the emptied SimpleDistributedQueue and its parent go',
    );
    assert.equal(
      await simple.offer(b('y')),
      `${simpleRoot}/simple/q/qn-0000000000`,
      'created again by the next offer',
    );
    await zk.delete(`${root}/app/q`);
    await zk.delete(`${root}/app/locks`);
    await eventually(async () => (await zk.exists(root)) === null, 'the container parents go once emptied');
    await queue.close();
  });

  test('maxItems: a put waits while the queue is full; null after its timeout (nothing put), AbortError on abort; bad options are rejected', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const queue = new DistributedQueue(zk, path, { ...strings, maxItems: 2 });
    await queue.put('a');
    await queue.putMulti(['b', 'c']);
    assert.equal((await zk.getChildren(path)).length, 2);
    assert.equal(await queue.put('d', { timeout: timing(300) }), null, 'still full');
    assert.equal((await zk.getChildren(path)).length, 2, 'nothing put');
    const aborted = new AbortController();
    const abortedPut = assert.rejects(queue.put('e', { signal: aborted.signal }), AbortError);
    aborted.abort();
    await within(abortedPut, 'the put is aborted');
    const waiting = probe(queue.put('f'));
    await eventually(() => zk.watchCount > 0, 'the put waits');
    assert.equal(waiting.settled, false);
    assert.equal(await queue.take(), 'a');
    assert.match((await within(waiting.promise, 'room')) ?? '', /queue-\d{10}$/);
    for (const bad of [0, -1, 1.5, Number.NaN])
      assert.throws(() => new DistributedQueue(zk, path, { maxItems: bad }), InvalidArgumentError);
    assert.throws(() => new DistributedQueue(zk, path, { finalFlushTime: -1 }), InvalidArgumentError);
  });

  test('maxItems across SUSPENDED and LOST: a waiting put goes on after the reconnect and in the new session', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: SHORT_SESSION });
    const other = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const queue = new DistributedQueue(zk, path, { ...strings, maxItems: 1 });
    const consumer = new DistributedQueue(other, path, strings);
    await queue.put('a');
    const first = queue.put('b');
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.blackhole();
    await suspended;
    assert.equal(await consumer.take(), 'a');
    proxy.heal();
    proxy.drop();
    assert.match((await within(first, 'put after the reconnect')) ?? '', /queue-/);

    const second = queue.put('c');
    await eventually(() => zk.watchCount > 0, 'the put waits');
    const lost = nextState(zk, ConnectionState.LOST, safety(30_000));
    proxy.blackhole();
    await lost;
    assert.equal(await consumer.take(), 'b');
    proxy.heal();
    assert.match((await within(second, 'put in the new session', safety(30_000))) ?? '', /queue-/);
    assert.equal(await consumer.take(), 'c');
  });

  test('puts() reports each completed put and putMulti; flushPuts waits for puts in flight; close() ends the iterator', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('dqueue');
    const queue = new DistributedPriorityQueue(zk, path, { ...strings, maxItems: 2 });
    const events = queue.puts();
    const one = await queue.put('a', 1);
    const multi = await queue.putMulti(['b', 'c'], 0);
    assert.deepEqual((await events.next()).value, { items: ['a'], multi: false, path: one });
    assert.deepEqual((await events.next()).value, { items: ['b', 'c'], multi: true, path: multi });
    assert.equal(await queue.flushPuts(), true, 'none in flight');
    const blocked = queue.put('d', 5); // waits: the queue is full
    assert.equal(await queue.flushPuts({ timeout: timing(300) }), false, 'a put is still in flight');
    assert.equal(await queue.take(), 'b', 'priority 0 first: its node goes, which makes room');
    assert.equal(await queue.take(), 'c', 'from the same node');
    const flushed = queue.flushPuts();
    assert.equal(await within(flushed, 'flushed'), true);
    const done = (await blocked)!;
    assert.deepEqual((await events.next()).value, { items: ['d'], multi: false, path: done });
    await queue.close();
    assert.equal((await events.next()).done, true, 'ended by close()');
  });
});
