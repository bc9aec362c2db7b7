/**
 * Helpers for the lock / election recipe tests (on top of helpers.ts): deferreds, bounded
 * polling, promise probes, lock-directory inspection and a "never two holders" tracker.
 * Every wait is bounded by a `timing()`-scaled safety limit and never asserts on speed.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ZooKeeperClient } from '../../src/index.js';
import { ConnectionState, NoNodeError } from '../../src/index.js';
import { timing, type FaultProxy, type FrameMatch, type ZooKeeperServer } from '../../src/testing/index.js';
import { connect, nextState } from './helpers.js';

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
export async function eventually<T>(
  condition: () => T | Promise<T>,
  what: string,
  limitMs = safety(),
): Promise<NonNullable<T>> {
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
      assert.fail(
        `never happened within ${limitMs} ms: ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await delay(15);
  }
}

/** Resolve with the promise's value, or fail the test after `limitMs`. */
export async function within<T>(promise: Promise<T>, what: string, limitMs = safety()): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new assert.AssertionError({ message: `timed out after ${limitMs} ms waiting for ${what}` })),
      limitMs,
    );
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Like `within`, for a promise expected to reject: returns the rejection reason. */
export async function rejectsWithin(
  promise: Promise<unknown>,
  what: string,
  limitMs = safety(),
): Promise<unknown> {
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
export async function contenderNodes(
  zk: ZooKeeperClient,
  path: string,
): Promise<{ name: string; data: string }[]> {
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
  return nodes
    .filter((n): n is { name: string; data: string } => n !== undefined)
    .sort((a, b) => (suffix(a.name) < suffix(b.name) ? -1 : suffix(a.name) > suffix(b.name) ? 1 : 0));
}

/** Nodes whose data equals `identifier`. */
export async function nodesOf(zk: ZooKeeperClient, path: string, identifier: string): Promise<string[]> {
  return (await contenderNodes(zk, path)).filter((n) => n.data === identifier).map((n) => n.name);
}

/** What HolderTracker watches: a Lock, ReadLock, WriteLock or Semaphore. */
export interface Holder {
  readonly identifier: string;
  readonly isAcquired: boolean;
  readonly signal: AbortSignal;
}

/**
 * "Never two holders": every lock of one path registers here; when one reports it acquired,
 * no other may still consider itself holder with a live `signal` (a holder whose signal fired
 * has been told to stop relying on the lock).
 */
export class HolderTracker {
  private readonly locks = new Set<Holder>();
  readonly violations: string[] = [];
  acquisitions = 0;

  add<L extends Holder>(lock: L): L {
    this.locks.add(lock);
    return lock;
  }

  /** Call right after `lock.acquire()` resolved true. */
  acquired(lock: Holder): void {
    this.acquisitions++;
    for (const other of this.locks) {
      if (other !== lock && other.isAcquired && !other.signal.aborted) {
        this.violations.push(
          `${lock.identifier} acquired while ${other.identifier} still held with a live signal`,
        );
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
export async function contendersReach(
  lock: { path: string; contenders(): Promise<string[]> },
  count: number,
): Promise<string[]> {
  return eventually(async () => {
    const list = await lock.contenders();
    return list.length === count ? list : undefined;
  }, `${count} contenders on ${lock.path}`);
}

/** What `loseReplyAcrossSessions` hands back. */
export interface LostReply<T> {
  /** The call whose request's reply was swallowed (still pending while cut off). */
  result: Promise<T>;
  /** Wait until the client declares LOST by its own timer, then let it reach the server again. */
  reconnect(): Promise<void>;
  /** End the old session, as the server does once it expires it: its ephemerals go. */
  expireOld(): Promise<void>;
}

/**
 * Issue 11's lost reply across a session change, on `zk` (connected through `proxy`): `send()`
 * makes a request that `match` picks; it reaches the server, its reply is swallowed, and `zk`
 * stays cut off (blackhole) until its own timer declares the session LOST. Meanwhile a keeper
 * client holds the old session open, as the server does until it expires it (rounded up to its
 * tick), so that session's nodes are still there when `zk` gets its new one: deterministic,
 * however the two timers fall. Resolves once the request was applied (`zk` is cut off).
 */
export async function loseReplyAcrossSessions<T>(
  t: TestContext,
  server: ZooKeeperServer,
  proxy: FaultProxy,
  zk: ZooKeeperClient,
  match: FrameMatch,
  send: () => Promise<T>,
): Promise<LostReply<T>> {
  const old = { id: zk.sessionId, password: zk.sessionPassword };
  const fault = proxy.swallowReply(match, { then: 'blackhole' });
  const result = send();
  result.catch(() => {}); // the caller awaits it; keep an early failure from going unhandled
  const { reply } = await within(fault.happened, 'the request reached the server');
  assert.equal(reply?.err, 0, 'the swallowed request was applied');
  proxy.blackhole(); // new connections too: the client finds nothing until it declares LOST
  const keeper = await connect(t, server, { session: old, sessionTimeout: zk.sessionTimeout });
  return {
    result,
    reconnect: async () => {
      if (zk.state !== ConnectionState.LOST) await nextState(zk, ConnectionState.LOST, safety(30_000));
      proxy.heal();
      await nextState(zk, ConnectionState.CONNECTED, safety(30_000));
    },
    expireOld: () => keeper.close(),
  };
}
