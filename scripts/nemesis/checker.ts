/**
 * The nemesis's safety checker: a pure function from the recorded histories and the final state
 * of the ensemble (a `RunRecord`) to the violations found. Each rule says what a correct Lock,
 * LockingQueue and Counter promise, and trusts a worker's claim only as far as the recipe's
 * documented outcome (`ok`, `failed`, or `unknown` for `OutcomeUnknownError`-like answers).
 */
import type { Bounds, GuardedWrite, ProcessRecord, RunRecord, WorkerEvent } from './history.js';

export type ViolationKind =
  | 'fencing-order'
  | 'write-lost'
  | 'write-phantom'
  | 'two-holders'
  | 'queue-double-consume'
  | 'queue-consumed-but-queued'
  | 'queue-lost'
  | 'queue-duplicate'
  | 'queue-phantom'
  | 'counter'
  | 'hang'
  | 'crash'
  | 'leak';

export interface Violation {
  kind: ViolationKind;
  details: string;
}

/** Every violation of the run, in rule order. */
export function check(run: RunRecord, bounds: Bounds): Violation[] {
  return [
    ...checkFencing(run),
    ...checkGuardedOutcomes(run),
    ...checkHolders(run),
    ...checkQueue(run),
    ...checkCounter(run),
    ...checkProgress(run, bounds),
    ...run.ephemerals.map((leak): Violation => ({
      kind: 'leak',
      details: `ephemeral ${leak.path} of session 0x${leak.owner} remains after every worker closed`,
    })),
  ];
}

function eventsOf<K extends WorkerEvent['ev']>(run: RunRecord, ev: K): Extract<WorkerEvent, { ev: K }>[] {
  return run.processes.flatMap((proc) =>
    proc.events.filter((event): event is Extract<WorkerEvent, { ev: K }> => event.ev === ev),
  );
}

function describeWrite(write: GuardedWrite | undefined, name: string): string {
  return write ? `${name} (token ${write.token}, ${write.p} write ${write.id})` : `${name} (unreadable data)`;
}

/** Guarded writes commit in fencing-token order: a write never carries a token older than one committed before it. */
function checkFencing(run: RunRecord): Violation[] {
  const violations: Violation[] = [];
  let newest: { token: bigint; name: string; write: GuardedWrite } | undefined;
  for (const { name, write, raw } of run.guarded) {
    if (!write) {
      violations.push({
        kind: 'fencing-order',
        details: `guarded node ${name} has no fencing token: ${JSON.stringify(raw)}`,
      });
      continue;
    }
    const token = BigInt(write.token);
    if (newest && token < newest.token) {
      violations.push({
        kind: 'fencing-order',
        details: `${describeWrite(write, name)} committed after ${describeWrite(newest.write, newest.name)}: an older holder wrote after a newer one`,
      });
    }
    if (!newest || token > newest.token) newest = { token, name, write };
  }
  return violations;
}

/** A write reported committed is there; a write reported not applied is not. */
function checkGuardedOutcomes(run: RunRecord): Violation[] {
  const present = new Set(run.guarded.flatMap(({ write }) => (write ? [write.id] : [])));
  const violations: Violation[] = [];
  for (const write of eventsOf(run, 'write')) {
    if (write.outcome === 'ok' && !present.has(write.id)) {
      violations.push({
        kind: 'write-lost',
        details: `${write.p} reported guarded write ${write.id} (token ${write.token}) committed, but it is not there`,
      });
    }
    if (write.outcome === 'failed' && present.has(write.id)) {
      violations.push({
        kind: 'write-phantom',
        details: `${write.p} reported guarded write ${write.id} (token ${write.token}) not applied (${write.error ?? ''}), but it is there`,
      });
    }
  }
  return violations;
}

interface Holding {
  p: string;
  acq: number;
  token: string;
  start: number;
  end: number;
}

/** Each acquisition's [acquired, first of lost or release] interval (to the process's last event if neither came). */
export function holdings(proc: ProcessRecord): Holding[] {
  const result = new Map<number, Holding>();
  const last = proc.events.at(-1)?.t ?? 0;
  for (const event of proc.events) {
    if (event.ev === 'acquired')
      result.set(event.acq, { p: proc.name, acq: event.acq, token: event.token, start: event.t, end: last });
    else if (event.ev === 'lost' || event.ev === 'release') {
      const holding = result.get(event.acq);
      if (holding && event.t < holding.end) holding.end = event.t;
    }
  }
  return [...result.values()];
}

function ms(ns: number): string {
  return `${(ns / 1e6).toFixed(1)} ms`;
}

/** No two holders' intervals overlap. */
function checkHolders(run: RunRecord): Violation[] {
  const all = run.processes.flatMap(holdings).sort((a, b) => a.start - b.start);
  const violations: Violation[] = [];
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    for (let j = i + 1; j < all.length && all[j]!.start < a.end; j++) {
      const b = all[j]!;
      violations.push({
        kind: 'two-holders',
        details:
          `${a.p} acquisition ${a.acq} (token ${a.token}) held until ${ms(a.end - a.start)} after it acquired, ` +
          `but ${b.p} acquisition ${b.acq} (token ${b.token}) acquired ${ms(b.start - a.start)} after it: overlap ${ms(Math.min(a.end, b.end) - b.start)}`,
      });
    }
  }
  return violations;
}

