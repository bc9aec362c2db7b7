/**
 * TreeCache over a service-registry-shaped tree (tree.ts: P parents × 50 leaves, 100 B each),
 * built once per size by `prepare`. Load: from `start()` to INITIALIZED, cost per cached node;
 * heap per cached node = heap used after a full GC, after minus before, ÷ cached nodes (ours and
 * Curator; Python's allocator is not comparable). Churn (the smallest tree: 100 sets; 50k:
 * 2,000): a second session then sets leaves one after another (at most `sets`, within `churn_s`
 * seconds); lag = the cache's NODE_UPDATED of that version − the set's start. A client whose
 * cache reports itself initialised with part of the tree is marked partial (items < expected)
 * and compared per node.
 */
import { TreeCache } from '../../../src/index.js';
import { percentile } from '../../harness.js';
import {
  CURATOR,
  flagHolds,
  KAZOO,
  linearInN,
  noWorseThan,
  fasterThan,
  scaledCount,
  type FleetWorkload,
} from '../registry.js';
import { buildTree, churnPath, treeSize } from '../tree.js';

/** Every client's session timeout here: a 200k-node load must not time the session out. */
export const TREE_SESSION_TIMEOUT_MS = 30_000;
const SIZES = [1000, 10_000, 50_000, 200_000];
const CHURN_AT = 50_000;
const CHURN_SETS = 2000;
/** The smallest tree gets a short churn too, so a `--quick` pass exercises it. */
const SMALL_CHURN_SETS = 100;
/** Each client's churn stops after this many seconds (a slow cache is measured on fewer sets). */
const CHURN_S = 10;

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

export const treeCache: FleetWorkload = {
  name: 'tree_cache',
  title: 'TreeCache initial load of N nodes (heap per node; churn lag at 50k)',
  unit: 'nodes',
  axis: 'nodes in the tree',
  peers: [KAZOO, CURATOR],
  cases: (scale) =>
    SIZES.map((size, i) => {
      const nodes = scaledCount(size, scale, 51);
      const sets = size === CHURN_AT ? CHURN_SETS : i === 0 ? SMALL_CHURN_SETS : 0;
      return {
        label: String(size),
        n: treeSize(nodes),
        params: { nodes, sets: sets === 0 ? 0 : scaledCount(sets, scale, 4), churn_s: CHURN_S },
      };
    }),
  prepare: (zk, path, { nodes }) => buildTree(zk, path, nodes!),
  async ours(context, { nodes, sets, churn_s }) {
    const zk = await context.session({ sessionTimeout: TREE_SESSION_TIMEOUT_MS });
    const root = context.shared;
    const updated = new Map<string, number>();
    let waiting: { key: string; resolve: (t1: number) => void } | undefined;
    const heapBefore = heapAfterGc();
    const started = performance.now();
    const cache = new TreeCache(zk, root);
    cache.listen((event) => {
      if (event.type !== 'NODE_UPDATED') return;
      const key = `${event.path}@${event.stat!.version}`;
      const t1 = performance.now();
      if (waiting?.key === key) waiting.resolve(t1);
      else updated.set(key, t1);
    });
    await cache.start();
    const seconds = (performance.now() - started) / 1000;
    let cached = 0;
    const count = (path: string): void => {
      cached++;
      for (const name of cache.getChildren(path) ?? []) count(`${path}/${name}`);
    };
    count(root);
    const heap_bytes_per_node = (heapAfterGc() - heapBefore) / cached;
    const result = { seconds, items: cached, expected: treeSize(nodes!), heap_bytes_per_node };
    if (sets! === 0) {
      await cache.close();
      return result;
    }
    const writer = await context.session();
    const lags: number[] = [];
    const stopAt = performance.now() + churn_s! * 1000;
    for (let i = 0; i < sets! && performance.now() < stopAt; i++) {
      const path = churnPath(root, nodes!, i);
      const t0 = performance.now();
      const { version } = await writer.set(path, Buffer.from(`churn-${i}`));
      const key = `${path}@${version}`;
      const early = updated.get(key);
      updated.delete(key);
      const t1 =
        early ??
        (await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no event for ${key}`)), 30_000);
          waiting = {
            key,
            resolve: (t) => {
              clearTimeout(timer);
              waiting = undefined;
              resolve(t);
            },
          };
        }));
      lags.push(t1 - t0);
    }
    await cache.close();
    lags.sort((a, b) => a - b);
    return {
      ...result,
      churn_sets: lags.length,
      churn_lag_p50_ms: percentile(lags, 0.5),
      churn_lag_p99_ms: percentile(lags, 0.99),
    };
  },
  targets: [
    fasterThan('tree_cache', '50000', CURATOR, 1.3),
    noWorseThan('tree_cache', '50000', CURATOR, 'heap_bytes_per_node'),
    noWorseThan('tree_cache', '50000', CURATOR, 'churn_lag_p50_ms'),
    linearInN('tree_cache', '50000', '200000', 1.5),
    flagHolds('tree_cache', '200000', 'no_warnings'),
  ],
};
