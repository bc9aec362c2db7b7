/**
 * The scale suite's program for our client: `node --expose-gc dist/bench/fleet/ours.js '<CaseRequest JSON>'`.
 * Runs one case of one workload (workloads/) and prints its `FleetResult` as one JSON line, with
 * `no_warnings` (no process warning, e.g. a `MaxListenersExceededWarning`, was emitted).
 */
import { ZooKeeperClient } from '../../src/index.js';
import { errorMessage } from '../harness.js';
import type { CaseRequest } from './clients.js';
import { FLEET_WORKLOADS } from './workloads/index.js';

const SESSION_TIMEOUT_MS = 10_000;

const warnings: string[] = [];
process.on('warning', (warning) => warnings.push(warning.name));

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
        shared: request.shared,
        host: request.host,
        port: request.port,
        async session({ sessionTimeout = SESSION_TIMEOUT_MS, hosts = request.connect } = {}) {
          const zk = new ZooKeeperClient({ hosts, sessionTimeout });
          sessions.push(zk);
          await zk.start();
          return zk;
        },
      },
      request.params,
    );
    process.stdout.write(`${JSON.stringify({ ...result, no_warnings: warnings.length === 0 })}\n`);
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
