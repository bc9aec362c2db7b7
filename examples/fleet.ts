/**
 * A partitioned fleet: three workers split six queues; when one leaves, the other two take
 * over its queues — and no queue is ever worked on by two workers at once.
 */
import { ZooKeeperClient } from 'zookeeper-coordination';
import { Fleet } from 'zookeeper-coordination/di';
import { withZooKeeper } from './support/local-zookeeper.js';

const QUEUES = ['q1', 'q2', 'q3', 'q4', 'q5', 'q6'];

await withZooKeeper(async (hosts) => {
  const owners = new Map<string, string>();
  const workers = await Promise.all(
    ['w1', 'w2', 'w3'].map(async (name) => {
      const zk = new ZooKeeperClient({ hosts });
      await zk.start();
      const fleet = new Fleet(zk, '/examples/fleet', QUEUES, { identifier: name, timeBoundary: 500 });
      const running = fleet.run(async (queue, signal) => {
        if (owners.has(queue)) throw new Error(`${queue} owned twice`);
        owners.set(queue, name);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        owners.delete(queue);
      });
      return { name, zk, fleet, running };
    }),
  );
  const settled = async (count: number) => {
    while (owners.size !== QUEUES.length || new Set(owners.values()).size !== count)
      await new Promise((r) => setTimeout(r, 20));
  };
  await settled(3);
  console.log(
    '3 workers:',
    [...owners]
      .sort()
      .map(([q, w]) => `${q}→${w}`)
      .join(' '),
  );
  const leaving = workers[0]!;
  await leaving.fleet.stop();
  await leaving.running;
  await settled(2);
  console.log(
    `${leaving.name} left:`,
    [...owners]
      .sort()
      .map(([q, w]) => `${q}→${w}`)
      .join(' '),
  );
  for (const { fleet, running, zk } of workers) {
    await fleet.stop();
    await running;
    await zk.close();
  }
});
