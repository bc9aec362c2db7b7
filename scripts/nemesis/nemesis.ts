/**
 * The nemesis orchestrator: a 3-member ensemble, worker processes of ours (worker.ts) and of
 * kazoo (test/interop/kazoo_nemesis.py) each behind its own FaultProxy per member, a seeded
 * schedule of faults (schedule.ts), then the final state of the ensemble and the checker
 * (checker.ts). Every wait is bounded; the ensemble, the proxies and the workers are stopped
 * whatever happens (the workers and JVMs are SupervisedProcesses: they cannot outlive us).
 */
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { Counter, ZooKeeperClient, type Stat } from '../../src/index.js';
import { FaultProxy, timing, ZooKeeperCluster, type FrameMatch } from '../../src/testing/index.js';
import { SupervisedProcess } from '../../src/testing/supervised-process.js';
import { interopScript, PYTHON } from '../../test/support/kazoo.js';
import { check, loopsWithoutProgress, type Violation } from './checker.js';
import {
  COUNTER_PATH,
  GUARDED_PATH,
  LOCK_PATH,
  NEMESIS_ROOT,
  now,
  QUEUE_PATH,
  type Bounds,
  type FaultRecord,
  type GuardedWrite,
  type ProcessRecord,
  type RunRecord,
  type WorkerEvent,
} from './history.js';
import { planFaults, type PlannedFault } from './schedule.js';
import { summarize, type Summary } from './summary.js';
import type { WorkerConfig } from './worker.js';

export interface NemesisOptions {
  seed: number;
  /** How long faults are injected, s. */
  seconds: number;
  /** Worker processes of ours. Default 3. */
  ours?: number;
  /** Worker processes of kazoo. Default 2. */
  kazoo?: number;
  /** Progress messages (fault by fault). Default: none. */
  log?: (line: string) => void;
  /** Keep the histories and logs even when no violation was found. Default false. */
  keep?: boolean;
}

export interface NemesisResult {
  summary: Summary;
  violations: Violation[];
  /** Where the histories and worker logs are (removed after a clean run unless `keep`). */
  runDir: string;
  schedule: PlannedFault[];
}

const MEMBERS = 3;
const SESSION_TIMEOUT = 4_000;
const TICK_TIME = 500;
/** syncLimit in ticks (ZooKeeperCluster's setting). */
const SYNC_LIMIT_TICKS = 5;
const NS_PER_MS = 1_000_000;

interface Worker {
  name: string;
  kind: 'ours' | 'kazoo';
  history: string;
  proxies: FaultProxy[];
  proc: SupervisedProcess;
  stopAt: number;
  exitedAt: number | undefined;
  exitCode: number | null;
}

