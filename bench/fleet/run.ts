/**
 * The scale suite, `npm run bench -- --suite scale` (bench/run.ts dispatches here): coordination
 * work at fleet scale — tree caches, queues with a backlog, partitions over many items, a lock
 * with many waiters, reconnects with many watches (workloads/index.ts lists them, each with the
 * clients that run it) — by our client and its peers (clients.ts: kazoo 2.8, Curator 5.4) side
 * by side on one real server, N swept so the growth shows.
 *
 *   node dist/bench/run.js --suite scale [--quick] [--connect HOST:PORT] [--scale F] [--passes 3]
 *                          [--workloads all|a,b] [--clients ours,kazoo,curator] [--json]
 *                          [--no-warmup] [--timeout S] [--out DIR]
 *
 * Without `--connect` it starts a standalone server with the test kit. Every case (workload ×
 * N) runs each client program in its own process, one right after another (interleaved; the
 * order rotates each pass), under a fresh root that the runner deletes afterwards (a tree to
 * cache is built once per case, untimed). After `--passes` passes it prints the medians per
 * client and case — cost per item (µs), rate, the workload's own figures — the peer ÷ ours
 * ratios, each taken within one pass and then the median (above 1: we are faster), and issue
 * 13's targets as met / not met; the same table goes to a markdown file
 * (bench/results/scale-<run>.md, not versioned) and the chart to bench-scale.svg next to
 * BENCHMARKS.md (with `--out DIR`, both into DIR). `--quick`: the smallest N of every workload,
 * one pass, no warm-up (the test suite's pass). `--scale` multiplies the counts. `--json` prints
 * every record, summary and target as a JSON line on stdout (the table then goes to stderr).
 * Exit code 0 when no run failed (a peer that cannot run here is skipped with the reason).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ZooKeeperClient } from '../../src/index.js';
import { benchServer } from '../bench-server.js';
import { median, parseFlags, parseScale, positiveFlag, round, runId, UsageError } from '../harness.js';
import { scaleChart, type ChartPanel } from './chart.js';
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
  quick: boolean;
  workloads: readonly FleetWorkload[];
  clients: FleetClientProgram[];
  json: boolean;
  warmup: boolean;
  timeoutS: number;
  out: string | undefined;
}

const USAGE =
  'usage: node dist/bench/run.js --suite scale [--quick] [--connect HOST:PORT] [--scale F] [--passes N] [--workloads all|a,b] [--clients ours,kazoo,curator] [--json] [--no-warmup] [--timeout S] [--out DIR]';
/** The scale of the untimed warm-up pass (server JIT, page cache). */
const WARMUP_SCALE = 0.02;
const SHARED_ROOT = '/fleet-bench-shared';

