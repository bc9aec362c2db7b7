/**
 * The fleet benchmark's program for our client: `node dist/bench/fleet/ours.js '<CaseRequest JSON>'`.
 * Runs one case of one workload (workloads/) and prints its `FleetResult` as one JSON line.
 */
import { ZooKeeperClient } from '../../src/index.js';
import { errorMessage } from '../harness.js';
import type { CaseRequest } from './clients.js';
import { FLEET_WORKLOADS } from './workloads/index.js';

const SESSION_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as CaseRequest;
  const workload = FLEET_WORKLOADS.find((candidate) => candidate.name === request.workload);
  if (!workload) {
    process.stdout.write(`${JSON.stringify({ skip: `no workload ${request.workload}` })}\n`);
    return;
  }
  const sessions: ZooKeeperClient[] = [];
  try {
    const result = await workload.ours(
      {
        connect: request.connect,
        root: request.root,
        host: request.host,
        port: request.port,
        async session() {
          const zk = new ZooKeeperClient({ hosts: request.connect, sessionTimeout: SESSION_TIMEOUT_MS });
          sessions.push(zk);
          await zk.start();
          return zk;
        },
      },
      request.params,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await Promise.all(sessions.map((zk) => zk.close()));
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`ours: ${errorMessage(error)}\n`);
  process.exitCode = 1;
}
