/**
 * The nemesis's history format: what each worker process (ours in worker.ts, kazoo's in
 * test/interop/kazoo_nemesis.py) writes, one JSON object per line, and what the orchestrator
 * adds (the final state of the ensemble) for the checker. Times are CLOCK_MONOTONIC in
 * nanoseconds (Node's `process.hrtime.bigint()`, Python's `time.monotonic_ns()`), so events of
 * different processes on one machine compare.
 */

/** The znodes every worker contends on. */
export const NEMESIS_ROOT = '/nemesis';
export const LOCK_PATH = `${NEMESIS_ROOT}/lock`;
export const QUEUE_PATH = `${NEMESIS_ROOT}/queue`;
export const COUNTER_PATH = `${NEMESIS_ROOT}/counter`;
/** Guarded writes: persistent sequential children (sequence = commit order), data = `GuardedWrite`. */
export const GUARDED_PATH = `${NEMESIS_ROOT}/guarded`;
export const GUARDED_PREFIX = 'w-';

/** What a worker knows of an operation whose reply it got, or did not get. */
export type Outcome = 'ok' | 'failed' | 'unknown';

/** Fields every event has. */
interface Base {
  /** CLOCK_MONOTONIC, ns. */
  t: number;
  /** The worker process, e.g. `ours-1`, `kazoo-2`. */
  p: string;
}

export type WorkerEvent = Base &
  (
    | { ev: 'start'; pid: number }
    /** A session was established (or re-established after LOST): its id, hex. */
    | { ev: 'session'; session: string }
    | { ev: 'state'; state: string }
    /** The lock is held; `token` = czxid of the lock node (decimal string). */
    | { ev: 'acquired'; acq: number; token: string }
    /** An acquire that did not get the lock (timeout) or failed. */
    | { ev: 'acquire-failed'; error: string }
    /** The holder was told it may have lost the lock (our `signal`; kazoo SUSPENDED/LOST). */
    | { ev: 'lost'; acq: number }
    /** The holder stops relying on the lock and releases it. */
    | { ev: 'release'; acq: number }
    /** The release call returned or failed. */
    | { ev: 'released'; acq: number; error?: string }
    /** A guarded write (lock check + create of a `GUARDED_PATH` child) and what the worker knows of it. */
    | { ev: 'write'; acq: number; token: string; id: string; outcome: Outcome; error?: string }
    | { ev: 'put'; item: string; outcome: Outcome; error?: string }
    /** `get` returned this item (locked for this consumer); null: nothing within the timeout. */
    | { ev: 'got'; item: string | null; error?: string }
    /** `consume()` of an item: `ok` = it says it consumed it, `failed` = it says it did not. */
    | { ev: 'consume'; item: string; outcome: Outcome; error?: string }
    /** The item was handed back (`release()`), or the hand-back failed. */
    | { ev: 'unget'; item: string; error?: string }
    | { ev: 'incr'; outcome: Outcome; error?: string }
    /** Something the worker did not expect (it carries on). */
    | { ev: 'error'; loop: string; error: string }
    /** The worker was asked to stop. */
    | { ev: 'stop' }
    /** At the stop request, a call of `loop` still in progress since `since`. */
    | { ev: 'inflight'; loop: string; op: string; since: number }
    /** The worker closed its client and is about to exit. */
    | { ev: 'closed' }
  );

export type EventName = WorkerEvent['ev'];

/** The data of a guarded-write node. */
export interface GuardedWrite {
  token: string;
  p: string;
  id: string;
}

/** What the orchestrator knows of each worker process. */
export interface ProcessRecord {
  name: string;
  kind: 'ours' | 'kazoo';
  events: WorkerEvent[];
  /** When it was asked to stop (monotonic ns). */
  stopAt: number;
  /** When it exited (monotonic ns), or undefined if it had to be killed. */
  exitedAt: number | undefined;
  exitCode: number | null;
}

/** A fault as injected, for the summary and the checker. */
export interface FaultRecord {
  kind: FaultKind;
  target: string;
  /** Monotonic ns. */
  start: number;
  end: number;
  detail?: string;
}

export type FaultKind =
  'kill-member' | 'kill-leader' | 'freeze-leader' | 'blackhole-client' | 'swallow-reply';

/** Everything the checker needs about one run. */
export interface RunRecord {
  processes: ProcessRecord[];
  faults: FaultRecord[];
  /** When every fault was healed and the ensemble had its quorum again (monotonic ns). */
  healedAt: number;
  /** The guarded-write nodes at the end, in sequence (commit) order. */
  guarded: { name: string; write: GuardedWrite | undefined; raw: string }[];
  /** Items still queued at the end (one per entry node). */
  queued: string[];
  counter: number;
  /** Ephemeral nodes left under the nemesis root after every worker closed, with their owner (hex). */
  ephemerals: { path: string; owner: string }[];
}

/** How long a worker may go without finishing an operation after the faults healed, ns. */
export interface Bounds {
  progressNs: number;
  exitNs: number;
}

/** Monotonic now, ns (a safe integer on any machine that has been up for less than ~104 days). */
export function now(): number {
  return Number(process.hrtime.bigint());
}