/** Every item is consumed exactly once: never by two consumers, never lost, never invented. */
function checkQueue(run: RunRecord): Violation[] {
  const puts = new Map<string, string[]>();
  for (const put of eventsOf(run, 'put')) puts.set(put.item, [...(puts.get(put.item) ?? []), put.outcome]);
  const got = new Set(eventsOf(run, 'got').flatMap((event) => (event.item === null ? [] : [event.item])));
  const consumes = eventsOf(run, 'consume');
  const queued = new Map<string, number>();
  for (const item of run.queued) queued.set(item, (queued.get(item) ?? 0) + 1);
  const items = new Set([...puts.keys(), ...got, ...consumes.map((event) => event.item), ...queued.keys()]);

  const violations: Violation[] = [];
  for (const item of items) {
    const putOutcomes = puts.get(item) ?? [];
    const consumedBy = consumes
      .filter((event) => event.item === item && event.outcome === 'ok')
      .map((event) => event.p);
    const maybeConsumed = consumes.some((event) => event.item === item && event.outcome === 'unknown');
    const copies = queued.get(item) ?? 0;
    const seen = got.has(item) || consumedBy.length > 0 || copies > 0;
    if (seen && !putOutcomes.some((outcome) => outcome !== 'failed')) {
      violations.push({
        kind: 'queue-phantom',
        details: `item ${item} was taken or is queued, but its put ${putOutcomes.length ? 'was reported not applied' : 'never happened'}`,
      });
    }
    if (consumedBy.length > 1) {
      violations.push({
        kind: 'queue-double-consume',
        details: `item ${item} reported consumed ${consumedBy.length} times, by ${consumedBy.join(', ')}`,
      });
    }
    if (copies > 1)
      violations.push({
        kind: 'queue-duplicate',
        details: `item ${item} is queued ${copies} times at the end`,
      });
    if (consumedBy.length > 0 && copies > 0) {
      violations.push({
        kind: 'queue-consumed-but-queued',
        details: `item ${item} reported consumed by ${consumedBy.join(', ')}, but it is still queued at the end`,
      });
    }
    const existed = putOutcomes.includes('ok') || got.has(item);
    if (existed && consumedBy.length === 0 && !maybeConsumed && copies === 0) {
      const claims = consumes
        .filter((event) => event.item === item)
        .map((event) => `${event.p}: ${event.outcome}`);
      violations.push({
        kind: 'queue-lost',
        details: `item ${item} is gone, but no consumer reported consuming it (consume calls: ${claims.join(', ') || 'none'})`,
      });
    }
  }
  return violations;
}

/** The counter's final value = the increments reported applied, plus at most the unknown ones. */
function checkCounter(run: RunRecord): Violation[] {
  const increments = eventsOf(run, 'incr');
  const successes = increments.filter((event) => event.outcome === 'ok').length;
  const unknown = increments.filter((event) => event.outcome === 'unknown').length;
  if (run.counter >= successes && run.counter <= successes + unknown) return [];
  return [
    {
      kind: 'counter',
      details: `counter is ${run.counter}, but ${successes} increments succeeded and ${unknown} have an unknown outcome (allowed: ${successes}..${successes + unknown})`,
    },
  ];
}

/**
 * What counts as progress of each loop of a worker: getting the lock, queueing or taking an
 * item, an increment that applied. A loop whose calls only time out (e.g. behind a contender
 * node nobody will delete) is not making progress.
 */
const PROGRESS: Record<string, (event: WorkerEvent) => boolean> = {
  lock: (event) => event.ev === 'acquired',
  queue: (event) =>
    (event.ev === 'put' && event.outcome === 'ok') || (event.ev === 'got' && event.item !== null),
  counter: (event) => event.ev === 'incr' && event.outcome === 'ok',
};

/** The loops of a worker that made no progress in (`since`, `until`]. */
export function loopsWithoutProgress(events: readonly WorkerEvent[], since: number, until: number): string[] {
  return Object.entries(PROGRESS)
    .filter(([, progress]) => !events.some((event) => progress(event) && event.t > since && event.t <= until))
    .map(([loop]) => loop);
}

/** Every loop of every worker makes progress within the bound after the faults healed; every worker exits, cleanly, within the bound once asked. */
function checkProgress(run: RunRecord, bounds: Bounds): Violation[] {
  const violations: Violation[] = [];
  for (const proc of run.processes) {
    const until = Math.min(proc.stopAt, run.healedAt + bounds.progressNs);
    for (const loop of loopsWithoutProgress(proc.events, run.healedAt, until)) {
      const lastDone = proc.events.filter((event) => PROGRESS[loop]!(event)).at(-1);
      const stuck = proc.events.find((event) => event.ev === 'inflight' && event.loop === loop);
      violations.push({
        kind: 'hang',
        details:
          `${proc.name}'s ${loop} loop made no progress within ${ms(until - run.healedAt)} after the faults healed ` +
          `(its last: ${lastDone ? `${lastDone.ev} ${ms(run.healedAt - lastDone.t)} before` : 'none'}` +
          `${stuck?.ev === 'inflight' ? `; in progress at the stop: ${stuck.op}, called ${ms(stuck.t - stuck.since)} before` : ''})`,
      });
    }
    if (proc.exitedAt === undefined || proc.exitedAt - proc.stopAt > bounds.exitNs) {
      violations.push({
        kind: 'hang',
        details: `${proc.name} did not exit within ${ms(bounds.exitNs)} of being asked to stop`,
      });
    } else if (proc.exitCode !== 0) {
      violations.push({ kind: 'crash', details: `${proc.name} exited with code ${proc.exitCode}` });
    }
  }
  return violations;
}
