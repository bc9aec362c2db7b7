/**
 * Our client program for the fleet benchmark's reconnect workloads (bench/fleet/cache-run.ts runs
 * it in its own process); every connection goes through a FaultProxy (src/testing) in front of a
 * server that stays up, and a "drop" closes the proxied connections at once:
 *
 *   node dist/bench/fleet/ours-reconnect.js --connect HOSTS --root PATH --drops R --watches W --fleet F
 *
 * reconnect: R drops of one client; time from the drop to CONNECTED again with the same session.
 * watches: W one-shot `exists` watches (on paths that do not exist) registered, then a drop; time
 * from the drop to CONNECTED (the SetWatches replay is part of it); then 100 of those paths are
 * created and each watch must fire (`replayed` counts them).
 * fleet: F clients dropped at once; each client's time to CONNECTED, as percentiles and a
 * histogram (25 ms buckets): how far the reconnect jitter spreads the fleet.
 * Prints one JSON line per workload.
 */
import { ConnectionState, EventType, ZooKeeperClient } from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { now, packageVersion, parseFlags, percentile, SESSION_TIMEOUT_MS } from '../harness.js';

const CLIENT = {
  client: 'ours',
  version: packageVersion(new URL('../../../package.json', import.meta.url)),
  runtime: `Node ${process.version}`,
};
const BUCKET_MS = 25;
const SAMPLE = 100;

const flags = parseFlags(process.argv.slice(2), ['connect', 'root', 'drops', 'watches', 'fleet'], []);
const connect = String(flags.get('connect'));
const root = String(flags.get('root'));
const drops = Number(flags.get('drops') ?? 20);
const watches = Number(flags.get('watches') ?? 100_000);
const fleet = Number(flags.get('fleet') ?? 50);

const proxy = await FaultProxy.start(connect);

async function open(): Promise<ZooKeeperClient> {
  const zk = new ZooKeeperClient({ hosts: proxy.connectString, sessionTimeout: SESSION_TIMEOUT_MS });
  await zk.start();
  return zk;
}

/** Resolves with the time CONNECTED is reported again on the same session (rejects on another). */
function reconnected(zk: ZooKeeperClient): Promise<number> {
  const session = zk.sessionId;
  return new Promise((resolve, reject) => {
    const onState = (state: ConnectionState) => {
      if (state !== ConnectionState.CONNECTED) return;
      zk.off('state', onState);
      if (zk.sessionId === session) resolve(now());
      else reject(new Error('reconnected with another session'));
    };
    zk.on('state', onState);
  });
}

const sortedMs = (values: number[]) => values.sort((a, b) => a - b);

// reconnect
{
  const zk = await open();
  const times: number[] = [];
  for (let i = 0; i < drops; i++) {
    const back = reconnected(zk);
    const t0 = now();
    proxy.drop();
    times.push((await back) - t0);
  }
  sortedMs(times);
  console.log(
    JSON.stringify({
      ...CLIENT,
      workload: 'reconnect',
      drops,
      p50Ms: percentile(times, 0.5),
      p99Ms: percentile(times, 0.99),
    }),
  );
  await zk.close();
}

// watches
if (watches > 0) {
  const zk = await open();
  const base = `${root}/watches-${process.pid}`;
  await zk.ensurePath(base);
  const paths = Array.from({ length: watches }, (_, i) => `${base}/w${i}`);
  const fired = new Set<string>();
  const watch = (event: { type: EventType; path: string }) => {
    if (event.type === EventType.NodeCreated) fired.add(event.path);
  };
  const registerStart = now();
  const inFlight = new Set<Promise<unknown>>();
  for (const path of paths) {
    const read = zk.exists(path, { watch });
    inFlight.add(read);
    void read.finally(() => inFlight.delete(read)).catch(() => {});
    if (inFlight.size >= 1000) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const registerMs = now() - registerStart;
  const back = reconnected(zk);
  const t0 = now();
  proxy.drop();
  const replayMs = (await back) - t0;
  const sample = Array.from(
    { length: Math.min(SAMPLE, watches) },
    (_, i) => paths[Math.floor((i * watches) / Math.min(SAMPLE, watches))]!,
  );
  await Promise.all(sample.map((path) => zk.create(path)));
  const deadline = now() + 10_000;
  while (sample.some((path) => !fired.has(path)) && now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const replayed = sample.filter((path) => fired.has(path)).length;
  console.log(
    JSON.stringify({
      ...CLIENT,
      workload: 'watches',
      watches,
      registerMs,
      replayMs,
      sampled: sample.length,
      replayed,
    }),
  );
  await zk.delete(base, { recursive: true });
  await zk.close();
}

// fleet
if (fleet > 0) {
  const clients = await Promise.all(Array.from({ length: fleet }, () => open()));
  const backs = clients.map((zk) => reconnected(zk));
  const t0 = now();
  proxy.drop();
  const times = sortedMs((await Promise.all(backs)).map((t) => t - t0));
  const histogram: Record<string, number> = {};
  for (const ms of times) {
    const bucket = `${Math.floor(ms / BUCKET_MS) * BUCKET_MS}`;
    histogram[bucket] = (histogram[bucket] ?? 0) + 1;
  }
  console.log(
    JSON.stringify({
      ...CLIENT,
      workload: 'fleetReconnect',
      clients: fleet,
      p10Ms: percentile(times, 0.1),
      p50Ms: percentile(times, 0.5),
      p90Ms: percentile(times, 0.9),
      maxMs: times[times.length - 1],
      bucketMs: BUCKET_MS,
      histogram,
    }),
  );
  await Promise.all(clients.map((zk) => zk.close()));
}
await proxy.close();
