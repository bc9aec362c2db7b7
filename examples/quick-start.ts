/**
 * Quick start: connect, write, read, watch, run a transaction, close.
 *
 *   npm run demo                      # starts a throwaway local ZooKeeper with the test kit
 *   ZK_HOSTS=127.0.0.1:2181 npm run demo   # or use your own ensemble
 */
import { ZooKeeperClient, EventType, type WatchEvent } from 'zookeeper-coordination';
import { ZooKeeperServer } from 'zookeeper-coordination/testing';

async function main(): Promise<void> {
  const server = process.env.ZK_HOSTS ? undefined : await ZooKeeperServer.start();
  const hosts = process.env.ZK_HOSTS ?? server!.connectString;
  const zk = new ZooKeeperClient({ hosts, sessionTimeout: 10_000 });
  zk.on('state', (state) => console.log(`[state] ${state}`));
  try {
    await zk.start();
    const root = `/quick-start-${process.pid}`;
    await zk.create(`${root}/config`, 'v1', { makePath: true });

    const changed = new Promise<WatchEvent>((resolve) => {
      void zk
        .get(`${root}/config`, { watch: resolve })
        .then(({ data, stat }) =>
          console.log(`read ${root}/config = ${data.toString()} (version ${stat.version})`),
        );
    });
    await zk.set(`${root}/config`, 'v2');
    const event = await changed;
    console.log(
      `watch fired: ${event.type} on ${event.path}`,
      event.type === EventType.NodeDataChanged ? '✓' : '✗',
    );

    const member = await zk.create(`${root}/members/m-`, 'me', {
      ephemeral: true,
      sequence: true,
      makePath: true,
    });
    console.log(`joined as ${member}`);

    const results = await zk
      .transaction()
      .check(`${root}/config`, 1)
      .set(`${root}/config`, 'v3')
      .create(`${root}/audit`, 'v3')
      .commit();
    console.log(`transaction applied: ${results.map((r) => r.type).join(', ')}`);

    console.log(`children of ${root}: ${(await zk.getChildren(root)).sort().join(', ')}`);
    await zk.delete(root, { recursive: true });
    console.log('cleaned up');
  } finally {
    await zk.close();
    await server?.close();
  }
}

await main();
