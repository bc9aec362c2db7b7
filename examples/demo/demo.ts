/**
 * The demo: a fleet of 4 worker processes on a real 3-member ZooKeeper ensemble elects a
 * scheduler leader, splits 12 jobs among itself and appends to a shared ledger under
 * `@withLock`. Then it loses the ensemble's leader member and a worker (the scheduler leader,
 * killed with SIGKILL) and shows the failover and re-balancing, and checks the invariants:
 * no job owned twice at once, no ledger update lost or applied twice.
 *
 * It also serves the inspector's live web view of `/demo` and prints its URL: open it to watch
 * the leader change (with its history), the ledger lock pass from worker to worker and the
 * jobs' split while the failovers happen (`INSPECTOR_PORT=8080` picks the port).
 *
 *   npm run demo                       # starts its own ensemble with the test kit
 *   ZK_HOSTS=h1:2181,h2:2181 npm run demo
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ZooKeeperClient } from 'zookeeper-coordination';
import { formatInspection, serveInspector } from 'zookeeper-coordination/inspect';
import { ZooKeeperCluster } from 'zookeeper-coordination/testing';

interface WorkerEvent {
  worker: string;
  at: number;
  type: string;
  job?: string;
  value?: number;
  token?: string;
  state?: string;
}

const WORKERS = ['worker-1', 'worker-2', 'worker-3', 'worker-4'];
const JOB_COUNT = 12;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const print = (text: string) => process.stdout.write(`[${elapsed()}] ${text}\n`);
/** A message, after the view it refers to. */
const say = (text: string) => {
  flushRender();
  print(text);
};

// ---- what the fleet reported ----
let leader: string | undefined;
const leaders: { worker: string; at: number }[] = [];
const owner = new Map<string, string>();
const ownership: { job: string; worker: string; from: number; to: number | undefined }[] = [];
const ledger: { worker: string; value: number; token: bigint }[] = [];
const states = new Map<string, string>();
const dead = new Set<string>();
let lastLine = '';

function apply(event: WorkerEvent): void {
  switch (event.type) {
    case 'leader':
      leader = event.worker;
      leaders.push({ worker: event.worker, at: event.at });
      break;
    case 'deposed':
      if (leader === event.worker) leader = undefined;
      break;
    case 'owns':
      owner.set(event.job!, event.worker);
      ownership.push({ job: event.job!, worker: event.worker, from: event.at, to: undefined });
      break;
    case 'drops':
      if (owner.get(event.job!) === event.worker) owner.delete(event.job!);
      endOwnership(event.worker, event.at, event.job);
      break;
    case 'ledger':
      // Frequent: shown by the periodic refresh, not one line per entry.
      ledger.push({ worker: event.worker, value: event.value!, token: BigInt(event.token!) });
      return;
    case 'state':
      states.set(event.worker, event.state!);
      break;
    default:
      return;
  }
  scheduleRender();
}

/** Coalesce a burst of events (a re-balance moves many jobs at once) into one line. */
let renderTimer: NodeJS.Timeout | undefined;
let quiet = false;
function flushRender(): void {
  if (renderTimer === undefined) return;
  clearTimeout(renderTimer);
  renderTimer = undefined;
  render();
}
function scheduleRender(): void {
  renderTimer ??= setTimeout(() => {
    renderTimer = undefined;
    render();
  }, 250);
}

function endOwnership(worker: string, at: number, job?: string): void {
  for (const record of ownership) {
    if (record.worker === worker && record.to === undefined && (job === undefined || record.job === job))
      record.to = at;
  }
}

function render(): void {
  if (quiet) return;
  const jobsOf = (worker: string) =>
    [...owner]
      .filter(([, w]) => w === worker)
      .map(([job]) => job.slice(4))
      .sort()
      .join(' ');
  const fleet = WORKERS.map(
    (w) =>
      `${w.replace('worker-', 'w')}${dead.has(w) ? '†' : states.get(w) === 'SUSPENDED' ? '~' : ''}[${jobsOf(w)}]`,
  ).join(' ');
  const last = ledger.at(-1);
  const line = `leader ${leader ?? '—'} | ledger ${last?.value ?? 0}${last ? ` by ${last.worker}` : ''} | ${fleet}`;
  if (line !== lastLine) print(line);
  lastLine = line;
}

// ---- the fleet ----
function startWorker(hosts: string, name: string): ChildProcess {
  const script = fileURLToPath(new URL('./worker.js', import.meta.url));
  const child = spawn(process.execPath, [script, hosts, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (process.env.DEMO_LOG) appendFileSync(process.env.DEMO_LOG, `${line}\n`);
    try {
      apply(JSON.parse(line) as WorkerEvent);
    } catch {
      say(`${name}: ${line}`);
    }
  });
  return child;
}

