/**
 * For the examples: `ZK_HOSTS` when set, otherwise a throwaway local server from the test kit.
 * Runs `main(hosts)` and cleans up after it.
 */
import { ZooKeeperServer } from 'zookeeper-coordination/testing';

export async function withZooKeeper(main: (hosts: string) => Promise<void>): Promise<void> {
  const server = process.env.ZK_HOSTS ? undefined : await ZooKeeperServer.start();
  try {
    await main(process.env.ZK_HOSTS ?? server!.connectString);
  } finally {
    await server?.close();
  }
}
