/**
 * The nemesis checker (scripts/nemesis/checker.ts) on hand-made histories: a clean run passes,
 * and each kind of violation is found, with the processes it concerns named.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { check, type ViolationKind } from '../../scripts/nemesis/checker.js';
import type {
  Bounds,
  GuardedWrite,
  ProcessRecord,
  RunRecord,
  WorkerEvent,
} from '../../scripts/nemesis/history.js';

const MS = 1_000_000;
const BOUNDS: Bounds = { progressNs: 10_000 * MS, exitNs: 5_000 * MS };
const HEALED = 100_000 * MS;
const STOP = HEALED + 10_000 * MS;

type Body = WorkerEvent extends infer E ? (E extends WorkerEvent ? Omit<E, 'p'> : never) : never;

/**
 * A worker that exited cleanly 1 s after being asked, and whose loops all progressed after the
 * heal (worker `n` holds the lock in its own ms, puts an item left queued, increments once).
 */
function proc(
  name: string,
  n: number,
  events: Body[],
  overrides: Partial<ProcessRecord> = {},
): ProcessRecord {
  const progress: Body[] = [
    { t: HEALED + n * MS, ev: 'acquired', acq: 1000, token: String(1000 + n) },
    { t: HEALED + (n + 0.5) * MS, ev: 'release', acq: 1000 },
    { t: HEALED + MS, ev: 'put', item: `${name}-late`, outcome: 'ok' },
    { t: HEALED + MS, ev: 'incr', outcome: 'ok' },
  ];
  const all = [...events, ...progress]
    .sort((a, b) => a.t - b.t)
    .map((event) => ({ ...event, p: name }) as WorkerEvent);
  return {
    name,
    kind: 'ours',
    events: all,
    stopAt: STOP,
    exitedAt: STOP + 1_000 * MS,
    exitCode: 0,
    ...overrides,
  };
}

function guarded(...writes: GuardedWrite[]): RunRecord['guarded'] {
  return writes.map((write, i) => ({
    name: `w-${String(i).padStart(10, '0')}`,
    write,
    raw: JSON.stringify(write),
  }));
}

/** A clean run: A holds, writes, releases; B acquires after; one item put and consumed; one increment applied, one unknown (plus `proc`'s). */
function cleanRun(): RunRecord {
  return {
    processes: [
      proc('ours-1', 1, [
        { t: 1 * MS, ev: 'acquired', acq: 1, token: '10' },
        { t: 2 * MS, ev: 'write', acq: 1, token: '10', id: 'ours-1-w1', outcome: 'ok' },
        { t: 3 * MS, ev: 'release', acq: 1 },
        { t: 4 * MS, ev: 'released', acq: 1 },
        { t: 5 * MS, ev: 'put', item: 'ours-1-1', outcome: 'ok' },
        { t: 6 * MS, ev: 'incr', outcome: 'ok' },
      ]),
      proc(
        'kazoo-1',
        2,
        [
          { t: 3.5 * MS, ev: 'acquired', acq: 1, token: '12' },
          { t: 4 * MS, ev: 'write', acq: 1, token: '12', id: 'kazoo-1-w1', outcome: 'ok' },
          { t: 5 * MS, ev: 'lost', acq: 1 },
          {
            t: 5.5 * MS,
            ev: 'write',
            acq: 1,
            token: '12',
            id: 'kazoo-1-w2',
            outcome: 'failed',
            error: 'NoNodeError',
          },
          { t: 6 * MS, ev: 'release', acq: 1 },
          { t: 7 * MS, ev: 'got', item: 'ours-1-1' },
          { t: 8 * MS, ev: 'consume', item: 'ours-1-1', outcome: 'ok' },
          { t: 9 * MS, ev: 'incr', outcome: 'unknown', error: 'ConnectionLoss' },
        ],
        { kind: 'kazoo' },
      ),
    ],
    faults: [],
    healedAt: HEALED,
    guarded: guarded(
      { token: '10', p: 'ours-1', id: 'ours-1-w1' },
      { token: '12', p: 'kazoo-1', id: 'kazoo-1-w1' },
    ),
    queued: ['ours-1-late', 'kazoo-1-late'],
    counter: 3,
    ephemerals: [],
  };
}

function kinds(run: RunRecord): ViolationKind[] {
  return check(run, BOUNDS).map((violation) => violation.kind);
}

