/**
 * The Curator queues against a real Apache Curator 5.4 process (test/interop/curator/
 * QueueOps.java, driven by test/support/curator.ts) on one server and path, both directions:
 * SimpleDistributedQueue, DistributedQueue (single and putMulti nodes, with and without a lock
 * directory), DistributedPriorityQueue (priorities honoured) and DistributedDelayQueue (due
 * times honoured) — every item delivered once, none lost; `maxItems` bounds both sides' puts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DistributedDelayQueue,
  DistributedPriorityQueue,
  DistributedQueue,
  SimpleDistributedQueue,
} from '../../src/index.js';
import { timing } from '../../src/testing/index.js';
import { connect, serverForFile, sorted, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { eventually, probe, within } from '../support/wait.js';

const server = await serverForFile();

const strings = { encode: (s: string) => Buffer.from(s), decode: (bytes: Buffer) => bytes.toString() };
const b64 = (items: string[]) => items.map((item) => Buffer.from(item).toString('base64'));

/** The next `count` items Curator's consumer `name` printed, in order. */
async function curatorConsumed(peer: CuratorPeer, name: string, count: number): Promise<string[]> {
  const items: string[] = [];
  for (let i = 0; i < count; i++) items.push(decoded(await peer.next(new RegExp(`^ITEM ${name} `))));
  return items;
}

/** The item of an `ITEM <name> <base64>` line. */
function decoded(line: string): string {
  return Buffer.from(line.split(' ')[2]!, 'base64').toString();
}

/** Everything our `take` returns until the queue stays empty for `quiet` ms. */
async function drain<T>(queue: { take(options: { timeout: number }): Promise<T | null> }, quiet = 0) {
  const items: T[] = [];
  for (let item; (item = await queue.take({ timeout: quiet })) !== null;) items.push(item);
  return items;
}