async function until(what: string, condition: () => boolean, limitMs = 60_000): Promise<number> {
  const from = Date.now();
  while (!condition()) {
    if (Date.now() - from > limitMs) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - from;
}

let inspectorLeaders: string[] = [];
let inspectorTable = '';
const allJobsOwned = () => owner.size === JOB_COUNT && [...owner.values()].every((w) => !dead.has(w));

async function main(): Promise<boolean> {
  const cluster = process.env.ZK_HOSTS ? undefined : await ZooKeeperCluster.start({ size: 3 });
  const hosts = process.env.ZK_HOSTS ?? cluster!.connectString;
  say(cluster ? `started a 3-member ZooKeeper ensemble: ${hosts}` : `using ZK_HOSTS=${hosts}`);
  // The inspector's view of the demo, through a client of its own.
  const observer = new ZooKeeperClient({ hosts, sessionTimeout: 4000 });
  await observer.start();
  const inspector = await serveInspector(observer, {
    path: '/demo',
    port: Number(process.env.INSPECTOR_PORT ?? 0),
    // Every member, for the sessions' client addresses (`cons` lists a server's own connections).
    inspect: { servers: hosts.split(',') },
  });
  say(`live inspector web view: ${inspector.url}`);
  const workers = new Map(WORKERS.map((name) => [name, startWorker(hosts, name)]));
  const refresh = setInterval(render, 2000);
  const exits = new Map(
    [...workers].map(([name, child]) => [
      name,
      new Promise<void>((resolve) => child.once('exit', () => resolve())),
    ]),
  );
  try {
    await until(
      'a leader, every job owned, a few ledger entries',
      () => leader !== undefined && allJobsOwned() && ledger.length >= 5,
    );
    say(`✓ steady: ${leader} leads, ${JOB_COUNT} jobs split over ${WORKERS.length} workers`);

    if (cluster) {
      const member = await cluster.leader();
      say(`>>> killing ZooKeeper member ${member} (the ensemble's leader)`);
      const before = ledger.length;
      cluster.kill(member);
      const took = await until(
        'the fleet to reconnect and write again',
        () => ledger.length >= before + 3 && [...states.values()].every((s) => s === 'CONNECTED'),
      );
      say(`✓ ensemble failover: the fleet kept its sessions and wrote again after ${took} ms`);
    }

    // Right after the ensemble failover the scheduler may be between leaders.
    await until('a scheduler leader', () => leader !== undefined);
    const victim = leader!;
    say(`>>> killing ${victim} (the scheduler leader) with SIGKILL`);
    const killedAt = Date.now();
    workers.get(victim)!.kill('SIGKILL');
    await exits.get(victim);
    dead.add(victim);
    if (leader === victim) leader = undefined; // it cannot report its own end
    endOwnership(victim, killedAt);
    for (const [job, w] of owner) if (w === victim) owner.delete(job);
    scheduleRender();
    const took = await until(
      'a new leader and the jobs re-balanced',
      () => leader !== undefined && leader !== victim && allJobsOwned(),
    );
    say(
      `✓ ${leader} took over leadership and the jobs were re-balanced ${took} ms after the kill (session timeout 4 s)`,
    );
    // The web view shows the same: its leader history, as the page lists it.
    const shownLeader = () =>
      inspector.view?.inspection.recipes.find((r) => r.path === '/demo/leader')?.holders[0]?.identifier;
    await until('the inspector to show the new leader', () => shownLeader() === leader);
    inspectorLeaders = (inspector.view?.history['/demo/leader'] ?? []).map((c) => c.identifier ?? '—');
    if (inspector.view) inspectorTable = formatInspection(inspector.view.inspection);
  } finally {
    quiet = true;
    clearInterval(refresh);
    for (const [name, child] of workers) if (!dead.has(name)) child.kill('SIGTERM');
    await Promise.all(exits.values());
    await inspector.close();
    await observer.close();
    await cluster?.close();
  }
  return summary();
}

function summary(): boolean {
  const overlaps = ownership.flatMap((a, i) =>
    ownership
      .slice(i + 1)
      .filter(
        (b) =>
          a.job === b.job &&
          a.worker !== b.worker &&
          a.from < (b.to ?? Infinity) &&
          b.from < (a.to ?? Infinity),
      ),
  );
  const values = ledger.map((entry) => entry.value);
  const byToken = [...ledger].sort((a, b) => (a.token < b.token ? -1 : 1)).map((entry) => entry.value);
  const ledgerOk =
    new Set(values).size === values.length && byToken.every((v, i) => i === 0 || v > byToken[i - 1]!);
  process.stdout.write(
    [
      '',
      'Summary',
      `  leaders, in order:   ${leaders.map((l) => l.worker).join(' → ')}`,
      `  the inspector saw:   ${inspectorLeaders.join(' → ')}`,
      `  ledger entries:      ${ledger.length}, every value written once, in fencing-token order: ${ledgerOk ? 'yes' : 'NO'}`,
      `  job ownerships:      ${ownership.length}, any job owned by two workers at once: ${overlaps.length === 0 ? 'no' : `YES (${overlaps.length})`}`,
      '',
      'What `npx zookeeper-coordination inspect` showed of /demo after the failover:',
      inspectorTable,
    ].join('\n'),
  );
  return ledgerOk && overlaps.length === 0;
}

process.exitCode = (await main()) ? 0 : 1;
