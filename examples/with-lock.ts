/**
 * `@withLock` on a service method (inversify): two "processes" (containers) update one account
 * balance with a read-modify-write; the lock makes every update count.
 */
import 'reflect-metadata';
import { Container, inject, injectable } from 'inversify';
import { ZooKeeperClient } from 'zookeeper-coordination';
import { ZooKeeper, currentLock, withLock, zookeeperModule } from 'zookeeper-coordination/di';
import { withZooKeeper } from './support/local-zookeeper.js';

@injectable()
class Accounts {
  constructor(@inject(ZooKeeper) private readonly zk: ZooKeeperClient) {}

  @withLock((args) => `/examples/locks/account-${String(args[0])}`, { timeout: 10_000 })
  async deposit(account: string, amount: number): Promise<number> {
    const path = `/examples/accounts/${account}`;
    const { data, stat } = await this.zk.get(path);
    const { signal } = currentLock()!; // fires if the lock may be lost (connection suspended)
    if (signal.aborted) throw signal.reason;
    const balance = Number(data.toString()) + amount;
    await this.zk.set(path, String(balance), { version: stat.version });
    return balance;
  }
}

await withZooKeeper(async (hosts) => {
  const containers = [new Container(), new Container()];
  for (const container of containers) {
    container.load(zookeeperModule({ hosts }));
    container.bind(Accounts).toSelf();
  }
  const zk = await containers[0]!.getAsync(ZooKeeper);
  await zk
    .create('/examples/accounts/alice', '0', { makePath: true })
    .catch(() => zk.set('/examples/accounts/alice', '0'));
  const services = await Promise.all(containers.map((c) => c.getAsync(Accounts)));
  await Promise.all(Array.from({ length: 20 }, (_, i) => services[i % 2]!.deposit('alice', 5)));
  console.log(
    `balance after 20 concurrent deposits of 5: ${(await zk.get('/examples/accounts/alice')).data.toString()}`,
  );
  await zk.delete('/examples', { recursive: true });
  await Promise.all(containers.map((c) => c.unbindAllAsync()));
});
