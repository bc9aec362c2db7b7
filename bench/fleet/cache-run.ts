/**
 * The fleet benchmark's tree-cache and reconnect workloads, side by side with kazoo 2.8 and
 * Apache Curator 5.4 on the same real server:
 *
 *   node dist/bench/fleet/cache-run.js [--connect HOSTS] [--scale F] [--runs 3] [--sizes 50000,200000]
 *                                      [--clients ours,kazoo,curator] [--json]
 *
 * Sizes, churn sets (2,000), watches (100,000) and the fleet (50 clients) are multiplied by
 * `--scale`. Without `--connect` it starts a standalone server with the test kit. The trees are
 * built once (bench/fleet/tree.ts); then each run starts every client program in its own process,
 * one after another (the order rotates each run): treeLoad at every size (churn at the first),
 * and our reconnect program (peers: not measured here). The Curator program is compiled on first
 * use into dist (Debian's jars, installed by scripts/setup.sh); a peer that cannot run yields a
 * `skip` record with the reason. Prints the medians over the runs, the peers' ratios (their time
 * ÷ ours, above 1 = we are faster) and the targets of issue 13 with pass/fail; `--json` prints
 * every record and median as JSON lines on stdout (the table goes to stderr).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZooKeeperClient } from '../../src/index.js';
import { ZooKeeperServer } from '../../src/testing/index.js';
import { errorMessage, median, parseFlags, parseScale, round, scaled, UsageError } from '../harness.js';
import { compileCuratorProgram, curatorClasspath } from '../../test/support/curator.js';
import { buildTree, treeSize } from './tree.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..', '..', '..');
const CURATOR_SOURCE = join(packageRoot, 'bench', 'fleet', 'curator', 'CuratorFleet.java');
const CURATOR_CLASSES = join(here, 'curator-classes');
const KAZOO_PROGRAM = join(packageRoot, 'bench', 'fleet', 'kazoo_cache.py');
const PYTHON = '/usr/bin/python3';
const CLIENTS = ['ours', 'kazoo', 'curator'] as const;
type ClientName = (typeof CLIENTS)[number];
const ROOT = '/fleet-bench';
/** Each program's own bound: a stuck peer becomes an `error` record, not a hung benchmark. */
const PROGRAM_TIMEOUT_MS = 15 * 60_000;

/** One result line of a client program, plus the run it belongs to. */
export interface FleetRecord {
  client: string;
  workload: string;
  status?: 'skip' | 'error';
  note?: string;
  run?: number;
  size?: number;
  [field: string]: unknown;
}

export interface FleetArgs {
  connect: string | undefined;
  scale: number;
  runs: number;
  sizes: number[];
  clients: ClientName[];
  json: boolean;
}

export function parseFleetArgs(argv: readonly string[]): FleetArgs {
  const flags = parseFlags(argv, ['connect', 'scale', 'runs', 'sizes', 'clients'], ['json']);
  const connect = flags.get('connect');
  const runs = Number(flags.get('runs') ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs must be a positive integer');
  const sizes = String(flags.get('sizes') ?? '50000,200000')
    .split(',')
    .map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 1))
    throw new UsageError('--sizes must be positive integers');
  const clients = String(flags.get('clients') ?? CLIENTS.join(',')).split(',') as ClientName[];
  for (const client of clients)
    if (!CLIENTS.includes(client))
      throw new UsageError(`unknown client ${client} (known: ${CLIENTS.join(', ')})`);
  return {
    connect: typeof connect === 'string' ? connect : undefined,
    scale: parseScale(flags.get('scale')),
    runs,
    sizes,
    clients,
    json: flags.has('json'),
  };
}

/** Run one program; its JSON lines, or one error record. */
function runProgram(client: string, workload: string, command: string, args: string[]): FleetRecord[] {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: PROGRAM_TIMEOUT_MS,
    maxBuffer: 1 << 24,
  });
  const records = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as FleetRecord);
  if (result.status !== 0 || result.error) {
    const why = result.error
      ? errorMessage(result.error)
      : `exit ${result.status}: ${result.stderr.trim().slice(-400)}`;
    records.push({ client, workload, status: 'error', note: why });
  }
  return records;
}

function kazooReady(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import kazoo'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `kazoo is not importable by ${PYTHON} (run scripts/setup.sh)`;
}

