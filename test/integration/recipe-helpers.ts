/**
 * Helpers for the lock / election recipe tests (on top of helpers.ts): deferreds, bounded
 * polling, promise probes, lock-directory inspection and a "never two holders" tracker.
 * Every wait is bounded by a `timing()`-scaled safety limit and never asserts on speed.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Lock, ZooKeeperClient } from '../../src/index.js';
import { NoNodeError } from '../../src/index.js';
import { timing } from '../../src/testing/index.js';

/** The safety limit of a recipe wait (scaled by ZK_TEST_TIMING): only a broken recipe reaches it. */
export function safety(ms = 10_000): number {
  return timing(ms);
}

/** A promise with its resolve/reject exposed. */
export class Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Poll `condition` until truthy; fail the test after the safety limit. Returns the truthy value. */
export async function eventually<T>(condition: () => T | Promise<T>, what: string, limitMs = safety()): Promise<NonNullable<T>> {
  const deadline = Date.now() + limitMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      assert.fail(`never happened within ${limitMs} ms: ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await delay(15);
  }
}

/** Resolve with the promise's value, or fail the test after `limitMs`. */
export async function within<T>(promise: Promise<T>, what: string, limitMs = safety()): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `timed out after ${limitMs} ms waiting for ${what}` })), limitMs);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Like `within`, for a promise expected to reject: returns the rejection reason. */
export async function rejectsWithin(promise: Promise<unknown>, what: string, limitMs = safety()): Promise<unknown> {
  return within(
    promise.then(
      (value) => assert.fail(`${what}: expected a rejection, resolved with ${String(value)}`),
      (error: unknown) => error,
    ),
    what,
    limitMs,
  );
}

/** Observe a promise's outcome without awaiting it. */
export interface Probe<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

export function probe<T>(promise: Promise<T>): Probe<T> {
  const state = { promise, settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** A short pause for "still blocked" checks (it is never a speed assertion). */
export function grace(ms = 150): Promise<void> {
  return delay(timing(ms));
}

/** Children of a lock directory ([] when it does not exist). */
export async function children(zk: ZooKeeperClient, path: string): Promise<string[]> {
  try {
    return await zk.getChildren(path);
  } catch (error) {
    if (error instanceof NoNodeError) return [];
    throw error;
  }
}

/** Children of a lock directory with their data (identifier), in sequence-string order. */
export async function contenderNodes(zk: ZooKeeperClient, path: string): Promise<{ name: string; data: string }[]> {
  const names = await children(zk, path);
  const nodes = await Promise.all(
    names.map(async (name) => {
      try {
        return { name, data: (await zk.get(`${path}/${name}`)).data.toString('utf8') };
      } catch (error) {
        if (error instanceof NoNodeError) return undefined;
        throw error;
      }
    }),
  );
  const suffix = (name: string) => /(-?\d{10})$/.exec(name)?.[1] ?? name;
  return nodes.filter((n): n is { name: string; data: string } => n !== undefined).sort((a, b) => (suffix(a.name) < suffix(b.name) ? -1 : suffix(a.name) > suffix(b.name) ? 1 : 0));
}

/** Nodes whose data equals `identifier`. */
export async function nodesOf(zk: ZooKeeperClient, path: string, identifier: string): Promise<string[]> {
  return (await contenderNodes(zk, path)).filter((n) => n.data === identifier).map((n) => n.name);
}

/**
 * "Never two holders": every lock of one path registers here; when one reports it acquired,
 * no other may still consider itself holder with a live `signal` (a holder whose signal fired
 * has been told to stop relying on the lock).
 */
export class HolderTracker {
  private readonly locks = new Set<Lock>();
  readonly violations: string[] = [];
  acquisitions = 0;

  add<L extends Lock>(lock: L): L {
    this.locks.add(lock);
    return lock;
  }

  /** Call right after `lock.acquire()` resolved true. */
  acquired(lock: Lock): void {
    this.acquisitions++;
    for (const other of this.locks) {
      if (other !== lock && other.isAcquired && !other.signal.aborted) {
        this.violations.push(`${lock.identifier} acquired while ${other.identifier} still held with a live signal`);
      }
    }
  }

  assertClean(): void {
    assert.deepEqual(this.violations, [], 'never two holders');
  }
}

/** An in-process critical-section guard: fails if two holders are ever inside at once. */
export class CriticalSection {
  private holder: string | undefined;
  entries = 0;
  readonly overlaps: string[] = [];

  enter(who: string): void {
    if (this.holder !== undefined) this.overlaps.push(`${who} entered while ${this.holder} was inside`);
    this.holder = who;
    this.entries++;
  }

  leave(who: string): void {
    if (this.holder === who) this.holder = undefined;
  }
}

/** Wait until `contenders()` of a lock or election has `count` entries and return them. */
export async function contendersReach(lock: { path: string; contenders(): Promise<string[]> }, count: number): Promise<string[]> {
  return eventually(async () => {
    const list = await lock.contenders();
    return list.length === count ? list : undefined;
  }, `${count} contenders on ${lock.path}`);
}
