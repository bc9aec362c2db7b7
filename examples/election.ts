/**
 * An injected Election: three services campaign for `/examples/scheduler`; the leader runs the
 * scheduler, and when it stops, another takes over.
 */
import 'reflect-metadata';
import { Container, inject, injectable, named } from 'inversify';
import { Election } from 'zookeeper-coordination';
import { ElectionToken, LeaderLifecycle, zookeeperModule } from 'zookeeper-coordination/di';
import { withZooKeeper } from './support/local-zookeeper.js';

@injectable()
class Scheduler {
  constructor(@inject(ElectionToken) @named('scheduler') readonly election: Election) {}
}

await withZooKeeper(async (hosts) => {
  const leaders: string[] = [];
  const nodes = await Promise.all(
    ['alpha', 'beta', 'gamma'].map(async (name) => {
      const container = new Container();
      container.load(
        zookeeperModule({
          hosts,
          elections: { scheduler: { path: '/examples/scheduler', options: { identifier: name } } },
        }),
      );
      container.bind(Scheduler).toSelf();
      const scheduler = await container.getAsync(Scheduler);
      const lifecycle = new LeaderLifecycle(scheduler.election, {
        onElected: () => {
          leaders.push(name);
          console.log(
            `${name} leads (candidates: ${leaders.length === 1 ? 'alpha, beta, gamma' : 'the rest'})`,
          );
        },
      });
      lifecycle.start();
      return { name, container, lifecycle };
    }),
  );
  const waitForLeaders = async (count: number) => {
    while (leaders.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  for (let round = 1; round <= 3; round++) {
    await waitForLeaders(round);
    const current = nodes.find((node) => node.lifecycle.isLeader)!;
    console.log(`${current.name} steps down`);
    await current.lifecycle.stop();
  }
  console.log(`leaders in order: ${leaders.join(' → ')}`);
  await Promise.all(
    nodes.map(async ({ lifecycle, container }) => {
      await lifecycle.stop();
      await container.unbindAllAsync();
    }),
  );
});