describe('interop with Curator 5.4 queues', () => {
  test('SimpleDistributedQueue: Curator offers, we take in order; we offer, Curator polls in order', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('squeue');
    await peer.request('queue.offer', { path, items: b64(['j1', 'j2', 'j3']) });
    const queue = new SimpleDistributedQueue(zk, path);
    assert.deepEqual((await drain(queue)).map(String), ['j1', 'j2', 'j3']);
    for (const item of ['n1', 'n2']) await queue.offer(Buffer.from(item));
    const polled: unknown[] = [];
    for (let i = 0; i < 3; i++)
      polled.push((await peer.request('queue.poll', { path, timeoutMs: 0 }))['item']);
    assert.deepEqual(polled, [...b64(['n1', 'n2']), null]);
  });

  test('DistributedQueue: Curator puts (single and putMulti), we take each item once, in order; ours reach its consumer', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('dqueue');
    await peer.request('queue.put', { path, kind: 'plain', items: b64(['a', 'b']) });
    await peer.request('queue.put', { path, kind: 'plain', items: b64(['c', 'd', 'e']), multi: true });
    const queue = new DistributedQueue(zk, path, strings);
    assert.deepEqual(await drain(queue), ['a', 'b', 'c', 'd', 'e']);
    await peer.request('queue.consume', { name: 'c', path, kind: 'plain' });
    await queue.put('f');
    await queue.putMulti(['g', 'h']);
    assert.deepEqual(await curatorConsumed(peer, 'c', 3), ['f', 'g', 'h']);
    await peer.request('queue.stop', { name: 'c' });
    assert.equal(peer.saw(/^ITEM c /), false, 'nothing twice');
  });

  test('DistributedQueue with a lock directory: Curator and our consumers on one path, items from both sides — each exactly once', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('dqueue');
    const lockPath = `${path}-locks`;
    const ours: string[] = [];
    const items = Array.from({ length: 30 }, (_, i) => `item-${String(i).padStart(2, '0')}`);
    const theirs: string[] = [];
    const consumer = new DistributedQueue(zk, path, {
      ...strings,
      lockPath,
      consumer: (item) => ours.push(item),
    });
    await consumer.start();
    await peer.request('queue.consume', { name: 'l', path, kind: 'plain', lockPath });
    await Promise.all([
      peer.request('queue.put', { path, kind: 'plain', items: b64(items.slice(0, 15)) }),
      (async () => {
        for (const item of items.slice(15)) await consumer.put(item);
      })(),
    ]);
    await eventually(
      async () => {
        while (peer.saw(/^ITEM l /)) theirs.push(decoded(await peer.next(/^ITEM l /)));
        return ours.length + theirs.length >= items.length;
      },
      'all consumed',
      timing(30_000),
    );
    // A consumer removes an item (and its lock) after its callback returns: wait for that while
    // both still run, since closing one in between leaves the item for a later delivery.
    await eventually(
      async () => (await zk.getChildren(path)).length + (await zk.getChildren(lockPath)).length === 0,
      'every consumed item and its lock removed',
      timing(30_000),
    );
    await consumer.close();
    await peer.request('queue.stop', { name: 'l' });
    while (peer.saw(/^ITEM l /)) theirs.push(decoded(await peer.next(/^ITEM l /)));
    assert.deepEqual(sorted([...ours, ...theirs]), items, 'each item once, none lost');
  });

  test('DistributedPriorityQueue: priorities from both sides are honoured by our take and by Curator’s consumer', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('pqueue');
    const queue = new DistributedPriorityQueue(zk, path, strings);
    await queue.put('ours-10', 10);
    await peer.request('queue.put', { path, kind: 'priority', items: b64(['theirs-minus-3']), priority: -3 });
    await queue.put('ours-0', 0);
    await peer.request('queue.put', {
      path,
      kind: 'priority',
      items: b64(['theirs-5a', 'theirs-5b']),
      priority: 5,
      multi: true,
    });
    assert.deepEqual(await drain(queue), ['theirs-minus-3', 'ours-0', 'theirs-5a', 'theirs-5b', 'ours-10']);

    await queue.put('p7', 7);
    await queue.putMulti(['m-1a', 'm-1b'], -1);
    await queue.put('p2', 2);
    await peer.request('queue.consume', { name: 'p', path, kind: 'priority' });
    assert.deepEqual(await curatorConsumed(peer, 'p', 4), ['m-1a', 'm-1b', 'p2', 'p7']);
    await peer.request('queue.stop', { name: 'p' });
  });

  test('DistributedDelayQueue: a due time from either side is honoured — nothing taken before it', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('delayq');
    const queue = new DistributedDelayQueue(zk, path, strings);
    const due = Date.now() + timing(2000);
    await peer.request('queue.put', { path, kind: 'delay', items: b64(['theirs-later']), delayUntil: due });
    await peer.request('queue.put', {
      path,
      kind: 'delay',
      items: b64(['theirs-now']),
      delayUntil: Date.now() - 1,
    });
    assert.equal(await queue.take({ timeout: 0 }), 'theirs-now');
    assert.equal(await queue.take({ timeout: 0 }), null, 'not due yet');
    assert.equal(await queue.take(), 'theirs-later');
    assert.ok(Date.now() >= due, 'not before its time');

    const ourDue = Date.now() + timing(2000);
    await queue.put('ours-later', ourDue);
    await queue.put('ours-now', Date.now() - 1);
    await peer.request('queue.consume', { name: 'd', path, kind: 'delay' });
    assert.deepEqual(await curatorConsumed(peer, 'd', 1), ['ours-now']);
    assert.deepEqual(await curatorConsumed(peer, 'd', 1), ['ours-later']);
    assert.ok(Date.now() >= ourDue, 'Curator took it not before its time');
    await peer.request('queue.stop', { name: 'd' });
  });

  test("maxItems: our items hold a bounded Curator producer back, and Curator's hold ours; a take lets each in", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('maxq');
    const queue = new DistributedQueue(zk, path, { ...strings, maxItems: 2 });
    await queue.put('ours-1');
    await queue.put('ours-2');
    const full = await peer.request('queue.putmax', {
      path,
      items: b64(['theirs-0']),
      maxItems: 2,
      timeoutMs: 300,
    });
    assert.deepEqual(full['put'], [false], "Curator's put(item, maxWait, unit) is refused while full");
    const theirs = peer.request('queue.putmax', {
      path,
      items: b64(['theirs-1']),
      maxItems: 2,
      timeoutMs: 20_000,
    });
    assert.equal(await queue.take(), 'ours-1');
    assert.deepEqual((await theirs)['put'], [true], 'let in by our take');
    assert.equal(await queue.put('ours-3', { timeout: timing(300) }), null, "held back by Curator's item");
    const ours = probe(queue.put('ours-4'));
    assert.equal(await queue.take(), 'ours-2');
    assert.match((await within(ours.promise, 'let in by the take')) ?? '', /queue-\d{10}$/);
    assert.deepEqual(await drain(queue), ['theirs-1', 'ours-4']);
  });
});
