/**
 * `npm run bench`: our client and the two Node peers (node-zookeeper-client, zookeeper (native)),
 * side by side on the same real server, with the workloads defined in harness.ts.
 *
 *   node dist/bench/run.js [--connect HOSTS] [--scale F] [--workloads all|a,b,c] [--passes 2]
 *                          [--clients a,b] [--json] [--no-memory] [--memory-watches N]
 *                          [--memory-sessions N] [--no-bounds] [--peer-locks] [--no-warmup]
 *                          [--no-server-warmup] [--timeout S] [--traced]
 *
 * Without `--connect` it starts a standalone server with the test kit (maxClientCnxns=0, for
 * the memory benchmark's sessions). After untimed runs of every program at a small scale to
 * warm the server's JIT up, each client program runs in its own process, one after another,
 * `--passes` times (the order rotates each pass); then the memory benchmark and `bounds.js` (what
 * bounds the connect, lock, pipelined and watch figures). Prints a table of the medians over the passes (ops/s,
 * p50, p99, CPU µs/op, our ratios to each peer), the bounds and the targets of issue 7.
 * `--json` prints every record as a JSON line on stdout instead (plus `kind: "median"` and
 * `kind: "target"` lines), and the table on stderr. Exit code 0 when no record is an `error`.
 * `--traced` runs our program with a no-op subscriber on every tracing channel
 * (diagnostics_channel): the cost of being observed. `--suite scale` runs the scale suite
 * instead (bench/fleet/run.ts: tree caches, queues, partitions, reconnects at fleet scale).
 */
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { benchServer } from './bench-server.js';
import {
  errorMessage,
  median,
  parseFlags,
  parseScale,
  positiveFlag,
  parseWorkloads,
  round,
  runId,
  UsageError,
  WORKLOADS,
  type BenchRecord,
  type WorkloadName,
} from './harness.js';

const OURS = 'zookeeper-coordination';
const NZC = 'node-zookeeper-client';
const NATIVE = 'zookeeper';