function parseArgs(argv: readonly string[]): RunnerArgs {
  const flags = parseFlags(
    argv,
    ['connect', 'scale', 'passes', 'workloads', 'clients', 'timeout', 'out'],
    ['json', 'no-warmup', 'quick'],
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
  const out = flags.get('out');
  const quick = flags.has('quick');
  return {
    connect: typeof connect === 'string' ? connect : undefined,
    scale: parseScale(flags.get('scale')),
    passes: positive('passes', quick ? 1 : 3),
    quick,
    workloads: pick('workloads', FLEET_WORKLOADS),
    clients: pick('clients', FLEET_CLIENTS, (client) => client.label),
    json: flags.has('json'),
    warmup: !flags.has('no-warmup') && !quick,
    timeoutS: positive('timeout', 900),
    out: typeof out === 'string' ? out : undefined,
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

const usPerItem = (result: FleetResult) => (result.seconds * 1e6) / result.items;

/** The ok results of one client × case, by pass. */
function passResults(records: FleetRecord[], client: string, workload: string, label: string) {
  return new Map(
    records
      .filter((r) => r.client === client && r.workload === workload && r.case === label)
      .filter((r) => r.status === 'ok' && r.result !== undefined)
      .map((r) => [r.pass, r.result!]),
  );
}

function summarise(
  records: FleetRecord[],
  client: string,
  workload: string,
  label: string,
): FleetSummary | undefined {
  const mine = records.filter((r) => r.client === client && r.workload === workload && r.case === label);
  if (mine.length === 0) return undefined;
  const byPass = passResults(records, client, workload, label);
  const ok = [...byPass.values()];
  const failed = mine.find((r) => r.status === 'error');
  const medianOf = (values: number[]) => (values.length === 0 ? null : median(values));
  const metrics: Record<string, number> = {};
  const flags: Record<string, boolean> = {};
  for (const key of new Set(ok.flatMap((result) => Object.keys(result)))) {
    if (key === 'seconds' || key === 'items' || key === 'expected') continue;
    const values = ok.map((result) => result[key]);
    if (values.every((value) => typeof value === 'number')) metrics[key] = median(values as number[]);
    else if (values.every((value) => typeof value === 'boolean')) flags[key] = values.every(Boolean);
  }
  // Peer ÷ ours within each pass, then the median over the passes.
  const ratios: Record<string, number> = {};
  if (client !== OURS) {
    const ours = passResults(records, OURS, workload, label);
    const perPass = new Map<string, number[]>();
    for (const [pass, theirs] of byPass) {
      const mineThen = ours.get(pass);
      if (mineThen === undefined) continue;
      const add = (key: string, value: number) => perPass.set(key, [...(perPass.get(key) ?? []), value]);
      add('us_per_item', usPerItem(theirs) / usPerItem(mineThen));
      for (const key of Object.keys(metrics)) {
        const [a, b] = [theirs[key], mineThen[key]];
        if (typeof a === 'number' && typeof b === 'number' && b > 0) add(key, a / b);
      }
    }
    for (const [key, values] of perPass) ratios[key] = median(values);
  }
  const summary: FleetSummary = {
    client,
    workload,
    case: label,
    passes: ok.length,
    status: failed ? 'error' : ok.length > 0 ? 'ok' : 'skip',
    seconds: medianOf(ok.map((result) => result.seconds)),
    items_per_s: medianOf(ok.map((result) => result.items / result.seconds)),
    us_per_item: medianOf(ok.map(usPerItem)),
    partial: ok.some((result) => result.expected !== undefined && result.items < result.expected),
    metrics,
    flags,
    ratios,
  };
  if (summary.partial) metrics.items = median(ok.map((result) => result.items));
  const note = (failed ?? mine.find((r) => r.status === 'skip'))?.note;
  if (note !== undefined) summary.note = note;
  return summary;
}

function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return round(value, digits).toString();
}

interface Target {
  workload: string;
  case: string;
  label: string;
  ok: boolean | null;
  detail: string;
}

const verdict = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? 'met' : 'NOT MET');

/** The medians as rows: workload, N, client, µs/item, rate, peer ÷ ours, figures, target. */
function report(
  records: FleetRecord[],
  clients: readonly FleetClientProgram[],
  cases: Map<FleetWorkload, FleetCase[]>,
): { rows: string[][]; summaries: FleetSummary[]; targets: Target[]; panels: ChartPanel[] } {
  const summaries: FleetSummary[] = [];
  for (const [workload, list] of cases)
    for (const fleetCase of list)
      for (const client of clients) {
        const summary = summarise(records, client.name, workload.name, fleetCase.label);
        if (summary) summaries.push(summary);
      }
  const lookup = (client: string, workload: string, label: string) =>
    summaries.find((s) => s.client === client && s.workload === workload && s.case === label);
  const targets: Target[] = [...cases.keys()].flatMap((workload) =>
    (workload.targets ?? [])
      .filter((target) => cases.get(workload)!.some((c) => c.label === target.case))
      .map((target) => ({
        workload: workload.name,
        case: target.case,
        label: target.label,
        ...target.judge(lookup),
      })),
  );
  const labelOf = (name: string) => clients.find((client) => client.name === name)?.label ?? name;
  const rows = [['workload', 'N', 'client', 'µs/item', 'rate /s', 'peer ÷ ours', 'figures', 'target']];
  const panels: ChartPanel[] = [];
  for (const [workload, list] of cases) {
    const panel: ChartPanel = { title: workload.name, axis: workload.axis, lines: new Map() };
    for (const fleetCase of list) {
      for (const summary of summaries.filter(
        (s) => s.workload === workload.name && s.case === fleetCase.label,
      )) {
        const label = labelOf(summary.client);
        if (summary.us_per_item !== null) {
          const line = panel.lines.get(label) ?? [];
          line.push({ n: fleetCase.n, usPerItem: summary.us_per_item, partial: summary.partial });
          panel.lines.set(label, line);
        }
        const ratio = summary.ratios.us_per_item;
        const figures = [
          ...Object.entries(summary.metrics).map(([key, value]) => `${key} ${fmt(value)}`),
          ...Object.entries(summary.flags).map(([key, value]) => `${key} ${value}`),
          ...(summary.partial ? ['PARTIAL'] : []),
          ...(summary.status === 'ok' ? [] : [`${summary.status}: ${summary.note ?? ''}`]),
        ].join(', ');
        const mine = targets.filter(
          (t) => summary.client === OURS && t.workload === workload.name && t.case === fleetCase.label,
        );
        rows.push([
          workload.name,
          fleetCase.label,
          label,
          fmt(summary.us_per_item, 1),
          summary.items_per_s === null ? '–' : `${fmt(summary.items_per_s, 1)} ${workload.unit}`,
          ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
          figures,
          mine.map((t) => verdict(t.ok)).join(', '),
        ]);
      }
    }
    panels.push(panel);
  }
  return { rows, summaries, targets, panels };
}

/** Rows as aligned text (the terminal) and as a markdown table (paste-ready). */
function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function markdownTable(rows: string[][]): string {
  const line = (row: string[]) => `| ${row.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(rows[0]!), line(rows[0]!.map(() => '---')), ...rows.slice(1).map(line)].join('\n');
}

const targetLines = (targets: readonly Target[]) =>
  targets.map((target) => `- ${verdict(target.ok)}: ${target.label} (${target.detail})`).join('\n');

// ---- main ----

/** Run the suite with `argv` (the arguments after `--suite scale`); the exit code. */
export async function runScaleSuite(argv: readonly string[]): Promise<number> {
  let args: RunnerArgs;
  try {
    args = parseArgs(argv);
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
    else log(`scale: ${client.label} skipped: ${problem}`);
  }
  const skipped = args.clients.filter((client) => !clients.includes(client));

  if (args.connect === undefined) log('scale: starting a standalone ZooKeeper server (test kit)');
  const { server, connect, description } = await benchServer(args.connect, () => currentChild);
  const [host, portText] = connect.split(',')[0]!.split('/')[0]!.split(':');
  const port = Number(portText ?? 2181);
  const admin = new ZooKeeperClient({ hosts: connect, sessionTimeout: 30_000 });
  const casesAt = (workload: FleetWorkload, scale: number) => {
    const all = workload.cases(scale);
    return args.quick ? all.slice(0, 1) : all;
  };
  const cases = new Map(args.workloads.map((workload) => [workload, casesAt(workload, args.scale)]));
  const records: FleetRecord[] = [];
  const runsIt = (workload: FleetWorkload, program: FleetClientProgram) =>
    program.name === OURS || workload.peers.includes(program.name);
  // A peer that cannot run here is reported once per case it would have run.
  for (const [workload, list] of cases)
    for (const fleetCase of list)
      for (const program of skipped.filter((p) => runsIt(workload, p)))
        records.push({
          kind: 'fleet',
          client: program.name,
          workload: workload.name,
          case: fleetCase.label,
          pass: 0,
          status: 'skip',
          note: program.unavailable() ?? 'unavailable',
        });

  let serial = 0;
  const sharedPath = (workload: FleetWorkload, fleetCase: FleetCase, scale: number) =>
    workload.prepare === undefined ? '' : `${SHARED_ROOT}/${workload.name}-${fleetCase.label}-${scale}`;
  const runOne = async (
    program: FleetClientProgram,
    workload: FleetWorkload,
    fleetCase: FleetCase,
    scale: number,
  ) => {
    const root = `/fleet-bench/${id}-${++serial}-${workload.name}-${program.label}`;
    const shared = sharedPath(workload, fleetCase, scale);
    await admin.ensurePath(root);
    try {
      const request: CaseRequest = {
        connect,
        host: host!,
        port,
        root,
        shared,
        workload: workload.name,
        case: fleetCase.label,
        params: fleetCase.params,
      };
      return await runCase(program, request, args.timeoutS);
    } finally {
      await admin.delete(root, { recursive: true }).catch(() => {});
    }
  };

  /** Untimed: the shared set-up of every case (a tree to cache), before any client runs. */
  const prepare = async (list: [FleetWorkload, FleetCase[]][], scale: number) => {
    for (const [workload, fleetCases] of list)
      for (const fleetCase of fleetCases)
        if (workload.prepare) {
          log(`scale: preparing ${workload.name} ${fleetCase.label}`);
          await workload.prepare(admin, sharedPath(workload, fleetCase, scale), fleetCase.params);
        }
  };

  try {
    await admin.start();
    if (args.warmup) {
      log(`scale: warm-up pass (scale ${WARMUP_SCALE}, discarded)`);
      const warmup = args.workloads.map(
        (w) => [w, w.cases(WARMUP_SCALE).slice(0, 1)] as [FleetWorkload, FleetCase[]],
      );
      await prepare(warmup, WARMUP_SCALE);
      for (const [workload, [fleetCase]] of warmup)
        for (const program of clients.filter((p) => runsIt(workload, p)))
          await runOne(program, workload, fleetCase!, WARMUP_SCALE);
    }
    await prepare([...cases], args.scale);
    for (let pass = 1; pass <= args.passes; pass++) {
      const shift = (pass - 1) % Math.max(1, clients.length);
      const order = [...clients.slice(shift), ...clients.slice(0, shift)];
      for (const [workload, list] of cases) {
        for (const fleetCase of list) {
          for (const program of order.filter((p) => runsIt(workload, p))) {
            const outcome = await runOne(program, workload, fleetCase, args.scale);
            const record: FleetRecord = {
              kind: 'fleet',
              client: program.name,
              workload: workload.name,
              case: fleetCase.label,
              pass,
              ...outcome,
            };
            records.push(record);
            const result = record.result
              ? `${fmt((record.result.seconds * 1e6) / record.result.items, 1)} µs/item (${round(record.result.seconds, 3)} s)`
              : `${record.status}: ${record.note}`;
            log(`  [pass ${pass}] ${workload.name} ${fleetCase.label} ${program.label}: ${result}`);
          }
        }
      }
    }
  } finally {
    for (const path of ['/fleet-bench', SHARED_ROOT])
      await admin.delete(path, { recursive: true }).catch(() => {});
    await admin.close();
    await server?.close();
  }
  const loadAfter = os.loadavg();
  const cpus = os.cpus();
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  const header = [
    `Scale suite, run ${id}: ${args.passes} pass(es), medians${args.quick ? ', --quick' : ''}; scale ${args.scale}`,
    `machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${os.type()} ${os.release()}, Node ${process.version}`,
    `server: ${description}`,
    `load average (1/5/15 min) before: ${load(loadBefore)}, after: ${load(loadAfter)}`,
    ...skipped.map((client) => `${client.label} skipped: ${client.unavailable() ?? ''}`),
  ];
  const { rows, summaries, targets, panels } = report(records, [...clients, ...skipped], cases);
  const text = `${header.join('\n')}\n\n${textTable(rows)}\n\ntargets (issue 13):\n${targetLines(targets)}`;
  const markdown = [
    `# Scale suite, run ${id}`,
    '',
    ...header.slice(1).map((line) => `${line}  `),
    '',
    "µs/item: median cost per item (seconds ÷ items); peer ÷ ours: the peer's µs/item ÷ ours within each pass, median over the passes (above 1 = we are faster); PARTIAL: fewer items than N (compare per item).",
    '',
    markdownTable(rows),
    '',
    '## Targets (issue 13)',
    '',
    targetLines(targets),
    '',
  ].join('\n');
  const markdownFile = join(args.out ?? join(packageRoot, 'bench', 'results'), `scale-${id}.md`);
  const chartFile = join(args.out ?? packageRoot, 'bench-scale.svg');
  mkdirSync(join(markdownFile, '..'), { recursive: true });
  writeFileSync(markdownFile, markdown);
  writeFileSync(chartFile, scaleChart(`Scale suite, run ${id}: cost per item against N (log–log)`, panels));
  const files = `\nwritten: ${markdownFile}, ${chartFile}`;
  if (args.json) {
    const line = (value: object) => process.stdout.write(`${JSON.stringify({ run_id: id, ...value })}\n`);
    for (const record of records) line(record);
    for (const summary of summaries) line({ kind: 'summary', ...summary });
    for (const target of targets) line({ kind: 'target', ...target });
    line({
      kind: 'run',
      scale: args.scale,
      passes: args.passes,
      quick: args.quick,
      clients: clients.map((c) => c.name),
      markdown: markdownFile,
      chart: chartFile,
    });
    log(`\n${text}${files}`);
  } else {
    process.stdout.write(`\n${text}\n\nmarkdown (paste-ready):\n\n${markdownTable(rows)}\n${files}\n`);
  }
  return records.some((record) => record.status === 'error') ? 1 : 0;
}
