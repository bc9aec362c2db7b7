/**
 * What bounds two of the issue-7 figures, measured in one process with the variants interleaved
 * in blocks (so the machine's drift, e.g. the fsync time, hits every variant alike):
 *
 *   node dist/bench/bounds.js [--connect HOSTS] [--cycles 200] [--gets 20000] [--rounds 5]
 *
 * - connect: our client's `start()` + `close()` against a bare `net.Socket` that only writes a
 *   ConnectRequest, reads the ConnectResponse, writes closeSession, reads its reply and destroys
 *   the socket — the floor of any Node client built on `net.Socket` — and against the native
 *   binding's connect/close (when its addon loads). The server does the same work for all (a
 *   createSession and a closeSession transaction, each fsync'd).
 * - lock: our `Lock` acquire + release against the same server operations issued directly
 *   (ephemeral-sequential create pipelined with getChildren, then delete), and against two
 *   setData calls (what `lock_uncontended ≥ 0.45 × seq_set` compares with).
 * - pipelined_get: `--gets` getData of a 100-byte node through one connection with a window of
 *   1000 (the workload) and of 500, and through two connections with 500 each: when two
 *   connections together do more than one, the one connection is the server's limit, not the
 *   client's. pipelined_create_delete likewise, with `--gets`/4 nodes created, then deleted.
 * - watch_latency: per cycle a second session arms a data watch and the first sets the node; the
 *   latency is either the watch event's arrival (the workload's figure) or the writer's own
 *   setData reply — the event cannot come before the server has committed the write.
 *
 * One JSON line per variant on stdout (median µs per cycle, cycles/s, ops/s, CPU µs per op), a
 * table on stderr.
 */
import net from 'node:net';
import { Lock, ZooKeeperClient } from '../src/index.js';
import { JuteWriter } from '../src/client/protocol/jute.js';
import { OpCode } from '../src/client/protocol/op-codes.js';
import { writeConnectRequest, writeRequestHeader } from '../src/client/protocol/records.js';
import {
  errorMessage,
  median,
  now,
  PAYLOAD,
  parseFlags,
  pipelined,
  round,
  runId,
  SESSION_TIMEOUT_MS,
  UsageError,
} from './harness.js';
import { nativeClient } from './zookeeper-native-adapter.js';

interface Variant {
  group: 'connect' | 'lock' | 'pipelined_get' | 'pipelined_create_delete' | 'watch_latency';
  name: string;
  /** One cycle; resolves with its latency in ms when that is not the cycle's duration. */
  cycle: () => Promise<number | void>;
  /** Operations per cycle (default 1). */
  ops?: number;
  /** Cycles per round (default `--cycles`). */
  cycles?: number;
}

interface Tally {
  latencies: number[];
  seconds: number;
  cpuMicros: number;
}

/** One length-prefixed frame, encoded once. */
function frame(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(64);
  w.int(0);
  write(w);
  w.intAt(0, w.length - 4);
  return w.copy();
}

const CONNECT_REQUEST = frame((w) =>
  writeConnectRequest(w, {
    lastZxidSeen: 0n,
    timeout: SESSION_TIMEOUT_MS,
    sessionId: 0n,
    password: Buffer.alloc(16),
    readOnly: false,
  }),
);
const CLOSE_SESSION = frame((w) => writeRequestHeader(w, 1, OpCode.closeSession));

/** The bare-socket session cycle: two frames out, two in, then destroy. */
function bareSessionCycle(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    let replies = 0;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        buffered = buffered.subarray(4 + buffered.readInt32BE(0));
        if (++replies === 1) socket.write(CLOSE_SESSION);
        else {
          socket.destroy();
          resolve();
          return;
        }
      }
    });
    socket.write(CONNECT_REQUEST);
  });
}