interface ClientProgram {
  /** The `client` field its records carry. */
  name: string;
  /** Short label for the table. */
  label: string;
  script: string;
  peer: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..', '..');

const PROGRAMS: ClientProgram[] = [
  { name: OURS, label: 'ours', script: join(here, 'ours.js'), peer: false },
  { name: NZC, label: 'nzc', script: join(here, 'node-zookeeper-client.js'), peer: true },
  { name: NATIVE, label: 'native', script: join(here, 'zookeeper-native.js'), peer: true },
];

interface RunnerArgs {
  connect: string | undefined;
  scale: number;
  workloads: WorkloadName[];
  passes: number;
  clients: ClientProgram[];
  json: boolean;
  memory: boolean;
  memoryWatches: number;
  memorySessions: number;
  bounds: boolean;
  peerLocks: boolean;
  warmup: boolean;
  serverWarmup: boolean;
  timeoutS: number;
  /** Our program runs with a no-op subscriber on every tracing channel (`ZKB_TRACED=1`). */
  traced: boolean;
}

/** The scale of the untimed server warm-up run. */
const warmupScale = (args: RunnerArgs) => Math.min(0.2, args.scale);

function parseArgs(argv: readonly string[]): RunnerArgs {
  const flags = parseFlags(
    argv,
    ['connect', 'scale', 'workloads', 'passes', 'clients', 'memory-watches', 'memory-sessions', 'timeout'],
    ['json', 'no-memory', 'no-bounds', 'peer-locks', 'no-warmup', 'no-server-warmup', 'traced'],
  );
  const positive = (name: string, fallback: number) => positiveFlag(flags, name, fallback);
  const clientNames = flags.get('clients');
  let clients = PROGRAMS;
  if (typeof clientNames === 'string') {
    const wanted = clientNames.split(',').map((name) => name.trim());
    for (const name of wanted) {
      if (!PROGRAMS.some((program) => program.name === name || program.label === name)) {
        throw new UsageError(
          `unknown client ${name} (known: ${PROGRAMS.map((program) => `${program.label} = ${program.name}`).join(', ')})`,
        );
      }
    }
    clients = PROGRAMS.filter((program) => wanted.includes(program.name) || wanted.includes(program.label));
  }
  const connect = flags.get('connect');
  return {
    connect: typeof connect === 'string' ? connect : undefined,
    scale: parseScale(flags.get('scale')),
    workloads: parseWorkloads(flags.get('workloads')),
    passes: positive('passes', 2),
    clients,
    json: flags.has('json'),
    memory: !flags.has('no-memory'),
    memoryWatches: positive('memory-watches', 100_000),
    memorySessions: positive('memory-sessions', 1000),
    bounds: !flags.has('no-bounds'),
    peerLocks: flags.has('peer-locks'),
    warmup: !flags.has('no-warmup'),
    serverWarmup: !flags.has('no-server-warmup'),
    timeoutS: positive('timeout', 900),
    traced: flags.has('traced'),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

// ---- the native peer's addon ----

function nativeLoads(): string | undefined {
  const probe = spawnSync(process.execPath, ['-e', 'require("zookeeper")'], {
    cwd: packageRoot,
    encoding: 'utf8',
  });
  return probe.status === 0
    ? undefined
    : (probe.stderr
        .trim()
        .split('\n')
        .find((line) => /Error/.test(line)) ?? `exit ${probe.status}`);
}

/** Undefined when the native binding loads (after one `npm rebuild zookeeper` if needed); else why not. */
function ensureNativeAddon(): string | undefined {
  const first = nativeLoads();
  if (first === undefined) return undefined;
  log(`bench: the native zookeeper addon does not load (${first}); trying npm rebuild zookeeper once`);
  const rebuild = spawnSync('npm', ['rebuild', 'zookeeper'], {
    cwd: packageRoot,
    stdio: ['ignore', 2, 2],
    timeout: 15 * 60_000,
  });
  const second = nativeLoads();
  if (second === undefined) return undefined;
  return `the native zookeeper addon cannot be built (npm rebuild zookeeper exited ${rebuild.status ?? rebuild.signal}; ${second})`;
}

// ---- running one client program ----

let currentChild: ReturnType<typeof spawn> | undefined;

/**
 * Run one child program (`node ...argv`) with `ZKB_RUN_ID`, collecting the JSON records it
 * prints; its stderr is echoed with `label`. Resolves once it exited (or was killed after the
 * timeout) with its records and the last thing it said (for an error note).
 */
function runChild(
  argv: string[],
  label: string,
  args: RunnerArgs,
  id: string,
  onRecord: (record: BenchRecord) => void,
): Promise<{ records: BenchRecord[]; exit: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd: packageRoot,
      env: { ...process.env, ZKB_RUN_ID: id, ...(args.traced ? { ZKB_TRACED: '1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    currentChild = child;
    const records: BenchRecord[] = [];
    const notes: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const record = JSON.parse(line) as BenchRecord;
        onRecord(record);
        records.push(record);
      } catch {
        notes.push(`unparsable output: ${line.slice(0, 200)}`);
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      notes.push(line);
      log(`  [${label}] ${line}`);
    });
    const timer = setTimeout(() => {
      notes.push(`killed after ${args.timeoutS} s`);
      child.kill('SIGKILL');
    }, args.timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      currentChild = undefined;
      resolve({ records, exit: `exit ${code ?? signal}${notes.length > 0 ? `: ${notes.at(-1)}` : ''}` });
    });
  });
}

/** Run one client program; its records (plus `error` records for workloads it did not report). */
async function runProgram(
  program: ClientProgram,
  args: RunnerArgs,
  connect: string,
  id: string,
  pass: number,
  verbose = true,
): Promise<BenchRecord[]> {
  const argv = [
    program.script,
    '--connect',
    connect,
    '--workloads',
    args.workloads.join(','),
    '--scale',
    String(args.scale),
  ];
  if (!args.warmup) argv.push('--no-warmup');
  if (args.peerLocks && program.peer) argv.push('--emulated-lock');
  const { records, exit } = await runChild(argv, program.label, args, id, (record) => {
    record.pass = pass;
    if (verbose) log(`  [pass ${pass}] ${describe(record)}`);
  });
  for (const workload of args.workloads) {
    if (!records.some((record) => record.workload === workload)) {
      records.push({
        client: program.name,
        workload,
        status: 'error',
        note: `no record from ${program.label} (${exit})`,
        pass,
      });
    }
  }
  return records;
}

function describe(record: BenchRecord): string {
  if (record.status !== 'ok')
    return `${record.client} ${record.workload}: ${record.status}${record.note ? ` (${record.note})` : ''}`;
  if (record.ops_per_s === undefined)
    return `${record.client} ${record.workload}: ${record.heap_bytes_per} B heap, ${record.rss_bytes_per} B RSS per item`;
  return `${record.client} ${record.workload}: ${fmtRate(record.ops_per_s)} ops/s, p50 ${fmtMs(record.p50_ms)} ms, ${fmtNum(record.cpu_us_per_op, 1)} µs CPU/op`;
}

/** The memory benchmark (our client), in its own process with --expose-gc. */
async function runMemory(args: RunnerArgs, connect: string, id: string): Promise<BenchRecord[]> {
  const argv = [
    '--expose-gc',
    join(here, 'memory.js'),
    '--connect',
    connect,
    '--watches',
    String(args.memoryWatches),
    '--sessions',
    String(args.memorySessions),
  ];
  const { records, exit } = await runChild(argv, 'memory', args, id, (record) =>
    log(`  [memory] ${describe(record)}`),
  );
  if (records.length === 0)
    records.push({
      client: OURS,
      workload: 'memory',
      status: 'error',
      note: `the memory benchmark printed nothing (${exit})`,
    });
  return records;
}

/** What bounds the connect, lock, pipelined and watch figures (bounds.ts), our client only, in its own process. */
async function runBounds(args: RunnerArgs, connect: string, id: string): Promise<BoundRecord[]> {
  const argv = [
    join(here, 'bounds.js'),
    '--connect',
    connect,
    ...[
      '--cycles',
      String(Math.max(10, Math.round(200 * args.scale))),
      '--gets',
      String(Math.max(1000, Math.round(20_000 * args.scale))),
      '--rounds',
      '5',
    ],
  ];
  const { records, exit } = await runChild(argv, 'bounds', args, id, () => {});
  if (records.length === 0) log(`bench: the bounds benchmark printed nothing (${exit})`);
  return records as unknown as BoundRecord[];
}

interface BoundRecord {
  kind: 'bound';
  bound: string;
  variant: string;
  cycles: number;
  ops: number;
  /** Per cycle (one connect, one acquire + release, one batch of requests, one watch event or reply). */
  p50_us: number;
  cycles_per_s: number;
  /** Operations per second: cycles, or requests for the pipelined bounds. */
  ops_per_s: number;
  cpu_us_per_op: number;
}

// ---- summarising ----

interface Summary {
  client: string;
  workload: string;
  passes: number;
  status: 'ok' | 'skip' | 'error';
  ops_per_s: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  cpu_us_per_op: number | null;
  mutex_ok?: boolean;
  note?: string;
}

function summarise(records: BenchRecord[], client: string, workload: string): Summary | undefined {
  const mine = records.filter((record) => record.client === client && record.workload === workload);
  if (mine.length === 0) return undefined;
  const ok = mine.filter((record) => record.status === 'ok');
  const errors = mine.filter((record) => record.status === 'error');
  const medianOf = (key: 'ops_per_s' | 'p50_ms' | 'p99_ms' | 'cpu_us_per_op') => {
    const values = ok
      .map((record) => record[key])
      .filter((value): value is number => typeof value === 'number');
    return values.length === 0 ? null : median(values);
  };
  const summary: Summary = {
    client,
    workload,
    passes: ok.length,
    status: errors.length > 0 ? 'error' : ok.length > 0 ? 'ok' : 'skip',
    ops_per_s: medianOf('ops_per_s'),
    p50_ms: medianOf('p50_ms'),
    p99_ms: medianOf('p99_ms'),
    cpu_us_per_op: medianOf('cpu_us_per_op'),
  };
  if (ok.some((record) => 'mutex_ok' in record) || errors.some((record) => 'mutex_ok' in record)) {
    summary.mutex_ok =
      mine.every((record) => record.status !== 'ok' || record.mutex_ok === true) &&
      errors.every((record) => record.mutex_ok !== false);
  }
  const note = (errors[0] ?? mine.find((record) => record.status === 'skip'))?.note;
  if (note !== undefined && summary.status !== 'ok') summary.note = note;
  return summary;
}

function fmtNum(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? '–' : (round(value, digits) || 0).toFixed(digits); // no "-0"
}
function fmtRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}
function fmtMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(3);
}
function fmtRatio(value: number | null, digits = 2): string {
  return value === null || !Number.isFinite(value) ? '–' : `${value.toFixed(digits)}×`;
}
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || b === 0 ? null : a / b;
const medianOrNull = (values: number[]): number | null => (values.length === 0 ? null : median(values));

