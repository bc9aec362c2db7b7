/**
 * The figures of one nemesis run (what the issue's note reports): operations by outcome, faults
 * by kind, and the violations, as a plain object and as the text `npm run nemesis` prints.
 */
import type { Violation } from './checker.js';
import type { FaultKind, Outcome, RunRecord, WorkerEvent } from './history.js';

type Tally = Record<Outcome, number>;

export interface Summary {
  seconds: number;
  processes: string[];
  acquisitions: number;
  guardedWrites: Tally & { committed: number };
  queue: { put: Tally; consumed: Tally; queuedAtEnd: number };
  increments: Tally & { counter: number };
  faults: Partial<Record<FaultKind, number>>;
  /** Unexpected errors the workers reported (they carried on), by message. */
  errors: Record<string, number>;
  violations: Violation[];
}

function tally(events: readonly { outcome: Outcome }[]): Tally {
  const result: Tally = { ok: 0, failed: 0, unknown: 0 };
  for (const event of events) result[event.outcome]++;
  return result;
}

export function summarize(run: RunRecord, violations: Violation[], seconds: number): Summary {
  const events = run.processes.flatMap((proc) => proc.events);
  const of = <K extends WorkerEvent['ev']>(ev: K) =>
    events.filter((event): event is Extract<WorkerEvent, { ev: K }> => event.ev === ev);
  const faults: Partial<Record<FaultKind, number>> = {};
  for (const fault of run.faults) faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
  const errors: Record<string, number> = {};
  for (const event of of('error'))
    errors[`${event.p} ${event.loop}: ${event.error}`] =
      (errors[`${event.p} ${event.loop}: ${event.error}`] ?? 0) + 1;
  return {
    seconds,
    processes: run.processes.map((proc) => proc.name),
    acquisitions: of('acquired').length,
    guardedWrites: { ...tally(of('write')), committed: run.guarded.length },
    queue: { put: tally(of('put')), consumed: tally(of('consume')), queuedAtEnd: run.queued.length },
    increments: { ...tally(of('incr')), counter: run.counter },
    faults,
    errors,
    violations,
  };
}

export function formatSummary(summary: Summary): string {
  const t = (tally: Tally) => `${tally.ok} ok, ${tally.unknown} unknown, ${tally.failed} failed`;
  const lines = [
    `seconds: ${summary.seconds.toFixed(1)}`,
    `processes: ${summary.processes.join(', ')}`,
    `acquisitions: ${summary.acquisitions}`,
    `guarded writes: ${t(summary.guardedWrites)}; ${summary.guardedWrites.committed} committed`,
    `queue items: put ${t(summary.queue.put)}; consumed ${t(summary.queue.consumed)}; ${summary.queue.queuedAtEnd} left queued`,
    `increments: ${summary.increments.ok} success, ${summary.increments.unknown} unknown, ${summary.increments.failed} failed; counter = ${summary.increments.counter}`,
    `faults: ${
      Object.entries(summary.faults)
        .map(([kind, count]) => `${kind} ${count}`)
        .join(', ') || 'none'
    }`,
    ...Object.entries(summary.errors).map(([error, count]) => `worker error (${count}x): ${error}`),
    `violations: ${summary.violations.length}`,
    ...summary.violations.map((violation) => `  ${violation.kind}: ${violation.details}`),
  ];
  return lines.join('\n');
}