/** The tree-cache program of `client` at one size (churn with `sets` > 0). */
function cacheRun(client: ClientName, connect: string, size: number, sets: number): FleetRecord[] {
  const root = `${ROOT}/tree-${size}`;
  const common = [connect, root, String(size), String(sets)];
  switch (client) {
    case 'ours':
      return runProgram(client, 'treeLoad', process.execPath, [
        '--expose-gc',
        join(here, 'ours-cache.js'),
        ...['--connect', connect, '--root', root, '--nodes', String(size), '--sets', String(sets)],
      ]);
    case 'kazoo':
      return runProgram(client, 'treeLoad', PYTHON, [KAZOO_PROGRAM, ...common]);
    case 'curator':
      return runProgram(client, 'treeLoad', 'java', [
        '-cp',
        curatorClasspath(CURATOR_CLASSES),
        'CuratorFleet',
        ...common,
      ]);
  }
}

export interface Median {
  client: string;
  workload: string;
  size?: number;
  metric: string;
  median: number;
  runs: number;
}

export interface Target {
  target: string;
  value: string;
  pass: boolean | undefined;
}

const METRICS: Record<string, string[]> = {
  treeLoad: ['ms', 'heapBytesPerNode'],
  churn: ['lagP50Ms', 'lagP99Ms'],
  reconnect: ['p50Ms', 'p99Ms'],
  watches: ['registerMs', 'replayMs', 'replayed'],
  fleetReconnect: ['p10Ms', 'p50Ms', 'p90Ms', 'maxMs'],
};

export function medians(records: readonly FleetRecord[]): Median[] {
  const groups = new Map<string, FleetRecord[]>();
  for (const record of records) {
    if (record.status !== undefined) continue;
    const key = `${record.client}|${record.workload}|${record.size ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const result: Median[] = [];
  for (const group of groups.values()) {
    const { client, workload, size } = group[0]!;
    for (const metric of METRICS[workload] ?? []) {
      const values = group.map((record) => record[metric]).filter((v): v is number => typeof v === 'number');
      if (values.length === 0) continue;
      result.push({
        client,
        workload,
        ...(size === undefined ? {} : { size }),
        metric,
        median: median(values),
        runs: values.length,
      });
    }
  }
  return result;
}

/** The targets of issue 13 this benchmark measures; `pass` undefined when a figure is missing. */
export function targets(
  all: readonly Median[],
  records: readonly FleetRecord[],
  sizes: readonly number[],
): Target[] {
  const get = (client: string, workload: string, metric: string, size?: number) =>
    all.find((m) => m.client === client && m.workload === workload && m.metric === metric && m.size === size)
      ?.median;
  const first = sizes[0]!;
  const check = (
    target: string,
    value: number | undefined,
    pass: (v: number) => boolean,
    show: (v: number) => string,
  ) => ({
    target,
    value: value === undefined ? 'n/a' : show(value),
    pass: value === undefined ? undefined : pass(value),
  });
  const ratio = (peer: number | undefined, ours: number | undefined) =>
    peer === undefined || ours === undefined ? undefined : peer / ours;
  const result: Target[] = [
    check(
      `treeLoad ${first}: ≥ 1.3× faster than Curator`,
      ratio(get('curator', 'treeLoad', 'ms', first), get('ours', 'treeLoad', 'ms', first)),
      (v) => v >= 1.3,
      (v) => `${round(v, 2)}×`,
    ),
    check(
      `treeLoad ${first}: heap per node ≤ Curator's`,
      ratio(
        get('ours', 'treeLoad', 'heapBytesPerNode', first),
        get('curator', 'treeLoad', 'heapBytesPerNode', first),
      ),
      (v) => v <= 1,
      (v) => `ours ÷ Curator = ${round(v, 2)}`,
    ),
    check(
      `churn ${first}: lag p50 ≤ Curator's`,
      ratio(get('ours', 'churn', 'lagP50Ms', first), get('curator', 'churn', 'lagP50Ms', first)),
      (v) => v <= 1,
      (v) => `ours ÷ Curator = ${round(v, 2)}`,
    ),
  ];
  if (sizes.length > 1) {
    const last = sizes[sizes.length - 1]!;
    const perNode = (size: number) => {
      const ms = get('ours', 'treeLoad', 'ms', size);
      return ms === undefined ? undefined : ms / treeSize(size);
    };
    result.push(
      check(
        `treeLoad ${last}: linear in N (time per node ≤ 1.5× that at ${first})`,
        ratio(perNode(last), perNode(first)),
        (v) => v <= 1.5,
        (v) => `${round(v, 2)}×`,
      ),
    );
  }
  const warnings = records.filter(
    (r) => r.client === 'ours' && Array.isArray(r.warnings) && r.warnings.length > 0,
  );
  result.push({
    target: 'treeLoad: no process warnings',
    value: `${warnings.length} runs warned`,
    pass: warnings.length === 0,
  });
  result.push(
    check(
      'reconnect to a server that is up: p50 ≤ 300 ms',
      get('ours', 'reconnect', 'p50Ms'),
      (v) => v <= 300,
      (v) => `${round(v, 1)} ms`,
    ),
  );
  const sampled = records.find((r) => r.workload === 'watches' && r.status === undefined)?.sampled;
  result.push(
    check(
      'watches: every sampled watch fires after the reconnect',
      get('ours', 'watches', 'replayed'),
      (v) => v === sampled,
      (v) => `${v} of ${String(sampled)}`,
    ),
  );
  return result;
}