/** Our `workload` ops/s over our `base` ops/s, one ratio per pass that has both. */
function passRatios(records: BenchRecord[], workload: string, base: string): number[] {
  const rate = (name: string, pass: unknown) =>
    records.find(
      (record) =>
        record.client === OURS && record.workload === name && record.pass === pass && record.status === 'ok',
    )?.ops_per_s;
  return [...new Set(records.map((record) => record.pass))].flatMap((pass) => {
    const r = ratio(rate(workload, pass), rate(base, pass));
    return r === null ? [] : [r];
  });
}

function table(rows: string[][], rightAligned: (column: number) => boolean): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length)));
  return rows
    .map((row, index) => {
      const line = row.map((cell, column) => {
        const pad = widths[column]! - [...cell].length;
        return rightAligned(column) && index > 0 ? ' '.repeat(pad) + cell : cell + ' '.repeat(pad);
      });
      return line.join('  ').trimEnd();
    })
    .join('\n');
}

interface Target {
  target: string;
  measured: string;
  ok: boolean | null;
}

function targets(
  get: (client: string, workload: string) => Summary | undefined,
  memory: BenchRecord[],
  records: BenchRecord[],
): Target[] {
  const out: Target[] = [];
  const ours = (workload: string) => get(OURS, workload);
  const relative = (
    target: string,
    workload: string,
    peer: string,
    key: 'ops_per_s' | 'cpu_us_per_op',
    bound: number,
    atLeast: boolean,
  ) => {
    const r = ratio(ours(workload)?.[key], get(peer, workload)?.[key]);
    const unit = key === 'ops_per_s' ? 'ops/s' : 'µs/op';
    const fmt = key === 'ops_per_s' ? fmtRate : (value: number | null | undefined) => fmtNum(value, 1);
    out.push({
      target,
      measured: `${fmt(ours(workload)?.[key])} vs ${fmt(get(peer, workload)?.[key])} ${unit} = ${fmtRatio(r, 3)}`,
      ok: r === null ? null : atLeast ? r >= bound : r <= bound,
    });
  };
  relative('pipelined_get ops/s ≥ 1.3× node-zookeeper-client', 'pipelined_get', NZC, 'ops_per_s', 1.3, true);
  relative(
    'pipelined_get CPU µs/op ≤ 0.6× node-zookeeper-client',
    'pipelined_get',
    NZC,
    'cpu_us_per_op',
    0.6,
    false,
  );
  relative(
    'pipelined_create_delete ops/s ≥ 1.2× node-zookeeper-client',
    'pipelined_create_delete',
    NZC,
    'ops_per_s',
    1.2,
    true,
  );
  for (const workload of ['seq_get', 'seq_set', 'watch_latency']) {
    const peers = [NZC, NATIVE]
      .map((peer) => ({ peer, p50: get(peer, workload)?.p50_ms ?? null }))
      .filter((entry) => entry.p50 !== null);
    const best = peers.sort((a, b) => a.p50! - b.p50!)[0];
    const mine = ours(workload)?.p50_ms ?? null;
    out.push({
      target: `${workload} p50 ≤ best peer's`,
      measured: best
        ? `${fmtMs(mine)} vs ${fmtMs(best.p50)} ms (${best.peer})`
        : `${fmtMs(mine)} ms, no peer figure`,
      ok: mine === null || !best ? null : mine <= best.p50!,
    });
  }
  relative('connect cycles/s ≥ zookeeper (native)', 'connect', NATIVE, 'ops_per_s', 1, true);
  for (const [workload, bound] of [
    ['lock_uncontended', 0.45],
    ['lock_contended', 0.35],
  ] as const) {
    // Per pass (both from one process a few seconds apart), then the median: the server's fsync
    // time drifts between passes more than between two workloads of one pass.
    const r = medianOrNull(passRatios(records, workload, 'seq_set'));
    const mutex = workload === 'lock_contended' ? ours(workload)?.mutex_ok : undefined;
    out.push({
      target: `${workload} ops/s ≥ ${bound}× our seq_set${workload === 'lock_contended' ? ', mutex_ok' : ''}`,
      measured: `${fmtRate(ours(workload)?.ops_per_s)} vs ${fmtRate(ours('seq_set')?.ops_per_s)} ops/s; median of per-pass ratios ${fmtRatio(r, 3)}${mutex === undefined ? '' : `, mutex_ok ${mutex}`}`,
      ok: r === null ? null : r >= bound && mutex !== false,
    });
  }
  for (const [workload, label, bound] of [
    ['memory_oneshot_watch', 'heap per one-shot watch ≤ 300 B', 300],
    ['memory_idle_session', 'heap per idle session ≤ 50 KB', 50_000],
  ] as const) {
    const record = memory.find((entry) => entry.workload === workload && entry.status === 'ok');
    const value = typeof record?.heap_bytes_per === 'number' ? record.heap_bytes_per : null;
    out.push({
      target: label,
      measured: value === null ? '–' : `${Math.round(value).toLocaleString('en-US')} B`,
      ok: value === null ? null : value <= bound,
    });
  }
  return out;
}

