/**
 * Helpers for the watch-recipe tests (DataWatch, ChildrenWatch, PatientChildrenWatch, TreeCache)
 * and the SetPartitioner tests, on top of helpers.ts / recipe-helpers.ts: a call recorder,
 * a "nothing more is coming" fence for recipe callbacks, and a recursive tree snapshot.
 * Every wait is bounded (`safety()`); nothing asserts on speed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ZooKeeperClient } from '../../src/index.js';
import { NoNodeError } from '../../src/index.js';
import { eventFence } from './helpers.js';
import { grace, safety } from './recipe-helpers.js';

/** Records the calls of a recipe callback and lets a test wait for the n-th one. */
export class Recorder<T> {
  readonly calls: T[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  push(value: T): void {
    this.calls.push(value);
    for (const waiter of [...this.waiters]) {
      if (this.calls.length >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** Wait until at least `count` calls were recorded (fails after the safety limit). */
  async waitForCount(count: number, limitMs = safety()): Promise<T[]> {
    if (this.calls.length < count) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new assert.AssertionError({
                  message: `timed out after ${limitMs} ms waiting for ${count} call(s); got ${this.calls.length}: ${describe(this.calls)}`,
                }),
              ),
            limitMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    }
    return this.calls;
  }

  /** The n-th call (1-based), waiting for it. */
  async nth(n: number, limitMs = safety()): Promise<T> {
    await this.waitForCount(n, limitMs);
    return this.calls[n - 1]!;
  }
}

function describe(values: unknown[]): string {
  return JSON.stringify(values, (_, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('utf8') : v,
  ).slice(0, 500);
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
