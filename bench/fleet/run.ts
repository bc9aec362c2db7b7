/**
 * `npm run bench:fleet`: coordination work at fleet scale — queues with a backlog, partitions
 * over many items, a lock with many waiters, and whatever else workloads/index.ts lists — run
 * by our client and its peers (clients.ts: kazoo 2.8, ...) side by side on one real server.
 *
 *   node dist/bench/fleet/run.js [--connect HOST:PORT] [--scale F] [--passes 3]
 *                                [--workloads all|a,b] [--clients ours,kazoo] [--json]
 *                                [--no-warmup] [--timeout S]
 *
 * Without `--connect` it starts a standalone server with the test kit. Every case (workload ×
 * size) runs each client program in its own process, one right after another (interleaved; the
 * order rotates each pass), under a fresh root that the runner deletes afterwards. After
 * `--passes` passes it prints the medians per client and case (seconds, items/s, the
 * workload's own figures), the ratio peer time ÷ our time (above 1: we are faster) and each
 * workload's targets as pass/fail. `--scale` multiplies the sizes (0.01 for a smoke run).
 * `--json` prints every record, summary and target as a JSON line on stdout (the table then
 * goes to stderr). Exit code 0 when no run failed (a skipped peer is no failure).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { ZooKeeperClient } from '../../src/index.js';
import { benchServer } from '../bench-server.js';
import {
  errorMessage,
  median,
  parseFlags,
  parseScale,
  positiveFlag,
  round,
  runId,
  UsageError,
} from '../harness.js';
import { FLEET_CLIENTS, packageRoot, type CaseRequest, type FleetClientProgram } from './clients.js';
import {
  OURS,
  type FleetCase,
  type FleetRecord,
  type FleetResult,
  type FleetSummary,
  type FleetWorkload,
} from './registry.js';
import { FLEET_WORKLOADS } from './workloads/index.js';

interface RunnerArgs {
  connect: string | undefined;
  scale: number;
  passes: number;
  workloads: readonly FleetWorkload[];
  clients: FleetClientProgram[];
  json: boolean;
  warmup: boolean;
  timeoutS: number;
}

const USAGE =
  'usage: node dist/bench/fleet/run.js [--connect HOST:PORT] [--scale F] [--passes N] [--workloads all|a,b] [--clients ours,kazoo] [--json] [--no-warmup] [--timeout S]';
/** The scale of the untimed warm-up pass (server JIT, page cache). */
const WARMUP_SCALE = 0.02;