function table(all: readonly Median[], checks: readonly Target[]): string {
  const lines = ['client   workload        size     metric            median  (runs)  peer ÷ ours'];
  for (const m of all) {
    const ours = all.find(
      (o) => o.client === 'ours' && o.workload === m.workload && o.metric === m.metric && o.size === m.size,
    );
    const ratio =
      m.client !== 'ours' && ours && ours.median > 0 ? `${round(m.median / ours.median, 2)}×` : '';
    lines.push(
      [
        m.client.padEnd(8),
        m.workload.padEnd(15),
        String(m.size ?? '').padEnd(8),
        m.metric.padEnd(17),
        String(round(m.median, 1)).padStart(7),
        `(${m.runs})`.padStart(7),
        ratio.padStart(12),
      ].join(' '),
    );
  }
  lines.push('', 'targets:');
  for (const t of checks)
    lines.push(`  ${t.pass === undefined ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.value}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  const args = parseFleetArgs(process.argv.slice(2));
  const server =
    args.connect === undefined ? await ZooKeeperServer.start({ config: { maxClientCnxns: '0' } }) : undefined;
  const connect = args.connect ?? server!.connectString;
  const records: FleetRecord[] = [];
  const emit = (record: FleetRecord) => {
    records.push(record);
    if (args.json) process.stdout.write(`${JSON.stringify(record)}\n`);
  };
  try {
    const sizes = args.sizes.map((size) => scaled(size, args.scale));
    const sets = scaled(2000, args.scale);
    const zk = new ZooKeeperClient({ hosts: connect, sessionTimeout: 30_000 });
    await zk.start();
    try {
      for (const size of sizes) await buildTree(zk, `${ROOT}/tree-${size}`, size);
    } finally {
      await zk.close();
    }
    const unavailable = new Map<ClientName, string>();
    if (args.clients.includes('kazoo')) {
      const why = kazooReady();
      if (why) unavailable.set('kazoo', why);
    }
    if (args.clients.includes('curator')) {
      const why = compileCuratorProgram([CURATOR_SOURCE], CURATOR_CLASSES);
      if (why) unavailable.set('curator', why);
    }
    for (const [client, note] of unavailable) emit({ client, workload: 'treeLoad', status: 'skip', note });
    const clients = args.clients.filter((client) => !unavailable.has(client));
    for (let run = 0; run < args.runs; run++) {
      const order = clients.map((_, i) => clients[(i + run) % clients.length]!);
      for (const client of order) {
        sizes.forEach((size, i) => {
          for (const record of cacheRun(client, connect, size, i === 0 ? sets : 0))
            emit({ ...record, run, size });
        });
        if (client === 'ours') {
          const reconnect = runProgram('ours', 'reconnect', process.execPath, [
            join(here, 'ours-reconnect.js'),
            ...['--connect', connect, '--root', ROOT],
            ...['--drops', String(Math.max(3, scaled(20, Math.min(1, args.scale))))],
            ...['--watches', String(scaled(100_000, args.scale))],
            ...['--fleet', String(Math.max(2, scaled(50, args.scale)))],
          ]);
          for (const record of reconnect) emit({ ...record, run });
        }
      }
    }
    const all = medians(records);
    const checks = targets(all, records, sizes);
    if (args.json) {
      for (const m of all) process.stdout.write(`${JSON.stringify({ kind: 'median', ...m })}\n`);
      for (const t of checks) process.stdout.write(`${JSON.stringify({ kind: 'target', ...t })}\n`);
    }
    (args.json ? process.stderr : process.stdout).write(`${table(all, checks)}\n`);
    return records.some((record) => record.status === 'error') ? 1 : 0;
  } finally {
    await server?.close();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`${error instanceof UsageError ? 'usage: ' : ''}${errorMessage(error)}\n`);
  process.exitCode = 2;
}