function report(
  records: BenchRecord[],
  memory: BenchRecord[],
  bounds: BoundRecord[],
  args: RunnerArgs,
  header: string[],
): { text: string; summaries: Summary[]; targetList: Target[] } {
  const summaries: Summary[] = [];
  for (const workload of args.workloads) {
    for (const program of args.clients) {
      const summary = summarise(records, program.name, workload);
      if (summary) summaries.push(summary);
    }
  }
  const get = (client: string, workload: string) =>
    summaries.find((entry) => entry.client === client && entry.workload === workload);
  const peers = args.clients.filter((program) => program.peer);
  const rows: string[][] = [
    [
      'workload',
      'client',
      'ops/s',
      'p50 ms',
      'p99 ms',
      'CPU µs/op',
      ...peers.flatMap((peer) => [`ours÷${peer.label} ops/s`, `ours÷${peer.label} CPU`]),
    ],
  ];
  for (const workload of args.workloads) {
    args.clients.forEach((program, index) => {
      const entry = get(program.name, workload);
      const first = index === 0 ? workload : '';
      if (!entry) return;
      if (entry.status !== 'ok') {
        rows.push([first, program.name, entry.status, '', '', '', ...peers.flatMap(() => ['', ''])]);
        return;
      }
      const ratios =
        program.name === OURS
          ? peers.flatMap((peer) => {
              const other = get(peer.name, workload);
              return [
                fmtRatio(ratio(entry.ops_per_s, other?.ops_per_s)),
                fmtRatio(ratio(entry.cpu_us_per_op, other?.cpu_us_per_op)),
              ];
            })
          : peers.flatMap(() => ['', '']);
      const mutex = entry.mutex_ok === undefined ? '' : entry.mutex_ok ? '' : ' (mutex violated!)';
      rows.push([
        first,
        program.name,
        fmtRate(entry.ops_per_s) + mutex,
        fmtMs(entry.p50_ms),
        fmtMs(entry.p99_ms),
        fmtNum(entry.cpu_us_per_op, 1),
        ...ratios,
      ]);
    });
  }
  const lines = [...header, '', table(rows, (column) => column >= 2)];
  const notes = summaries
    .filter((entry) => entry.status !== 'ok' && entry.note)
    .map((entry) => `  ${entry.client} ${entry.workload}: ${entry.status}: ${entry.note}`);
  if (notes.length > 0) lines.push('', 'skipped / failed:', ...[...new Set(notes)]);

  if (memory.length > 0) {
    const memoryRows = [
      ['memory (our client, after GC)', 'count', 'heap B/item', 'external B/item', 'RSS B/item'],
    ];
    for (const record of memory) {
      if (record.status !== 'ok')
        memoryRows.push([record.workload, record.status, String(record.note ?? ''), '', '']);
      else
        memoryRows.push([
          record.workload,
          String(record.count),
          fmtNum(record.heap_bytes_per as number, 0),
          fmtNum(record.external_bytes_per as number, 0),
          fmtNum(record.rss_bytes_per as number, 0),
        ]);
    }
    lines.push(
      '',
      table(memoryRows, (column) => column >= 1),
    );
  }
  if (bounds.length > 0) {
    const boundRows = [
      ['bound (one process, variants interleaved)', 'variant', 'ops/s', 'CPU µs/op', 'p50 µs/cycle'],
      ...bounds.map((entry) => [
        entry.bound,
        entry.variant,
        fmtRate(entry.ops_per_s),
        fmtNum(entry.cpu_us_per_op, 1),
        fmtNum(entry.p50_us, 0),
      ]),
    ];
    lines.push(
      '',
      table(boundRows, (column) => column >= 2),
    );
  }

  const targetList = targets(get, memory, records);
  const targetRows = [
    ['target (issue 7, medians)', 'measured', '✓/✗'],
    ...targetList.map((entry) => [
      entry.target,
      entry.measured,
      entry.ok === null ? 'n/a' : entry.ok ? '✓' : '✗',
    ]),
  ];
  lines.push(
    '',
    table(targetRows, () => false),
  );
  return { text: lines.join('\n'), summaries, targetList };
}

