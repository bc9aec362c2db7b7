/**
 * The memory benchmark of our client: heap (and RSS, external) per registered one-shot watch,
 * per persistent-recursive watch, and per idle session, each measured after full GCs as the
 * difference from a baseline taken just before, divided by the count.
 *
 *   node --expose-gc dist/bench/memory.js --connect HOSTS [--watches 100000] [--persistent N] [--sessions 1000]
 *
 * (Re-executes itself with --expose-gc when started without it.) The server must allow the
 * sessions: `maxClientCnxns=0` (the runner's test server does). One JSON line per measurement.
 *
 * - One-shot watches: `exists(path, { watch })` on distinct absent paths (an exist watch, which
 *   costs the server no znode), all with one shared listener function, so the figure is the
 *   client's bookkeeping per watch (the path string included), not the caller's closures.
 * - Persistent-recursive watches: `addWatch(path, listener, { recursive: true })` likewise.
 * - Idle sessions: connected `ZooKeeperClient`s doing nothing but their pings.
 */
import { spawnSync } from 'node:child_process';
import { ZooKeeperClient, type WatchListener } from '../src/index.js';
import {
  errorMessage,
  packageVersion,
  parseFlags,
  pipelined,
  RecordWriter,
  round,
  SESSION_TIMEOUT_MS,
  UsageError,
  WINDOW,
} from './harness.js';

type Gc = () => void;
const gc = (globalThis as { gc?: Gc }).gc;

if (gc === undefined) {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
}

interface Sample {
  heapUsed: number;
  external: number;
  rss: number;
}

/**
 * Full GCs with event-loop turns between (so finalizers, weak callbacks and the previous
 * measurement's closed client are gone), until the heap stops shrinking: a baseline that still
 * holds garbage freed during the measurement would understate the per-item figure.
 */
async function settledMemory(): Promise<Sample> {
  let previous = Infinity;
  for (let i = 0; i < 20; i++) {
    gc!();
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
    const { heapUsed } = process.memoryUsage();
    if (i >= 3 && previous - heapUsed < 64 * 1024) break;
    previous = heapUsed;
  }
  const { heapUsed, external, rss } = process.memoryUsage();
  return { heapUsed, external, rss };
}

function perItem(before: Sample, after: Sample, count: number) {
  return {
    count,
    heap_bytes_per: round((after.heapUsed - before.heapUsed) / count, 1),
    external_bytes_per: round((after.external - before.external) / count, 1),
    rss_bytes_per: round((after.rss - before.rss) / count, 1),
    heap_used_before: before.heapUsed,
    heap_used_after: after.heapUsed,
    rss_before: before.rss,
    rss_after: after.rss,
  };
}

async function openClient(connect: string): Promise<ZooKeeperClient> {
  const zk = new ZooKeeperClient({ hosts: connect, sessionTimeout: SESSION_TIMEOUT_MS });
  await zk.start();
  return zk;
}

const listener: WatchListener = () => {};

/** Register `count` watches on distinct paths with `register`, measuring the heap around it. */
async function measureWatches(
  connect: string,
  count: number,
  root: string,
  register: (zk: ZooKeeperClient, path: string) => Promise<unknown>,
) {
  const zk = await openClient(connect);
  try {
    // Warm the code paths and the pending queue first, so the baseline holds them.
    await pipelined(
      Math.min(count, 2 * WINDOW),
      WINDOW,
      (i) => zk.exists(`${root}/warm/n${i}`),
      new Float64Array(Math.min(count, 2 * WINDOW)),
    );
    const before = await settledMemory();
    await pipelined(count, WINDOW, (i) => register(zk, `${root}/n${i}`), new Float64Array(count));
    const after = await settledMemory();
    if (zk.watchCount !== count)
      throw new Error(`expected ${count} registered watches, the client has ${zk.watchCount}`);
    return perItem(before, after, count);
  } finally {
    await zk.close();
  }
}

async function measureSessions(connect: string, count: number) {
  const warm = await openClient(connect); // load and optimise the connect path before the baseline
  await warm.close();
  const before = await settledMemory();
  const sessions: ZooKeeperClient[] = [];
  try {
    const batch = 50;
    for (let i = 0; i < count; i += batch) {
      sessions.push(
        ...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => openClient(connect)))),
      );
    }
    const after = await settledMemory();
    return perItem(before, after, count);
  } finally {
    await Promise.allSettled(sessions.map((zk) => zk.close()));
  }
}

async function main(): Promise<number> {
  let connect: string;
  let watches: number;
  let persistent: number;
  let sessions: number;
  try {
    const flags = parseFlags(process.argv.slice(2), ['connect', 'watches', 'persistent', 'sessions'], []);
    const count = (name: string, fallback: number) => {
      const value = flags.get(name);
      if (value === undefined) return fallback;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
      return n;
    };
    connect = (flags.get('connect') as string | undefined) ?? '127.0.0.1:2300';
    watches = count('watches', 100_000);
    persistent = count('persistent', watches);
    sessions = count('sessions', 1000);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `${error.message}\nusage: node --expose-gc ${process.argv[1]} [--connect HOSTS] [--watches N] [--persistent N] [--sessions N]\n`,
    );
    return 2;
  }
  const out = new RecordWriter({
    client: 'zookeeper-coordination',
    client_version: packageVersion(new URL('../../package.json', import.meta.url)),
    runtime: `Node ${process.version}`,
    connect,
    scale: 1,
  });
  // Nothing is created: exist watches and persistent watches may name absent nodes.
  const root = `/zkbench-memory/${process.pid}-${Date.now()}`;
  const measurements: [string, () => Promise<object>, string][] = [
    [
      'memory_oneshot_watch',
      () =>
        measureWatches(connect, watches, `${root}/once`, (zk, path) => zk.exists(path, { watch: listener })),
      'exists(path, { watch }) on distinct absent paths, one shared listener',
    ],
    [
      'memory_persistent_recursive_watch',
      () =>
        measureWatches(connect, persistent, `${root}/rec`, (zk, path) =>
          zk.addWatch(path, listener, { recursive: true }),
        ),
      'addWatch(path, listener, { recursive: true }) on distinct paths, one shared listener',
    ],
    [
      'memory_idle_session',
      () => measureSessions(connect, sessions),
      'connected idle ZooKeeperClient instances in one process',
    ],
  ];
  let code = 0;
  for (const [workload, measure, note] of measurements) {
    try {
      out.write({ workload, status: 'ok', ...(await measure()), note });
    } catch (error) {
      code = 1;
      out.write({ workload, status: 'error', note: errorMessage(error) });
    }
  }
  return code;
}

process.exit(await main());
