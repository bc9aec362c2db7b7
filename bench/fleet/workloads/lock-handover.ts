/**
 * Lock hand-over: W waiters queue on one held lock (spread over 10 sessions, queued one after
 * another so their sequence numbers give the FIFO order); then the holder releases and each
 * waiter releases as soon as it holds the lock. Time per hand-over, whether they got it in
 * queue order, and the requests the server received per hand-over (a herd — every waiter
 * re-listing on every release — shows as about W of them).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Lock } from '../../../src/index.js';
import {
  CURATOR,
  flagHolds,
  KAZOO,
  metricAtMost,
  packetsReceived,
  scaledCount,
  type FleetWorkload,
} from '../registry.js';

const SESSIONS = 10;

export const lockHandover: FleetWorkload = {
  name: 'lock_handover',
  title: 'Lock hand-over, W waiters (FIFO, no herd)',
  unit: 'hand-overs',
  axis: 'waiters',
  peers: [KAZOO, CURATOR],
  cases: (scale) => [{ label: '300', n: 300, params: { waiters: scaledCount(300, scale, 2) } }],
  async ours(context, { waiters }) {
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => context.session()));
    const path = `${context.root}/lock`;
    const holder = new Lock(sessions[0]!, path);
    await holder.acquire();
    const order: number[] = [];
    const done: Promise<void>[] = [];
    for (let i = 0; i < waiters!; i++) {
      const lock = new Lock(sessions[i % SESSIONS]!, path);
      done.push(
        lock.acquire().then(async () => {
          order.push(i);
          await lock.release();
        }),
      );
      while (lock.nodePath === undefined) await sleep(1); // queued before the next one
    }
    await sleep(300); // every waiter's watch set
    const before = await packetsReceived(context.host, context.port);
    const started = performance.now();
    await holder.release();
    await Promise.all(done);
    const seconds = (performance.now() - started) / 1000;
    const requests = (await packetsReceived(context.host, context.port)) - before;
    return {
      seconds,
      items: waiters!,
      ms_per_handover: (seconds * 1000) / waiters!,
      requests_per_handover: requests / waiters!,
      fifo: order.every((waiter, index) => waiter === index),
    };
  },
  targets: [
    metricAtMost('lock_handover', '300', 'ms_per_handover', 1.5),
    metricAtMost('lock_handover', '300', 'requests_per_handover', 3),
    flagHolds('lock_handover', '300', 'fifo'),
  ],
};