/** Run the nemesis once: inject the faults for `seconds`, heal, stop the workers and check. */
export async function runNemesis(options: NemesisOptions): Promise<NemesisResult> {
  const ours = options.ours ?? 3;
  const kazoo = options.kazoo ?? 2;
  const bounds: Bounds = { progressNs: timing(25_000) * NS_PER_MS, exitNs: timing(20_000) * NS_PER_MS };
  const names = [
    ...Array.from({ length: ours }, (_, i) => `ours-${i + 1}`),
    ...Array.from({ length: kazoo }, (_, i) => `kazoo-${i + 1}`),
  ];
  const kindOf = (name: string) => (name.startsWith('ours') ? 'ours' : 'kazoo');
  const schedule = planFaults({
    seed: options.seed,
    seconds: options.seconds,
    clients: names.map(kindOf),
    members: MEMBERS,
    sessionTimeout: SESSION_TIMEOUT,
    syncLimitMs: SYNC_LIMIT_TICKS * TICK_TIME,
  });
  const runDir = mkdtempSync(join(tmpdir(), `nemesis-${options.seed}-`));
  /** Progress lines go to the caller and to the run's own log (kept with the histories). */
  const log = (line: string): void => {
    appendFileSync(join(runDir, 'nemesis.log'), `${line}\n`);
    options.log?.(line);
  };
  log(`seed ${options.seed}, ${options.seconds} s; schedule: ${JSON.stringify(schedule)}`);
  const workers: Worker[] = [];
  const proxies: FaultProxy[] = [];
  let cluster: ZooKeeperCluster | undefined;
  try {
    cluster = await ZooKeeperCluster.start({ size: MEMBERS, tickTime: TICK_TIME });
    log(`ensemble up on ${cluster.connectString}; histories in ${runDir}`);
    await prepareTree(cluster.connectString);

    for (const [index, name] of names.entries()) {
      const own = await Promise.all(cluster.members.map((member) => FaultProxy.start(member.connectString)));
      proxies.push(...own);
      const kind = kindOf(name);
      const history = join(runDir, `${name}.jsonl`);
      const config: WorkerConfig = {
        name,
        hosts: own.map((proxy) => proxy.connectString).join(','),
        seed: options.seed * 31 + index,
        sessionTimeout: SESSION_TIMEOUT,
        history,
      };
      const [command, script] =
        kind === 'ours'
          ? [process.execPath, fileURLToPath(new URL('./worker.js', import.meta.url))]
          : [PYTHON, interopScript('kazoo_nemesis.py')];
      const output = openSync(join(runDir, `${name}.log`), 'a');
      try {
        const proc = await SupervisedProcess.spawn(command, [script, JSON.stringify(config)], {
          cwd: runDir,
          output,
        });
        workers.push({
          name,
          kind,
          history,
          proxies: own,
          proc,
          stopAt: 0,
          exitedAt: undefined,
          exitCode: null,
        });
      } finally {
        closeSync(output);
      }
    }
    await waitForSessions(workers);
    log(`${workers.length} workers connected; injecting faults for ${options.seconds} s`);

    const started = Date.now();
    const faults: FaultRecord[] = [];
    const tracks = [schedule.filter((fault) => !isClientFault(fault)), schedule.filter(isClientFault)];
    const active = cluster;
    await Promise.all(
      tracks.map((track) => runTrack(track, started, options.seconds * 1000, active, workers, faults, log)),
    );

    // Heal: every member runs and the quorum is back.
    for (const member of cluster.members) {
      cluster.resume(member.id);
      if (!member.running) await cluster.restart(member.id);
    }
    await cluster.waitForQuorum();
    for (const proxy of proxies) proxy.heal();
    const healedAt = now();
    log(
      `healed after ${((Date.now() - started) / 1000).toFixed(1)} s; waiting (up to ${bounds.progressNs / 1e9} s) for every worker loop to finish an operation`,
    );
    await waitForProgress(workers, healedAt, bounds);

    await Promise.all(workers.map((worker) => stopWorker(worker, bounds)));
    log('workers stopped; reading the final state');
    const run = await finalState(cluster.connectString, {
      processes: workers.map(toRecord),
      faults,
      healedAt,
    });
    const violations = check(run, bounds);
    const summary = summarize(run, violations, (Date.now() - started) / 1000);
    if (violations.length === 0 && !options.keep) rmSync(runDir, { recursive: true, force: true });
    return { summary, violations, runDir, schedule };
  } finally {
    await Promise.all(workers.map((worker) => worker.proc.killAndWait()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await cluster?.close();
  }
}

/** Until every loop of every worker has finished an operation since `healedAt`, or the bound passed (the checker then reports the hang). */
async function waitForProgress(workers: Worker[], healedAt: number, bounds: Bounds): Promise<void> {
  while (now() - healedAt < bounds.progressNs) {
    if (
      workers.every(
        (worker) => loopsWithoutProgress(readHistory(worker.history), healedAt, now()).length === 0,
      )
    )
      return;
    await delay(250);
  }
}

function isClientFault(fault: PlannedFault): boolean {
  return fault.kind === 'blackhole-client' || fault.kind === 'swallow-reply';
}

/** The paths every worker uses, created up front so no worker races to make them. */
async function prepareTree(hosts: string): Promise<void> {
  const zk = new ZooKeeperClient({ hosts, sessionTimeout: SESSION_TIMEOUT });
  try {
    await zk.start({ timeout: timing(30_000) });
    for (const path of [
      LOCK_PATH,
      `${QUEUE_PATH}/entries`,
      `${QUEUE_PATH}/taken`,
      COUNTER_PATH,
      GUARDED_PATH,
    ]) {
      await zk.ensurePath(path, { timeout: timing(10_000) });
    }
  } finally {
    await zk.close();
  }
}

function readHistory(file: string): WorkerEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  // A worker killed mid-line leaves a partial last line: ignore it.
  return text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as WorkerEvent] : [];
    } catch {
      return [];
    }
  });
}

