/**
 * The server a benchmark runner measures against (`npm run bench`, either suite): the
 * one given by `--connect`, or a standalone test-kit server it starts (maxClientCnxns=0, for the
 * many sessions). SIGINT/SIGTERM kill the running child program and stop that server first.
 */
import type { ChildProcess } from 'node:child_process';
import { ZooKeeperServer } from '../src/testing/index.js';

export interface BenchServer {
  /** The started server (undefined with `--connect`). */
  server: ZooKeeperServer | undefined;
  connect: string;
  /** One line for the report's header. */
  description: string;
}

/**
 * Start a test-kit server (a few seconds) unless `connect` is given; on SIGINT/SIGTERM kill `child()` (the
 * program running then), close the server and exit (130/143).
 */
export async function benchServer(
  connect: string | undefined,
  child: () => ChildProcess | undefined,
): Promise<BenchServer> {
  const server =
    connect === undefined ? await ZooKeeperServer.start({ config: { maxClientCnxns: '0' } }) : undefined;
  const stop = async (signal: NodeJS.Signals) => {
    child()?.kill('SIGKILL');
    await server?.close();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (server === undefined) return { server, connect: connect!, description: `--connect ${connect}` };
  const version =
    (await server.fourLetterWord('srvr').catch(() => '')).match(/Zookeeper version: ([0-9][0-9.]*)/)?.[1] ??
    'unknown version';
  return {
    server,
    connect: server.connectString,
    description: `standalone ZooKeeper ${version} on ${server.connectString} (test kit, same machine)`,
  };
}
