/**
 * One nemesis worker of ours: a process with one client that contends, through the public API,
 * on the nemesis's Lock (with guarded writes through `lock.transaction()`), LockingQueue and
 * Counter in three concurrent loops, and appends what happens to its history file (history.ts).
 * The orchestrator (nemesis.ts) starts it with a JSON `WorkerConfig` argument and stops it with
 * SIGTERM; it then finishes its current operations, closes its client and exits 0.
 */
import { openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConnectionState,
  Counter,
  Lock,
  LockingQueue,
  OutcomeUnknownError,
  TimeoutError,
  AbortError,
  TransactionError,
  ZooKeeperClient,
} from '../../src/index.js';
import { prng } from '../../test/support/random.js';
import {
  COUNTER_PATH,
  GUARDED_PATH,
  GUARDED_PREFIX,
  LOCK_PATH,
  now,
  QUEUE_PATH,
  type GuardedWrite,
  type Outcome,
  type WorkerEvent,
} from './history.js';

/** What the orchestrator passes (also to the kazoo worker, test/interop/kazoo_nemesis.py). */
export interface WorkerConfig {
  name: string;
  hosts: string;
  seed: number;
  /** Session timeout, ms. */
  sessionTimeout: number;
  /** Where to append the history (JSON lines). */
  history: string;
}

/** Every loop is bounded in count as well as by the stop request. */
const MAX_ITERATIONS = 100_000;
/** Per-operation limits, ms: every wait ends. */
const ACQUIRE_TIMEOUT = 3_000;
const GET_TIMEOUT = 2_000;
const WRITE_TIMEOUT = 10_000;

