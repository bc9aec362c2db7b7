/**
 * Reconnect workloads (ours only: the drop is a FaultProxy of our test kit, src/testing, in front
 * of a server that stays up, and a drop closes the proxied connections at once).
 * reconnect: R drops of one client; time from the drop to CONNECTED again with the same session.
 * watch_replay: W one-shot `exists` watches (on paths that do not exist) registered, then a drop;
 * time from the drop to CONNECTED (the SetWatches replay is part of it); then 100 of those paths
 * are created and each watch must fire. fleet_reconnect: F clients dropped at once; each one's
 * time to CONNECTED as percentiles and a 25 ms histogram: how far the jitter spreads the fleet.
 */
import { ConnectionState, EventType, type ZooKeeperClient } from '../../../src/index.js';
import { FaultProxy } from '../../../src/testing/index.js';
import { percentile } from '../../harness.js';
import { flagHolds, metricAtMost, scaledCount, type FleetContext, type FleetWorkload } from '../registry.js';

const BUCKET_MS = 25;
const SAMPLE = 100;

/** Resolves with the time CONNECTED is reported again on the same session (rejects on another). */
function reconnected(zk: ZooKeeperClient): Promise<number> {
  const session = zk.sessionId;
  return new Promise((resolve, reject) => {
    const onState = (state: ConnectionState) => {
      if (state !== ConnectionState.CONNECTED) return;
      zk.off('state', onState);
      if (zk.sessionId === session) resolve(performance.now());
      else reject(new Error('reconnected with another session'));
    };
    zk.on('state', onState);
  });
}

/** Run `work` with a FaultProxy in front of the server; its sessions (through it) close before it. */
async function proxied<T>(
  context: FleetContext,
  work: (proxy: FaultProxy, open: () => Promise<ZooKeeperClient>) => Promise<T>,
): Promise<T> {
  const proxy = await FaultProxy.start(context.connect);
  const sessions: ZooKeeperClient[] = [];
  try {
    return await work(proxy, async () => {
      const zk = await context.session({ hosts: proxy.connectString });
      sessions.push(zk);
      return zk;
    });
  } finally {
    await Promise.all(sessions.map((zk) => zk.close()));
    await proxy.close();
  }
}

export const reconnect: FleetWorkload = {
  name: 'reconnect',
  title: 'Reconnect to a server that is up, R drops (same session)',
  unit: 'reconnects',
  axis: 'drops',
  peers: [],
  cases: (scale) => [{ label: '20', n: 20, params: { drops: scaledCount(20, Math.min(1, scale), 3) } }],
  ours: (context, { drops }) =>
    proxied(context, async (proxy, open) => {
      const zk = await open();
      const times: number[] = [];
      for (let i = 0; i < drops!; i++) {
        const back = reconnected(zk);
        const t0 = performance.now();
        proxy.drop();
        times.push((await back) - t0);
      }
      times.sort((a, b) => a - b);
      const total = times.reduce((a, b) => a + b, 0);
      return {
        seconds: total / 1000,
        items: drops!,
        p50_ms: percentile(times, 0.5),
        p99_ms: percentile(times, 0.99),
      };
    }),
  targets: [metricAtMost('reconnect', '20', 'p50_ms', 300)],
};

export const watchReplay: FleetWorkload = {
  name: 'watch_replay',
  title: 'W one-shot watches: register, drop, reconnected and replayed',
  unit: 'watches',
  axis: 'watches',
  peers: [],
  cases: (scale) =>
    [10_000, 100_000].map((watches) => ({
      label: String(watches),
      n: watches,
      params: { watches: scaledCount(watches, scale, 10) },
    })),
  ours: (context, { watches }) =>
    proxied(context, async (proxy, open) => {
      const zk = await open();
      const base = `${context.root}/watches`;
      await zk.ensurePath(base);
      const paths = Array.from({ length: watches! }, (_, i) => `${base}/w${i}`);
      const fired = new Set<string>();
      const watch = (event: { type: EventType; path: string }) => {
        if (event.type === EventType.NodeCreated) fired.add(event.path);
      };
      const registerStart = performance.now();
      const inFlight = new Set<Promise<unknown>>();
      for (const path of paths) {
        const read = zk.exists(path, { watch });
        inFlight.add(read);
        void read.finally(() => inFlight.delete(read)).catch(() => {});
        if (inFlight.size >= 1000) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const register_ms = performance.now() - registerStart;
      const back = reconnected(zk);
      const t0 = performance.now();
      proxy.drop();
      const replayMs = (await back) - t0;
      const count = Math.min(SAMPLE, watches!);
      const sample = Array.from({ length: count }, (_, i) => paths[Math.floor((i * watches!) / count)]!);
      await Promise.all(sample.map((path) => zk.create(path)));
      const deadline = performance.now() + 10_000;
      while (sample.some((path) => !fired.has(path)) && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const replayed = sample.filter((path) => fired.has(path)).length;
      return {
        seconds: replayMs / 1000,
        items: watches!,
        register_ms,
        sampled: count,
        replayed,
        all_replayed: replayed === count,
      };
    }),
  targets: [flagHolds('watch_replay', '100000', 'all_replayed')],
};

export const fleetReconnect: FleetWorkload = {
  name: 'fleet_reconnect',
  title: 'A fleet of F clients dropped at once: time to CONNECTED (jitter spread)',
  unit: 'clients',
  axis: 'clients',
  peers: [],
  cases: (scale) => [{ label: '50', n: 50, params: { clients: scaledCount(50, scale, 2) } }],
  ours: (context, { clients }) =>
    proxied(context, async (proxy, open) => {
      const fleet = await Promise.all(Array.from({ length: clients! }, () => open()));
      const backs = fleet.map((zk) => reconnected(zk));
      const t0 = performance.now();
      proxy.drop();
      const times = (await Promise.all(backs)).map((t) => t - t0).sort((a, b) => a - b);
      const histogram: Record<string, number> = {};
      for (const ms of times) {
        const bucket = `${Math.floor(ms / BUCKET_MS) * BUCKET_MS}`;
        histogram[bucket] = (histogram[bucket] ?? 0) + 1;
      }
      return {
        seconds: times.at(-1)! / 1000,
        items: clients!,
        p10_ms: percentile(times, 0.1),
        p50_ms: percentile(times, 0.5),
        p90_ms: percentile(times, 0.9),
        spread_ms: percentile(times, 0.9) - percentile(times, 0.1),
        histogram: JSON.stringify(histogram),
      };
    }),
};
