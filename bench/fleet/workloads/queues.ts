/**
 * Queue workloads: get from a kazoo-layout `Queue` and get + consume from a `LockingQueue` the
 * first TAKEN items of a backlog of N already queued (put in untimed batches of one
 * transaction): the cost per item at depth N.
 */
import { LockingQueue, Queue, type ZooKeeperClient } from '../../../src/index.js';
import {
  fasterThan,
  KAZOO,
  packetsReceived,
  rateAtLeast,
  scaledCount,
  type FleetContext,
  type FleetResult,
  type FleetWorkload,
} from '../registry.js';

const PAYLOAD = Buffer.alloc(100, 0x71);
const BATCH = 500;
const DEPTHS = [2500, 10_000, 40_000];
/** Items taken per case, whatever the depth. */
const TAKEN = 500;

const depthCases = (scale: number) =>
  DEPTHS.map((queued) => ({
    label: String(queued),
    n: queued,
    params: { queued: scaledCount(queued, scale, 2), consume: scaledCount(TAKEN, scale, 2) },
  }));

/** Put `count` items through `putAll` in batches (the set-up, not measured). */
async function fill(queue: { putAll(values: Buffer[]): Promise<unknown> }, count: number): Promise<void> {
  for (let done = 0; done < count; done += BATCH) {
    await queue.putAll(Array.from({ length: Math.min(BATCH, count - done) }, () => PAYLOAD));
  }
}

/** Get and consume one item (the `i`th) of a LockingQueue; an empty queue fails the run. */
async function getAndConsume(queue: LockingQueue, i: number): Promise<void> {
  if ((await queue.get({ timeout: 10_000 })) === null) throw new Error(`queue empty after ${i} items`);
  if (!(await queue.consume())) throw new Error('consume() found nothing held');
}

/** Time `work` on `items` items; the requests the server received meanwhile, per item. */
async function timed(context: FleetContext, items: number, work: () => Promise<void>): Promise<FleetResult> {
  const before = await packetsReceived(context.host, context.port);
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const requests = (await packetsReceived(context.host, context.port)) - before;
  return { seconds, items, requests_per_item: requests / items };
}

/** Get + consume the first `consume` of `queued` items (deeper backlogs show the cost of depth). */
export const lockingQueue: FleetWorkload = {
  name: 'locking_queue',
  title: 'LockingQueue get + consume (N queued)',
  unit: 'items',
  axis: 'items queued',
  peers: [KAZOO],
  cases: depthCases,
  async ours(context, { queued, consume }) {
    const zk: ZooKeeperClient = await context.session();
    const queue = new LockingQueue(zk, `${context.root}/q`);
    await fill(queue, queued!);
    return timed(context, consume!, async () => {
      for (let i = 0; i < consume!; i++) {
        await getAndConsume(queue, i);
      }
    });
  },
  targets: [rateAtLeast('locking_queue', '10000', 1500), fasterThan('locking_queue', '10000', KAZOO, 8)],
};

/**
 * The same while a producer (another session) puts one item before each get: the consumer's
 * listing must take in entries it did not list (kazoo's get lists the whole backlog each time).
 * The put is timed too, for both clients: one write per item.
 */
export const lockingQueueFed: FleetWorkload = {
  name: 'locking_queue_fed',
  title: 'LockingQueue put (another session) + get + consume (N queued)',
  unit: 'items',
  axis: 'items queued',
  peers: [KAZOO],
  cases: (scale) => depthCases(scale).filter((c) => c.n === 10_000),
  async ours(context, { queued, consume }) {
    const [zk, producerSession] = await Promise.all([context.session(), context.session()]);
    const queue = new LockingQueue(zk, `${context.root}/q`);
    const producer = new LockingQueue(producerSession, queue.path);
    await fill(queue, queued!);
    return timed(context, consume!, async () => {
      for (let i = 0; i < consume!; i++) {
        await producer.put(PAYLOAD);
        await getAndConsume(queue, i);
      }
    });
  },
};

/** Consumers of the `locking_queue_consumers` workload, each in its own session. */
const CONSUMERS = 4;

/**
 * `CONSUMERS` consumers, each in its own session, get + consume `consume` items between them
 * from N queued: the cost of consumers choosing at the same moment (a lost race for an entry
 * costs a write round trip).
 */
export const lockingQueueConsumers: FleetWorkload = {
  name: 'locking_queue_consumers',
  title: `LockingQueue get + consume by ${CONSUMERS} consumers (N queued)`,
  unit: 'items',
  axis: 'items queued',
  peers: [KAZOO],
  cases: (scale) =>
    depthCases(scale)
      .filter((c) => c.n === 10_000)
      .map((c) => ({ ...c, params: { ...c.params, consumers: CONSUMERS } })),
  async ours(context, { queued, consume, consumers }) {
    const sessions = await Promise.all(Array.from({ length: consumers! }, () => context.session()));
    const queues = sessions.map((zk) => new LockingQueue(zk, `${context.root}/q`));
    await fill(queues[0]!, queued!);
    let taken = 0;
    return timed(context, consume!, async () => {
      await Promise.all(
        queues.map(async (queue) => {
          while (taken < consume!) await getAndConsume(queue, taken++);
        }),
      );
    });
  },
};

/** Get the first `consume` of `queued` items from a `Queue`. */
export const queue: FleetWorkload = {
  name: 'queue',
  title: 'Queue get (N queued)',
  unit: 'items',
  axis: 'items queued',
  peers: [KAZOO],
  cases: depthCases,
  async ours(context, { queued, consume }) {
    const zk = await context.session();
    const q = new Queue(zk, `${context.root}/q`);
    await fill(q, queued!);
    return timed(context, consume!, async () => {
      for (let i = 0; i < consume!; i++) {
        if ((await q.get()) === null) throw new Error(`queue empty after ${i} items`);
      }
    });
  },
  targets: DEPTHS.map((queued) => fasterThan('queue', String(queued), KAZOO, 1.5)),
};
