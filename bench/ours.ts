/**
 * The benchmark client program for this library (zookeeper-coordination):
 * `node dist/bench/ours.js --connect HOSTS --workloads a,b,c --scale F --no-warmup`.
 * The lock workloads use our `Lock` recipe. With `ZKB_TRACED=1` (set by `run.js --traced`) a no-op
 * subscriber listens on every tracing channel, as an APM agent would: the cost of being observed.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import {
  CHANNELS,
  Lock,
  NodeExistsError,
  NoNodeError,
  ZooKeeperClient,
  type GetDataResult,
} from '../src/index.js';
import {
  packageVersion,
  runBenchmark,
  SESSION_TIMEOUT_MS,
  now,
  type BenchClient,
  type BenchSession,
  type CreateKind,
  type WatchCallback,
} from './harness.js';

class OurSession implements BenchSession<GetDataResult> {
  constructor(readonly zk: ZooKeeperClient) {}

  get(path: string): Promise<GetDataResult> {
    return this.zk.get(path);
  }

  dataOf(result: GetDataResult): Uint8Array {
    return result.data;
  }

  getWatched(path: string, listener: WatchCallback): Promise<GetDataResult> {
    return this.zk.get(path, {
      watch: (event) => {
        const t1 = now();
        listener(t1, event.type);
      },
    });
  }

  set(path: string, data: Buffer, version: number): Promise<unknown> {
    return this.zk.set(path, data, { version });
  }

  create(path: string, data: Buffer, mode: CreateKind): Promise<string> {
    return mode === 'persistent'
      ? this.zk.create(path, data)
      : this.zk.create(path, data, { ephemeral: true, sequence: true });
  }

  remove(path: string, version: number): Promise<unknown> {
    return this.zk.delete(path, { version });
  }

  children(path: string): Promise<string[]> {
    return this.zk.getChildren(path);
  }

  close(): Promise<void> {
    return this.zk.close();
  }
}

export const ours: BenchClient<OurSession> = {
  name: 'zookeeper-coordination',
  version: packageVersion(new URL('../../package.json', import.meta.url)),
  runtime: `Node ${process.version}`,
  async open(connect) {
    const zk = new ZooKeeperClient({ hosts: connect, sessionTimeout: SESSION_TIMEOUT_MS });
    await zk.start();
    return new OurSession(zk);
  },
  lock: (session, path) => new Lock(session.zk, path),
  lockNote: 'our Lock recipe (kazoo layout, create pipelined with the children read)',
  isNodeExists: (error) => error instanceof NodeExistsError,
  isNoNode: (error) => error instanceof NoNodeError,
};

if (process.env.ZKB_TRACED === '1') {
  const noop = () => {};
  for (const name of [CHANNELS.operation, CHANNELS.connect, CHANNELS.lockAcquire])
    diagnostics_channel
      .tracingChannel(name)
      .subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop });
}

await runBenchmark(ours);