type EventBody = WorkerEvent extends infer E ? (E extends WorkerEvent ? Omit<E, 't' | 'p'> : never) : never;

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function main(config: WorkerConfig): Promise<void> {
  const file = openSync(config.history, 'a');
  const record = (event: EventBody): void => {
    writeSync(file, `${JSON.stringify({ t: now(), p: config.name, ...event })}\n`);
  };
  const random = prng(config.seed);
  const stop = new AbortController();
  /** Each loop's call in progress: reported when the worker is asked to stop, to name a call that hangs. */
  const inflight = new Map<string, { op: string; since: number }>();
  const track = async <T>(loop: string, op: string, call: () => Promise<T>): Promise<T> => {
    inflight.set(loop, { op, since: now() });
    try {
      return await call();
    } finally {
      inflight.delete(loop);
    }
  };
  process.once('SIGTERM', () => {
    record({ ev: 'stop' });
    for (const [loop, { op, since }] of inflight) record({ ev: 'inflight', loop, op, since });
    stop.abort();
  });
  const running = (i: number): boolean => !stop.signal.aborted && i < MAX_ITERATIONS;
  /** Sleep up to `ms` (random), cut short by the stop request. */
  const jitter = (ms: number): Promise<void> =>
    sleep(Math.floor(random() * ms), undefined, { signal: stop.signal }).catch(() => {});

  record({ ev: 'start', pid: process.pid });
  const zk = new ZooKeeperClient({ hosts: config.hosts, sessionTimeout: config.sessionTimeout });
  let session = 0n;
  zk.on('state', (state) => {
    record({ ev: 'state', state });
    if (state === ConnectionState.CONNECTED && zk.sessionId !== session) {
      session = zk.sessionId;
      record({ ev: 'session', session: session.toString(16) });
    }
  });
  await zk.start({ timeout: 30_000 });

  async function lockLoop(): Promise<void> {
    const lock = new Lock(zk, LOCK_PATH, { identifier: config.name });
    let acq = 0;
    let writes = 0;
    for (let i = 0; running(i); i++) {
      let acquired: boolean;
      try {
        acquired = await track('lock', 'acquire', () =>
          lock.acquire({ timeout: ACQUIRE_TIMEOUT, signal: stop.signal }),
        );
      } catch (error) {
        if (stop.signal.aborted) break;
        record({ ev: 'acquire-failed', error: errorText(error) });
        await jitter(200);
        continue;
      }
      if (!acquired) {
        record({ ev: 'acquire-failed', error: 'timeout' });
        continue;
      }
      acq++;
      const token = lock.fencingToken.toString();
      record({ ev: 'acquired', acq, token });
      const held = new AbortController();
      const ownership = lock.signal;
      if (ownership.aborted) record({ ev: 'lost', acq });
      else
        ownership.addEventListener('abort', () => record({ ev: 'lost', acq }), {
          once: true,
          signal: held.signal,
        });
      // Guarded writes, also after the signal fired: the lock check must fence off a stale holder.
      const count = 1 + Math.floor(random() * 3);
      for (let w = 0; w < count && lock.isAcquired; w++) {
        await jitter(150);
        const id = `${config.name}-w${++writes}`;
        const write: GuardedWrite = { token, p: config.name, id };
        let outcome: Outcome = 'ok';
        let failure: string | undefined;
        try {
          await track('lock', 'guarded write', () =>
            lock
              .transaction()
              .create(`${GUARDED_PATH}/${GUARDED_PREFIX}`, JSON.stringify(write), { sequence: true })
              .commit({ timeout: WRITE_TIMEOUT }),
          );
        } catch (error) {
          // A failed check: nothing was applied. Anything else may have been.
          outcome = error instanceof TransactionError ? 'failed' : 'unknown';
          failure = errorText(error);
        }
        record({
          ev: 'write',
          acq,
          token,
          id,
          outcome,
          ...(failure === undefined ? {} : { error: failure }),
        });
      }
      await jitter(200);
      held.abort();
      record({ ev: 'release', acq });
      try {
        await track('lock', 'release', () => lock.release());
        record({ ev: 'released', acq });
      } catch (error) {
        record({ ev: 'released', acq, error: errorText(error) });
      }
      await jitter(300);
    }
  }

  async function queueLoop(): Promise<void> {
    const queue = new LockingQueue(zk, QUEUE_PATH);
    let items = 0;
    for (let i = 0; running(i); i++) {
      if (random() < 0.5) {
        const item = `${config.name}-${++items}`;
        try {
          await track('queue', 'put', () => queue.put(Buffer.from(item), 100, { timeout: WRITE_TIMEOUT }));
          record({ ev: 'put', item, outcome: 'ok' });
        } catch (error) {
          record({ ev: 'put', item, outcome: 'unknown', error: errorText(error) }); // put is not retried: it may be queued
        }
        continue;
      }
      let value: Buffer | null;
      try {
        value = await track('queue', 'get', () => queue.get({ timeout: GET_TIMEOUT, signal: stop.signal }));
      } catch (error) {
        if (stop.signal.aborted) break;
        record({ ev: 'got', item: null, error: errorText(error) });
        await jitter(200);
        continue;
      }
      const item = value === null ? null : value.toString();
      record({ ev: 'got', item });
      if (item === null) continue;
      await jitter(100);
      if (random() < 0.15) {
        try {
          await track('queue', 'release', () => queue.release({ timeout: WRITE_TIMEOUT }));
          record({ ev: 'unget', item });
        } catch (error) {
          record({ ev: 'unget', item, error: errorText(error) });
        }
        continue;
      }
      try {
        const consumed = await track('queue', 'consume', () => queue.consume({ timeout: WRITE_TIMEOUT }));
        record({ ev: 'consume', item, outcome: consumed ? 'ok' : 'failed' });
      } catch (error) {
        record({ ev: 'consume', item, outcome: 'unknown', error: errorText(error) });
      }
    }
  }

  async function counterLoop(): Promise<void> {
    const counter = new Counter(zk, COUNTER_PATH);
    for (let i = 0; running(i); i++) {
      try {
        await track('counter', 'add', () => counter.add(1, { timeout: WRITE_TIMEOUT }));
        record({ ev: 'incr', outcome: 'ok' });
      } catch (error) {
        // Counter's contract: OutcomeUnknownError when an attempt may have applied; a plain
        // timeout or abort only when none can have.
        const notApplied =
          !(error instanceof OutcomeUnknownError) &&
          (error instanceof TimeoutError || error instanceof AbortError);
        record({ ev: 'incr', outcome: notApplied ? 'failed' : 'unknown', error: errorText(error) });
      }
      await jitter(200);
    }
  }

  const loops = { lock: lockLoop, queue: queueLoop, counter: counterLoop };
  await Promise.all(
    Object.entries(loops).map(([loop, run]) =>
      run().catch((error: unknown) => {
        record({ ev: 'error', loop, error: errorText(error) });
        throw error;
      }),
    ),
  );
  await zk.close();
  record({ ev: 'closed' });
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
main(config).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `nemesis worker ${config.name} failed: ${errorText(error)}\n${error instanceof Error ? error.stack : ''}\n`,
    );
    process.exit(1);
  },
);