// ---- main ----

async function main(argv: readonly string[]): Promise<number> {
  let args: RunnerArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    log(
      `${error.message}\nusage: node dist/bench/run.js [--connect HOSTS] [--scale F] [--workloads all|a,b,c] [--passes N] [--clients ours,nzc,native] [--json] [--no-memory] [--memory-watches N] [--memory-sessions N] [--no-bounds] [--peer-locks] [--no-warmup] [--no-server-warmup] [--timeout S]`,
    );
    return 2;
  }
  const id = runId();
  const loadBefore = os.loadavg();
  if (args.clients.some((program) => program.name === NATIVE)) {
    // Its program still runs: without the addon it prints a `skip` record per workload.
    const problem = ensureNativeAddon();
    if (problem !== undefined) log(`bench: ${NATIVE} will be skipped: ${problem}`);
  }

  if (args.connect === undefined) log('bench: starting a standalone ZooKeeper server (test kit)');
  const {
    server,
    connect,
    description: serverDescription,
  } = await benchServer(args.connect, () => currentChild);

  const records: BenchRecord[] = [];
  let memory: BenchRecord[] = [];
  let bounds: BoundRecord[] = [];
  try {
    if (args.serverWarmup) {
      // A fresh JVM is slow until its JIT has compiled the request path: after one small run it
      // still served getData up to 2× slower than after three, so the first program of pass 1
      // measured a half-warm server. Every client program twice (their traffic differs).
      // Untimed, records discarded.
      log(
        `bench: warming the server up (every program twice, scale ${warmupScale(args)}, records discarded)`,
      );
      for (const program of [...args.clients, ...args.clients]) {
        await runProgram(
          program,
          { ...args, scale: warmupScale(args), workloads: [...WORKLOADS], peerLocks: false },
          connect,
          `${id}-warmup`,
          0,
          false,
        );
      }
    }
    for (let pass = 1; pass <= args.passes; pass++) {
      // Rotate the order each pass, so no client always runs first or right after another.
      const shift = (pass - 1) % args.clients.length;
      for (const program of [...args.clients.slice(shift), ...args.clients.slice(0, shift)]) {
        log(`bench: pass ${pass}/${args.passes}: ${program.name}`);
        records.push(...(await runProgram(program, args, connect, id, pass)));
      }
    }
    if (args.memory) {
      log('bench: memory benchmark (our client)');
      memory = await runMemory(args, connect, id);
    }
    if (args.bounds) {
      log('bench: bounds of the connect and lock figures (our client)');
      bounds = await runBounds(args, connect, id);
    }
  } finally {
    await server?.close();
  }
  const loadAfter = os.loadavg();

  const cpus = os.cpus();
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  const header = [
    `ZooKeeper client benchmark, run ${id}: ${args.passes} pass(es), medians; scale ${args.scale}${args.warmup ? '' : ', no warm-up'}${args.serverWarmup ? '' : ', cold server'}`,
    `machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`,
    `server: ${serverDescription}`,
    `load average (1/5/15 min) before: ${load(loadBefore)}, after: ${load(loadAfter)}`,
    ...(args.peerLocks
      ? [
          "peers' lock workloads: the bench's kazoo-style recipe on their API (--peer-locks; the workloads skip them by default)",
        ]
      : []),
  ];
  const { text, summaries, targetList } = report(records, memory, bounds, args, header);
  if (args.json) {
    for (const record of [...records, ...memory, ...bounds])
      process.stdout.write(`${JSON.stringify(record)}\n`);
    for (const summary of summaries)
      process.stdout.write(`${JSON.stringify({ kind: 'median', run_id: id, ...summary })}\n`);
    for (const target of targetList)
      process.stdout.write(`${JSON.stringify({ kind: 'target', run_id: id, ...target })}\n`);
    process.stdout.write(
      `${JSON.stringify({ kind: 'run', run_id: id, scale: args.scale, passes: args.passes, server: serverDescription, load_before: loadBefore.map((v) => round(v, 2)), load_after: loadAfter.map((v) => round(v, 2)) })}\n`,
    );
    log(`\n${text}`);
  } else {
    process.stdout.write(`\n${text}\n`);
  }
  const failed =
    [...records, ...memory].some((record) => record.status === 'error') ||
    (args.bounds && bounds.length === 0);
  return failed ? 1 : 0;
}

/**
 * `--suite scale` hands the remaining arguments to the scale suite (bench/fleet/run.ts); no
 * `--suite` (or `--suite request`) runs this per-request suite.
 */
function suiteOf(argv: readonly string[]): { suite: string; rest: string[] } {
  const at = argv.findIndex((arg) => arg === '--suite' || arg.startsWith('--suite='));
  if (at < 0) return { suite: 'request', rest: [...argv] };
  const inline = argv[at]!.startsWith('--suite=');
  const suite = inline ? argv[at]!.slice('--suite='.length) : (argv[at + 1] ?? '');
  return { suite, rest: [...argv.slice(0, at), ...argv.slice(at + (inline ? 1 : 2))] };
}

async function dispatch(): Promise<number> {
  const { suite, rest } = suiteOf(process.argv.slice(2));
  if (suite === 'scale') return (await import('./fleet/run.js')).runScaleSuite(rest);
  if (suite === 'request') return main(rest);
  log(`unknown --suite ${suite} (known: request, scale)`);
  return 2;
}

dispatch().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`bench: ${errorMessage(error)}`);
    if (error instanceof Error && error.stack) log(error.stack);
    process.exit(1);
  },
);