async function waitForSessions(workers: Worker[]): Promise<void> {
  const deadline = Date.now() + timing(60_000);
  for (;;) {
    const waiting = workers.filter(
      (worker) => !readHistory(worker.history).some((event) => event.ev === 'session'),
    );
    if (waiting.length === 0) return;
    const dead = waiting.find((worker) => !worker.proc.running);
    if (dead)
      throw new Error(
        `nemesis worker ${dead.name} exited before it connected (see ${dead.history.replace(/\.jsonl$/, '.log')})`,
      );
    if (Date.now() > deadline)
      throw new Error(`nemesis workers never connected: ${waiting.map((worker) => worker.name).join(', ')}`);
    await delay(100);
  }
}

/** Run one track's faults in order, each at its time (or as soon as the previous one healed), none after `endMs`. */
async function runTrack(
  track: PlannedFault[],
  started: number,
  endMs: number,
  cluster: ZooKeeperCluster,
  workers: Worker[],
  faults: FaultRecord[],
  log: (line: string) => void,
): Promise<void> {
  for (const fault of track) {
    const wait = started + fault.at - Date.now();
    if (wait > 0) await delay(wait);
    if (Date.now() - started >= endMs) return;
    const start = now();
    const offset = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
    const { target, detail } = await inject(fault, cluster, workers);
    const record: FaultRecord = {
      kind: fault.kind,
      target,
      start,
      end: now(),
      ...(detail === undefined ? {} : { detail }),
    };
    faults.push(record);
    log(
      `${offset} s  ${fault.kind} ${target}${detail ? ` (${detail})` : ''}, ${((record.end - start) / 1e9).toFixed(1)} s`,
    );
  }
}

/** Inject one fault and heal it; resolves once healed. */
async function inject(
  fault: PlannedFault,
  cluster: ZooKeeperCluster,
  workers: Worker[],
): Promise<{ target: string; detail?: string }> {
  switch (fault.kind) {
    case 'kill-member':
    case 'kill-leader': {
      const id = fault.kind === 'kill-leader' ? await cluster.leader() : fault.target;
      cluster.kill(id);
      await delay(fault.duration);
      await cluster.restart(id);
      return { target: `member ${id}`, detail: `down ${fault.duration} ms` };
    }
    case 'freeze-leader': {
      const id = await cluster.leader();
      cluster.pause(id);
      try {
        await delay(fault.duration);
      } finally {
        cluster.resume(id);
      }
      await cluster.waitForQuorum();
      return { target: `member ${id}`, detail: `frozen ${fault.duration} ms` };
    }
    case 'blackhole-client': {
      const worker = workers[fault.target]!;
      for (const proxy of worker.proxies) proxy.blackhole();
      try {
        await delay(fault.duration);
      } finally {
        for (const proxy of worker.proxies) proxy.heal();
      }
      return { target: worker.name, detail: `${fault.duration} ms` };
    }
    case 'swallow-reply': {
      // On every proxy of the worker: it talks to one member at a time, and we do not know which.
      const worker = workers[fault.target]!;
      const match: FrameMatch = { op: fault.op!, path: (path) => path.startsWith(`${NEMESIS_ROOT}/`) };
      const armed = worker.proxies.map((proxy) => proxy.swallowReply(match, { then: fault.then! }));
      try {
        const fired = await Promise.race([
          ...armed.map((one) => one.happened),
          delay(fault.duration).then(() => undefined),
        ]);
        if (!fired) return { target: worker.name, detail: `no ${fault.op} within ${fault.duration} ms` };
        return {
          target: worker.name,
          detail: `${fault.op} ${fired.request.paths.join(' ')} (err ${fired.reply?.err ?? '?'}), then ${fault.then}`,
        };
      } finally {
        for (const one of armed) one.remove();
      }
    }
  }
}