describe('nemesis checker', () => {
  test('a clean history passes (the unknown increment may or may not have applied)', () => {
    assert.deepEqual(check(cleanRun(), BOUNDS), []);
    assert.deepEqual(check({ ...cleanRun(), counter: 4 }, BOUNDS), []);
  });

  test('fencing-order: a write with an older token committed after a newer one', () => {
    const run = cleanRun();
    run.guarded = guarded(
      { token: '12', p: 'kazoo-1', id: 'kazoo-1-w1' },
      { token: '10', p: 'ours-1', id: 'ours-1-w1' },
    );
    const [violation] = check(run, BOUNDS);
    assert.equal(violation?.kind, 'fencing-order');
    assert.match(violation.details, /token 10, ours-1 write ours-1-w1\) committed after .*token 12/);
  });

  test('write-lost and write-phantom: a write reported committed is missing, one reported failed is there', () => {
    const run = cleanRun();
    run.guarded = guarded(
      { token: '10', p: 'ours-1', id: 'ours-1-w1' },
      { token: '12', p: 'kazoo-1', id: 'kazoo-1-w2' },
    );
    assert.deepEqual(kinds(run), ['write-lost', 'write-phantom']);
  });

  test('two-holders: B acquired before A lost or released the lock', () => {
    const run = cleanRun();
    run.processes[1]!.events.find((event) => event.ev === 'acquired')!.t = 2.5 * MS;
    const violations = check(run, BOUNDS);
    assert.deepEqual(
      violations.map((violation) => violation.kind),
      ['two-holders'],
    );
    assert.match(violations[0]!.details, /ours-1 acquisition 1 .* kazoo-1 acquisition 1/);
  });

  test('two-holders: a holder that never released nor lost it holds until its last event', () => {
    const run = cleanRun();
    run.processes[0]!.events = run.processes[0]!.events.filter((event) => event.ev !== 'release');
    assert.deepEqual(kinds(run), ['two-holders']);
  });

  test('queue-double-consume: one item reported consumed by two consumers', () => {
    const run = cleanRun();
    run.processes[0]!.events.push({ t: 9 * MS, p: 'ours-1', ev: 'consume', item: 'ours-1-1', outcome: 'ok' });
    assert.deepEqual(kinds(run), ['queue-double-consume']);
  });

  test('queue-consumed-but-queued, queue-duplicate: claims that the final queue contradicts', () => {
    assert.deepEqual(kinds({ ...cleanRun(), queued: ['ours-1-1', 'ours-1-late', 'kazoo-1-late'] }), [
      'queue-consumed-but-queued',
    ]);
    const run = cleanRun();
    run.processes[1]!.events = run.processes[1]!.events.filter((event) => event.ev !== 'consume');
    assert.deepEqual(kinds({ ...run, queued: ['ours-1-1', 'ours-1-1', 'ours-1-late', 'kazoo-1-late'] }), [
      'queue-duplicate',
    ]);
  });

  test('queue-lost: an item put is neither consumed nor queued; an unknown consume excuses it', () => {
    const run = cleanRun();
    const consume = run.processes[1]!.events.find((event) => event.ev === 'consume')!;
    Object.assign(consume, { outcome: 'failed' });
    assert.deepEqual(kinds(run), ['queue-lost']);
    Object.assign(consume, { outcome: 'unknown' });
    assert.deepEqual(kinds(run), []);
  });

  test('queue-phantom: an item taken that was never put, or whose put was reported not applied', () => {
    const run = cleanRun();
    run.processes[1]!.events.push({ t: 9 * MS, p: 'kazoo-1', ev: 'got', item: 'nobody-1' });
    assert.deepEqual(kinds({ ...run, queued: [...run.queued, 'nobody-1'] }), ['queue-phantom']);
    const failedPut = cleanRun();
    Object.assign(
      failedPut.processes[0]!.events.find((event) => event.ev === 'put')!,
      { outcome: 'failed' },
    );
    assert.deepEqual(kinds(failedPut), ['queue-phantom']);
  });

  test('counter: below the successes, or above successes + unknown', () => {
    assert.deepEqual(kinds({ ...cleanRun(), counter: 2 }), ['counter']);
    const [violation] = check({ ...cleanRun(), counter: 5 }, BOUNDS);
    assert.equal(violation?.kind, 'counter');
    assert.match(
      violation.details,
      /counter is 5, but 3 increments succeeded and 1 have an unknown outcome \(allowed: 3\.\.4\)/,
    );
  });

  test('hang: a loop that made no progress after the heal (only timeouts count for nothing), or a worker that did not exit', () => {
    const stuck = cleanRun();
    stuck.processes[0]!.events = stuck.processes[0]!.events.filter(
      (event) => !(event.ev === 'acquired' && event.t > HEALED),
    );
    stuck.processes[0]!.events.push({
      t: HEALED + 3 * MS,
      p: 'ours-1',
      ev: 'acquire-failed',
      error: 'timeout',
    });
    stuck.processes[0]!.events.push({
      t: STOP,
      p: 'ours-1',
      ev: 'inflight',
      loop: 'lock',
      op: 'release',
      since: STOP - 4_000 * MS,
    });
    const [violation] = check(stuck, BOUNDS);
    assert.equal(violation?.kind, 'hang');
    assert.match(
      violation.details,
      /ours-1's lock loop made no progress .*in progress at the stop: release, called 4000\.0 ms before/,
    );
    const late = cleanRun();
    late.processes[1]!.exitedAt = undefined;
    assert.deepEqual(kinds(late), ['hang']);
  });

  test('crash: a worker exited with a failure', () => {
    const run = cleanRun();
    run.processes[0]!.exitCode = 1;
    assert.deepEqual(kinds(run), ['crash']);
  });

  test('leak: an ephemeral of a worker session remains', () => {
    const [violation] = check(
      { ...cleanRun(), ephemerals: [{ path: '/nemesis/lock/x__lock__0000000001', owner: 'abc' }] },
      BOUNDS,
    );
    assert.equal(violation?.kind, 'leak');
    assert.match(violation.details, /x__lock__0000000001 of session 0xabc/);
  });
});