function parseArgs(argv: readonly string[]): RunnerArgs {
  const flags = parseFlags(
    argv,
    ['connect', 'scale', 'passes', 'workloads', 'clients', 'timeout'],
    ['json', 'no-warmup'],
  );
  const positive = (name: string, fallback: number) => positiveFlag(flags, name, fallback);
  const pick = <T extends { name: string }>(
    flag: string,
    all: readonly T[],
    alias: (item: T) => string = (item) => item.name,
  ): T[] => {
    const value = flags.get(flag);
    if (value === undefined || value === 'all') return [...all];
    const wanted = String(value)
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    for (const name of wanted) {
      if (!all.some((item) => item.name === name || alias(item) === name))
        throw new UsageError(`unknown ${flag} ${name} (known: ${all.map(alias).join(', ')})`);
    }
    return all.filter((item) => wanted.includes(item.name) || wanted.includes(alias(item)));
  };
  const connect = flags.get('connect');
  return {
    connect: typeof connect === 'string' ? connect : undefined,
    scale: parseScale(flags.get('scale')),
    passes: positive('passes', 3),
    workloads: pick('workloads', FLEET_WORKLOADS),
    clients: pick('clients', FLEET_CLIENTS, (client) => client.label),
    json: flags.has('json'),
    warmup: !flags.has('no-warmup'),
    timeoutS: positive('timeout', 900),
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

let currentChild: ReturnType<typeof spawn> | undefined;

/** Run one case in one client program: its result, or a skip / error with the reason. */
function runCase(
  program: FleetClientProgram,
  request: CaseRequest,
  timeoutS: number,
): Promise<Pick<FleetRecord, 'status' | 'note' | 'result'>> {
  const { file, args } = program.command();
  return new Promise((resolve) => {
    const child = spawn(file, [...args, JSON.stringify(request)], {
      cwd: packageRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    currentChild = child;
    let last: string | undefined;
    const notes: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.trim() !== '') last = line;
    });
    createInterface({ input: child.stderr! }).on('line', (line) => notes.push(line));
    const timer = setTimeout(() => {
      notes.push(`killed after ${timeoutS} s`);
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      currentChild = undefined;
      const why = () => `exit ${code ?? signal}${notes.length > 0 ? `: ${notes.slice(-3).join(' | ')}` : ''}`;
      if (code !== 0 || last === undefined) return resolve({ status: 'error', note: why() });
      try {
        const parsed = JSON.parse(last) as FleetResult & { skip?: string };
        if (typeof parsed.skip === 'string') return resolve({ status: 'skip', note: parsed.skip });
        if (typeof parsed.seconds !== 'number' || typeof parsed.items !== 'number')
          return resolve({ status: 'error', note: `no seconds/items in ${last.slice(0, 200)}` });
        resolve({ status: 'ok', result: parsed });
      } catch {
        resolve({ status: 'error', note: `unparsable output ${last.slice(0, 200)} (${why()})` });
      }
    });
  });
}

// ---- summarising ----

function summarise(
  records: FleetRecord[],
  client: string,
  workload: string,
  label: string,
): FleetSummary | undefined {
  const mine = records.filter((r) => r.client === client && r.workload === workload && r.case === label);
  if (mine.length === 0) return undefined;
  const ok = mine.filter((r) => r.status === 'ok' && r.result !== undefined).map((r) => r.result!);
  const failed = mine.find((r) => r.status === 'error');
  const medianOf = (values: number[]) => (values.length === 0 ? null : median(values));
  const metrics: Record<string, number> = {};
  const flags: Record<string, boolean> = {};
  for (const key of new Set(ok.flatMap((result) => Object.keys(result)))) {
    if (key === 'seconds' || key === 'items') continue;
    const values = ok.map((result) => result[key]);
    if (values.every((value) => typeof value === 'number')) metrics[key] = median(values as number[]);
    else if (values.every((value) => typeof value === 'boolean')) flags[key] = values.every(Boolean);
  }
  const summary: FleetSummary = {
    client,
    workload,
    case: label,
    passes: ok.length,
    status: failed ? 'error' : ok.length > 0 ? 'ok' : 'skip',
    seconds: medianOf(ok.map((result) => result.seconds)),
    items_per_s: medianOf(ok.map((result) => result.items / result.seconds)),
    metrics,
    flags,
  };
  const note = (failed ?? mine.find((r) => r.status === 'skip'))?.note;
  if (note !== undefined) summary.note = note;
  return summary;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length)));
  return rows
    .map((row, index) =>
      row
        .map((cell, column) => {
          const pad = ' '.repeat(widths[column]! - [...cell].length);
          return column >= 3 && index > 0 && column < row.length - 1 ? pad + cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return round(value, digits).toString();
}

function report(
  records: FleetRecord[],
  args: RunnerArgs,
  cases: Map<FleetWorkload, FleetCase[]>,
): {
  text: string;
  summaries: FleetSummary[];
  targets: { label: string; ok: boolean | null; detail: string }[];
} {
  const summaries: FleetSummary[] = [];
  const rows = [['workload', 'case', 'client', 'seconds', 'rate /s', 'peer ÷ ours', 'figures']];
  for (const [workload, list] of cases) {
    for (const fleetCase of list) {
      const ours = summarise(records, OURS, workload.name, fleetCase.label);
      for (const client of args.clients) {
        const summary = summarise(records, client.name, workload.name, fleetCase.label);
        if (!summary) continue;
        summaries.push(summary);
        const ratio =
          client.name === OURS || !ours?.seconds || summary.seconds === null
            ? ''
            : `${(summary.seconds / ours.seconds).toFixed(2)}×`;
        const figures = [
          ...Object.entries(summary.metrics).map(([key, value]) => `${key} ${fmt(value)}`),
          ...Object.entries(summary.flags).map(([key, value]) => `${key} ${value}`),
          ...(summary.status === 'ok' ? [] : [`${summary.status}: ${summary.note ?? ''}`]),
        ].join(', ');
        rows.push([
          workload.name,
          fleetCase.label,
          client.label,
          fmt(summary.seconds),
          summary.items_per_s === null ? '–' : `${fmt(summary.items_per_s, 1)} ${workload.unit}`,
          ratio,
          figures,
        ]);
      }
    }
  }
  const lookup = (client: string, workload: string, label: string) =>
    summaries.find((s) => s.client === client && s.workload === workload && s.case === label);
  const targets = args.workloads.flatMap((workload) =>
    (workload.targets ?? []).map((target) => ({ label: target.label, ...target.judge(lookup) })),
  );
  const targetLines = targets.map(
    (target) =>
      `  ${target.ok === null ? 'n/a ' : target.ok ? 'pass' : 'FAIL'}  ${target.label} (${target.detail})`,
  );
  return {
    text: `${table(rows)}\n\ntargets (issue 13, medians):\n${targetLines.join('\n')}`,
    summaries,
    targets,
  };
}

// ---- main ----

async function main(): Promise<number> {
  let args: RunnerArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    log(`${error.message}\n${USAGE}`);
    return 2;
  }
  const id = runId();
  const loadBefore = os.loadavg();
  const clients: FleetClientProgram[] = [];
  for (const client of args.clients) {
    const problem = client.unavailable();
    if (problem === undefined) clients.push(client);
    else log(`bench:fleet: ${client.label} skipped: ${problem}`);
  }

  if (args.connect === undefined) log('bench:fleet: starting a standalone ZooKeeper server (test kit)');
  const { server, connect, description } = await benchServer(args.connect, () => currentChild);
  const [host, portText] = connect.split(',')[0]!.split('/')[0]!.split(':');
  const port = Number(portText ?? 2181);
  const admin = new ZooKeeperClient({ hosts: connect, sessionTimeout: 30_000 });
  const cases = new Map(args.workloads.map((workload) => [workload, workload.cases(args.scale)]));
  const records: FleetRecord[] = [];

  let serial = 0;
  const runOne = async (program: FleetClientProgram, workload: FleetWorkload, fleetCase: FleetCase) => {
    const root = `/fleet-bench/${id}-${++serial}-${workload.name}-${program.label}`;
    await admin.ensurePath(root);
    try {
      return await runCase(
        program,
        {
          connect,
          host: host!,
          port,
          root,
          workload: workload.name,
          case: fleetCase.label,
          params: fleetCase.params,
        },
        args.timeoutS,
      );
    } finally {
      await admin.delete(root, { recursive: true }).catch(() => {});
    }
  };

  try {
    await admin.start();
    if (args.warmup) {
      log(`bench:fleet: warm-up pass (scale ${WARMUP_SCALE}, discarded)`);
      for (const workload of args.workloads)
        for (const fleetCase of workload.cases(WARMUP_SCALE))
          for (const program of clients) await runOne(program, workload, fleetCase);
    }
    for (let pass = 1; pass <= args.passes; pass++) {
      const shift = (pass - 1) % Math.max(1, clients.length);
      const order = [...clients.slice(shift), ...clients.slice(0, shift)];
      for (const [workload, list] of cases) {
        for (const fleetCase of list) {
          for (const program of order) {
            const outcome = await runOne(program, workload, fleetCase);
            const record: FleetRecord = {
              kind: 'fleet',
              client: program.name,
              workload: workload.name,
              case: fleetCase.label,
              pass,
              ...outcome,
            };
            records.push(record);
            const seconds = record.result
              ? `${round(record.result.seconds, 3)} s`
              : `${record.status}: ${record.note}`;
            log(`  [pass ${pass}] ${workload.name} ${fleetCase.label} ${program.label}: ${seconds}`);
          }
        }
      }
    }
    await admin.delete('/fleet-bench', { recursive: true }).catch(() => {});
  } finally {
    await admin.close();
    await server?.close();
  }
  const loadAfter = os.loadavg();
  const cpus = os.cpus();
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  const header = [
    `Fleet benchmark, run ${id}: ${args.passes} pass(es), medians; scale ${args.scale}`,
    `machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${os.type()} ${os.release()}, Node ${process.version}`,
    `server: ${description}`,
    `load average (1/5/15 min) before: ${load(loadBefore)}, after: ${load(loadAfter)}`,
  ].join('\n');
  const { text, summaries, targets } = report(records, { ...args, clients }, cases);
  if (args.json) {
    const line = (value: object) => process.stdout.write(`${JSON.stringify({ run_id: id, ...value })}\n`);
    for (const record of records) line(record);
    for (const summary of summaries) line({ kind: 'summary', ...summary });
    for (const target of targets) line({ kind: 'target', ...target });
    line({ kind: 'run', scale: args.scale, passes: args.passes, clients: clients.map((c) => c.name) });
    log(`\n${header}\n${text}`);
  } else {
    process.stdout.write(`\n${header}\n${text}\n`);
  }
  return records.some((record) => record.status === 'error') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`bench:fleet: ${errorMessage(error)}`);
    if (error instanceof Error && error.stack) log(error.stack);
    process.exit(1);
  },
);