async function stopWorker(worker: Worker, bounds: Bounds): Promise<void> {
  worker.stopAt = now();
  const graceMs = bounds.exitNs / NS_PER_MS + timing(2_000);
  const status = await worker.proc.terminate(graceMs);
  const exitedAt = now();
  // Killed after the grace period: it did not exit on its own.
  worker.exitedAt = exitedAt - worker.stopAt <= bounds.exitNs ? exitedAt : undefined;
  worker.exitCode = status.code;
}

function toRecord(worker: Worker): ProcessRecord {
  return {
    name: worker.name,
    kind: worker.kind,
    events: readHistory(worker.history),
    stopAt: worker.stopAt,
    exitedAt: worker.exitedAt,
    exitCode: worker.exitCode,
  };
}

/** Read what the workers left: guarded writes, queued items, the counter, and ephemerals (once sessions that ended on the client side have expired on the server too). */
async function finalState(
  hosts: string,
  partial: Pick<RunRecord, 'processes' | 'faults' | 'healedAt'>,
): Promise<RunRecord> {
  const zk = new ZooKeeperClient({ hosts, sessionTimeout: SESSION_TIMEOUT, requestTimeout: timing(30_000) });
  try {
    await zk.start({ timeout: timing(30_000) });
    const names = (await zk.getChildren(GUARDED_PATH)).sort();
    const guarded = await Promise.all(
      names.map(async (name) => {
        const raw = (await zk.get(`${GUARDED_PATH}/${name}`)).data.toString();
        let write: GuardedWrite | undefined;
        try {
          write = JSON.parse(raw) as GuardedWrite;
        } catch {
          write = undefined;
        }
        return { name, write, raw };
      }),
    );
    const entries = await zk.getChildren(`${QUEUE_PATH}/entries`);
    const queued = await Promise.all(
      entries.map(async (name) => (await zk.get(`${QUEUE_PATH}/entries/${name}`)).data.toString()),
    );
    const counter = await new Counter(zk, COUNTER_PATH).get();
    // A session our client declared LOST by its own timer ends on the server up to a tick later.
    let ephemerals = await findEphemerals(zk, NEMESIS_ROOT);
    const deadline = Date.now() + timing(2 * SESSION_TIMEOUT);
    while (ephemerals.length > 0 && Date.now() < deadline) {
      await delay(250);
      ephemerals = await findEphemerals(zk, NEMESIS_ROOT);
    }
    return { ...partial, guarded, queued, counter, ephemerals };
  } finally {
    await zk.close();
  }
}

async function findEphemerals(zk: ZooKeeperClient, root: string): Promise<{ path: string; owner: string }[]> {
  const found: { path: string; owner: string }[] = [];
  const visit = async (path: string, stat: Stat | null): Promise<void> => {
    if (stat === null) return;
    if (stat.ephemeralOwner !== 0n) found.push({ path, owner: stat.ephemeralOwner.toString(16) });
    if (stat.numChildren === 0 || path === GUARDED_PATH) return; // guarded writes are persistent leaves
    const children = await zk.getChildren(path).catch(() => []);
    await Promise.all(
      children.map(async (child) => visit(`${path}/${child}`, await zk.exists(`${path}/${child}`))),
    );
  };
  await visit(root, await zk.exists(root));
  return found;
}
