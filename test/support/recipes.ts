/**
 * Recipe test helpers: lock-directory inspection, a "never two holders" tracker, a lost reply
 * across a session change, a "nothing more is coming" fence for recipe callbacks, a recursive
 * tree snapshot, an ownership-overlap check, a holder with a waiter behind a proxy and the inspector's recipe at a path. Every wait is bounded (`safety()`).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { ZooKeeperClient } from '../../src/index.js';
import type { InspectedRecipe, Inspection } from '../../src/inspector/index.js';
import { ConnectionState, NoNodeError } from '../../src/index.js';
import type { FaultProxy, FrameMatch, ZooKeeperServer } from '../../src/testing/index.js';
import { connect, eventFence, nextState, uniqueRoot } from './client.js';
import { eventually, grace, safety, within } from './wait.js';

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

/**
 * "Everything the server sent `watcher` before now has been processed by its recipes": an
 * event fence (every earlier watch event delivered), then a round trip (every read a recipe
 * issued on those events has been answered), then a short grace for the callbacks to run.
 */
export async function quiesce(
  watcher: ZooKeeperClient,
  writer: ZooKeeperClient,
  root: string,
): Promise<void> {
  await eventFence(watcher, writer, root);
  await watcher.exists('/');
  await watcher.exists('/'); // a recipe may chain a second read (e.g. get → exists)
  await grace(50);
}

/** A node of a recursive snapshot. */
export interface TreeSnapshot {
  data: string;
  mzxid: bigint;
  children: Record<string, TreeSnapshot>;
}

/** The server's tree below `path` (data as UTF-8, mzxid, children), or undefined when missing. */
export async function serverTree(zk: ZooKeeperClient, path: string): Promise<TreeSnapshot | undefined> {
  try {
    const [{ data, stat }, names] = await Promise.all([zk.get(path), zk.getChildren(path)]);
    const children: Record<string, TreeSnapshot> = {};
    for (const name of names.sort()) {
      const child = await serverTree(zk, path === '/' ? `/${name}` : `${path}/${name}`);
      if (child) children[name] = child;
    }
    return { data: data.toString('utf8'), mzxid: stat.mzxid, children };
  } catch (error) {
    if (error instanceof NoNodeError) return undefined;
    throw error;
  }
}

/** A unique child path under `root`. */
export function uniqueChild(root: string, prefix = 'n'): string {
  return `${root}/${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Every interval [start, end) per key must be disjoint from the others of the same key. */
export function assertNoOverlap(
  intervals: { key: string; owner: string; start: number; end: number }[],
): void {
  const byKey = new Map<string, typeof intervals>();
  for (const interval of intervals) {
    const list = byKey.get(interval.key) ?? [];
    list.push(interval);
    byKey.set(interval.key, list);
  }
  const problems: string[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1]!;
      const current = list[i]!;
      if (current.start < previous.end) {
        problems.push(
          `${key}: ${previous.owner} [${previous.start.toFixed(1)}, ${previous.end.toFixed(1)}) overlaps ${current.owner} [${current.start.toFixed(1)}, ${current.end.toFixed(1)})`,
        );
      }
    }
  }
  assert.deepEqual(problems, [], 'no item is ever owned by two members at once');
}

/**
 * Start a timed acquire over `proxy`, partition (blackhole) it once `waiting` says the acquire
 * waits, and heal the partition only after the acquire settled or a grace well past its
 * deadline but short of the client's read timeout. `events` is the order of `'settled'` and
 * `'healed'`; `statesDuring` the state changes seen while partitioned (none with a long session).
 * Healing also drops the connection: requests lost in the partition are never answered on it.
 */
export async function acquireAcrossPartition(
  zk: ZooKeeperClient,
  proxy: FaultProxy,
  acquire: () => Promise<boolean>,
  waiting: () => Promise<unknown>,
): Promise<{ acquired: boolean; events: string[]; statesDuring: string[] }> {
  const events: string[] = [];
  const states: string[] = [];
  const onState = (state: string) => states.push(state);
  zk.on('state', onState);
  try {
    const acquiring = acquire().then((acquired) => {
      events.push('settled');
      return acquired;
    });
    await waiting();
    proxy.blackhole();
    await Promise.race([acquiring, grace(5_000)]);
    events.push('healed');
    const statesDuring = [...states];
    proxy.heal();
    proxy.drop();
    const acquired = await within(acquiring, 'the acquire settles', safety(20_000));
    return { acquired, events, statesDuring };
  } finally {
    zk.off('state', onState);
  }
}

/**
 * A holder and a waiter of one lock-like recipe path: the holder (acquired) on `observer`, a
 * direct client of `server`; the waiter (not acquiring yet) on `zk`, a client behind `proxy`
 * whose session (`sessionTimeout`) outlives a disconnect.
 */
export async function heldWhileBehindProxy<R extends { acquire(): Promise<boolean> }>(
  t: TestContext,
  server: ZooKeeperServer,
  proxy: FaultProxy,
  make: (zk: ZooKeeperClient, path: string, identifier: string) => R,
  options: { prefix: string; sessionTimeout: number; holder?: string; waiter?: string },
): Promise<{ zk: ZooKeeperClient; observer: ZooKeeperClient; path: string; holder: R; waiter: R }> {
  const zk = await connect(t, proxy.connectString, { sessionTimeout: options.sessionTimeout });
  const observer = await connect(t, server);
  const path = uniqueRoot(options.prefix);
  const holder = make(observer, path, options.holder ?? 'holder');
  assert.equal(await holder.acquire(), true);
  return { zk, observer, path, holder, waiter: make(zk, path, options.waiter ?? 'waiter') };
}

/** The recipe `inspect` found at `path` (fails the test, listing what it found, when none). */
export function recipeAt(inspection: Inspection, path: string): InspectedRecipe {
  const recipe = inspection.recipes.find((r) => r.path === path);
  assert.ok(recipe, `a recipe at ${path}: ${JSON.stringify(inspection.recipes.map((r) => r.path))}`);
  return recipe;
}

/**
 * A delete of our node at `path` (sent by `remove`, through `proxy`) whose reply is lost after
 * the server applied it; `meanwhile` runs before the client reconnects (e.g. another client
 * makes a node at that path). Resolves once `remove` settled, after the reconnect.
 */
export async function loseDeleteReply(
  proxy: FaultProxy,
  path: string,
  remove: () => Promise<void>,
  meanwhile: () => Promise<unknown>,
): Promise<void> {
  const lost = proxy.swallowReply({ op: 'delete', path }, { then: 'blackhole' });
  const removing = remove();
  await within(lost.happened, 'the delete is applied, its reply lost');
  await meanwhile();
  proxy.drop();
  proxy.heal();
  await within(removing, 'the delete settles after the reconnect');
}