async function measure(variant: Variant, cycles: number, tally: Tally): Promise<void> {
  const cpu = process.cpuUsage();
  const started = now();
  for (let i = 0; i < cycles; i++) {
    const t0 = now();
    const latency = await variant.cycle();
    tally.latencies.push(typeof latency === 'number' ? latency : now() - t0);
  }
  tally.seconds += (now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  tally.cpuMicros += used.user + used.system;
}

async function main(): Promise<number> {
  let connect: string;
  let cycles: number;
  let gets: number;
  let rounds: number;
  try {
    const flags = parseFlags(process.argv.slice(2), ['connect', 'cycles', 'gets', 'rounds'], []);
    const count = (name: string, fallback: number) => {
      const n = Number(flags.get(name) ?? fallback);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
      return n;
    };
    connect = String(flags.get('connect') ?? '127.0.0.1:2300');
    cycles = count('cycles', 200);
    gets = count('gets', 20_000);
    rounds = count('rounds', 5);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `${error.message}\nusage: node ${process.argv[1]} [--connect HOSTS] [--cycles N] [--gets N] [--rounds N]\n`,
    );
    return 2;
  }
  const first = connect.split(',')[0]!;
  const colon = first.lastIndexOf(':');
  const host = first.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(first.slice(colon + 1));

  const zk = new ZooKeeperClient({ hosts: connect, sessionTimeout: SESSION_TIMEOUT_MS });
  await zk.start();
  const root = `/zkbench-bounds-${process.pid}-${Date.now()}`;
  await zk.create(root, PAYLOAD);
  const lock = new Lock(zk, `${root}/lock`);
  await zk.create(`${root}/lock`);
  const second = new ZooKeeperClient({ hosts: connect, sessionTimeout: SESSION_TIMEOUT_MS });
  await second.start();
  const latencies = new Float64Array(gets);
  const getThrough = (client: ZooKeeperClient, n: number, window: number) =>
    pipelined(n, window, () => client.get(root), latencies);
  const nodes = Math.max(1, gets >> 2);
  let batch = 0;
  /** Create `n` nodes through the window, then delete them (the workload's two phases). */
  const createDelete = async (client: ZooKeeperClient, n: number, window: number) => {
    const prefix = `${root}/cd-${batch++}-`;
    await pipelined(n, window, (i) => client.create(`${prefix}${i}`), latencies);
    await pipelined(n, window, (i) => client.delete(`${prefix}${i}`), latencies);
  };
  const watched = `${root}/watch`;
  await zk.create(watched, PAYLOAD);
  /** The second session arms a data watch, the first sets the node: ms to the event or to the reply. */
  const setWatched = async (until: 'event' | 'reply'): Promise<number> => {
    let fired!: (t: number) => void;
    const event = new Promise<number>((resolve) => (fired = resolve));
    await second.get(watched, { watch: () => fired(now()) });
    const t0 = now();
    const [tEvent, tReply] = await Promise.all([event, zk.set(watched, PAYLOAD).then(() => now())]);
    return (until === 'event' ? tEvent : tReply) - t0;
  };
  const variants: Variant[] = [
    {
      group: 'connect',
      name: 'our client: start() + close()',
      cycle: async () => {
        const client = new ZooKeeperClient({ hosts: connect, sessionTimeout: SESSION_TIMEOUT_MS });
        await client.start();
        await client.close();
      },
    },
    {
      group: 'connect',
      name: 'bare net.Socket: connect, ConnectRequest, closeSession',
      cycle: () => bareSessionCycle(host, port),
    },
    ...(nativeClient.unavailable === undefined
      ? [
          {
            group: 'connect' as const,
            name: 'zookeeper (native binding): connect + close',
            cycle: async () => (await nativeClient.open(connect)).close(),
          },
        ]
      : []),
    {
      group: 'lock',
      name: 'our Lock: acquire() + release()',
      cycle: async () => {
        await lock.acquire();
        await lock.release();
      },
    },
    {
      group: 'lock',
      name: 'the same server ops: create-seq + getChildren (pipelined), delete',
      cycle: async () => {
        const created = zk.createWithStat(`${root}/lock/n-`, undefined, { ephemeral: true, sequence: true });
        const listed = zk.getChildren(`${root}/lock`);
        const { path } = await created;
        await listed;
        await zk.delete(path);
      },
    },
    {
      group: 'lock',
      name: 'two setData',
      cycle: async () => {
        await zk.set(root, PAYLOAD);
        await zk.set(root, PAYLOAD);
      },
    },
    {
      group: 'pipelined_get',
      name: 'one connection, window 1000 (the workload)',
      cycle: () => getThrough(zk, gets, 1000),
      ops: gets,
      cycles: 1,
    },
    {
      group: 'pipelined_get',
      name: 'one connection, window 500',
      cycle: () => getThrough(zk, gets, 500),
      ops: gets,
      cycles: 1,
    },
    {
      group: 'pipelined_get',
      name: 'two connections, window 500 each',
      cycle: async () => {
        await Promise.all([getThrough(zk, gets >> 1, 500), getThrough(second, gets - (gets >> 1), 500)]);
      },
      ops: gets,
      cycles: 1,
    },
    {
      group: 'pipelined_create_delete',
      name: 'one connection, window 1000 (the workload)',
      cycle: () => createDelete(zk, nodes, 1000),
      ops: 2 * nodes,
      cycles: 1,
    },
    {
      group: 'pipelined_create_delete',
      name: 'two connections, window 500 each',
      cycle: async () => {
        await Promise.all([
          createDelete(zk, nodes >> 1, 500),
          createDelete(second, nodes - (nodes >> 1), 500),
        ]);
      },
      ops: 2 * nodes,
      cycles: 1,
    },
    {
      group: 'watch_latency',
      name: "second session's watch event after setData (the workload)",
      cycle: () => setWatched('event'),
    },
    {
      group: 'watch_latency',
      name: "the writer's own setData reply (same kind of cycle)",
      cycle: () => setWatched('reply'),
    },
  ];
  const tallies = new Map(
    variants.map((variant) => [variant, { latencies: [], seconds: 0, cpuMicros: 0 } as Tally]),
  );
  try {
    for (const variant of variants)
      await measure(variant, Math.min(20, variant.cycles ?? cycles), {
        latencies: [],
        seconds: 0,
        cpuMicros: 0,
      }); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) await measure(variant, variant.cycles ?? cycles, tallies.get(variant)!);
    }
  } finally {
    await zk.delete(root, { recursive: true }).catch(() => {});
    await Promise.all([zk.close(), second.close()]);
  }

  const lines: string[] = [];
  for (const variant of variants) {
    const tally = tallies.get(variant)!;
    const n = tally.latencies.length;
    const ops = n * (variant.ops ?? 1);
    const record = {
      kind: 'bound',
      run_id: runId(),
      bound: variant.group,
      variant: variant.name,
      cycles: n,
      ops,
      p50_us: round(median(tally.latencies) * 1000, 1),
      cycles_per_s: round(n / tally.seconds, 1),
      ops_per_s: round(ops / tally.seconds, 1),
      cpu_us_per_op: round(tally.cpuMicros / ops, 1),
    };
    process.stdout.write(`${JSON.stringify(record)}\n`);
    lines.push(
      `${variant.group.padEnd(14)} ${variant.name.padEnd(68)} ${String(record.p50_us).padStart(10)} ${String(record.ops_per_s).padStart(9)} ${String(record.cpu_us_per_op).padStart(9)}`,
    );
  }
  process.stderr.write(
    `\n${'bound'.padEnd(14)} ${'variant'.padEnd(68)} ${'p50 µs/cyc'.padStart(10)} ${'ops/s'.padStart(9)} ${'CPU µs/op'.padStart(9)}\n${lines.join('\n')}\n`,
  );
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`bounds: ${errorMessage(error)}\n`);
  process.exitCode = 1;
}
