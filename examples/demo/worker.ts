/**
 * One worker process of the demo fleet, built with the inversify container:
 * - `Scheduler` is injected with the named Election `scheduler` and runs only while leading;
 * - `Ledger.append()` is guarded by `@withLock`: a read-modify-write of a shared counter;
 * - a `Fleet` splits the jobs among the live workers.
 * It reports what happens as JSON lines on stdout; `demo.ts` renders them.
 *
 *   node dist/examples/demo/worker.js <hosts> <name>
 */
import 'reflect-metadata';
import { Container, inject, injectable, named } from 'inversify';
import { Election, ZooKeeperClient } from 'zookeeper-coordination';
import {
  ElectionToken,
  Fleet,
  LeaderLifecycle,
  ZooKeeper,
  currentLock,
  withLock,
  zookeeperModule,
} from 'zookeeper-coordination/di';

const [hosts, name] = process.argv.slice(2) as [string, string];
const JOBS = Array.from({ length: 12 }, (_, i) => `job-${String(i + 1).padStart(2, '0')}`);

function report(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ worker: name, at: Date.now(), ...event })}\n`);
}

@injectable()
class Ledger {
  constructor(@inject(ZooKeeper) private readonly zk: ZooKeeperClient) {}

  /** Append one entry: only one worker in the fleet at a time (the read-modify-write needs it). */
  @withLock('/demo/ledger-lock', { timeout: 5_000, identifier: name })
  async append(): Promise<number> {
    const { signal, fencingToken } = currentLock()!;
    const { data, stat } = await this.zk.get('/demo/ledger');
    if (signal.aborted) throw new Error('lock ownership uncertain: not writing');
    const next = Number(data.toString()) + 1;
    await this.zk.set('/demo/ledger', String(next), { version: stat.version });
    report({ type: 'ledger', value: next, token: String(fencingToken) });
    return next;
  }
}

@injectable()
class Scheduler {
  constructor(@inject(ElectionToken) @named('scheduler') readonly election: Election) {}
}

const container = new Container();
container.load(
  zookeeperModule({
    hosts,
    sessionTimeout: 4000,
    elections: { scheduler: { path: '/demo/leader', options: { identifier: name } } },
  }),
);
container.bind(Ledger).toSelf().inSingletonScope();
container.bind(Scheduler).toSelf().inSingletonScope();

const zk = await container.getAsync(ZooKeeper);
zk.on('state', (state) => report({ type: 'state', state }));
zk.on('keeperState', (keeperState) =>
  report({ type: 'keeperState', keeperState, server: zk.connectedServer }),
);
setInterval(() => report({ type: 'beat', keeperState: zk.keeperState }), 1000).unref();
await zk.create('/demo/ledger', '0', { makePath: true }).catch(() => {});
const ledger = await container.getAsync(Ledger);
const scheduler = await container.getAsync(Scheduler);

const leadership = new LeaderLifecycle(scheduler.election, {
  onElected: () => report({ type: 'leader' }),
  onDeposed: () => report({ type: 'deposed' }),
});
leadership.start();

const fleet = new Fleet(zk, '/demo/jobs', JOBS, { identifier: name, concurrency: 4, timeBoundary: 1500 });
const working = fleet.run(async (job, signal) => {
  report({ type: 'owns', job });
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  report({ type: 'drops', job });
});

let stopping = false;
const appending = (async () => {
  while (!stopping) {
    await ledger.append().catch((error: Error) => report({ type: 'ledger-skip', reason: error.name }));
    await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 300));
  }
})();

process.on('SIGTERM', () => {
  stopping = true;
  void (async () => {
    await fleet.stop();
    await working;
    await appending;
    await leadership.stop();
    await container.unbindAllAsync();
    report({ type: 'stopped' });
    process.exit(0);
  })();
});
report({ type: 'started' });
