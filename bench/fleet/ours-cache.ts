/**
 * Our client program for the fleet benchmark's tree-cache workloads (bench/fleet/cache-run.ts
 * runs it in its own process, with `--expose-gc`):
 *
 *   node --expose-gc dist/bench/fleet/ours-cache.js --connect HOSTS --root PATH --nodes N --sets S
 *
 * treeLoad: a TreeCache over the tree `tree.ts` built, from `start()` to INITIALIZED; heap per
 * cached node = heap used after a full GC, after minus before, ÷ cached nodes. churn: a second
 * session sets S leaves one after another; lag = NODE_UPDATED of that version − the set's start.
 * Prints one JSON line per workload (the shape the Curator and kazoo programs print too), with
 * the process warnings seen (a `MaxListenersExceededWarning` would show here).
 */
import { TreeCache, ZooKeeperClient } from '../../src/index.js';
import { now, packageVersion, parseFlags, percentile, SESSION_TIMEOUT_MS } from '../harness.js';
import { churnPath } from './tree.js';

const CLIENT = {
  client: 'ours',
  version: packageVersion(new URL('../../../package.json', import.meta.url)),
  runtime: `Node ${process.version}`,
};

const flags = parseFlags(process.argv.slice(2), ['connect', 'root', 'nodes', 'sets'], []);
const connect = String(flags.get('connect'));
const root = String(flags.get('root'));
const nodes = Number(flags.get('nodes'));
const sets = Number(flags.get('sets') ?? 0);

const warnings: string[] = [];
process.on('warning', (warning) => warnings.push(warning.name));

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

async function open(): Promise<ZooKeeperClient> {
  const zk = new ZooKeeperClient({ hosts: connect, sessionTimeout: SESSION_TIMEOUT_MS });
  await zk.start();
  return zk;
}

const zk = await open();
const updated = new Map<string, number>();
let waiting: { key: string; resolve: (t1: number) => void } | undefined;
const heapBefore = heapAfterGc();
const started = now();
const cache = new TreeCache(zk, root);
cache.listen((event) => {
  if (event.type !== 'NODE_UPDATED') return;
  const key = `${event.path}@${event.stat!.version}`;
  const t1 = now();
  if (waiting?.key === key) waiting.resolve(t1);
  else updated.set(key, t1);
});
await cache.start();
const loadMs = now() - started;
let cached = 0;
const count = (path: string): void => {
  cached++;
  for (const name of cache.getChildren(path) ?? []) count(path === '/' ? `/${name}` : `${path}/${name}`);
};
count(root);
const heapBytesPerNode = (heapAfterGc() - heapBefore) / cached;
console.log(
  JSON.stringify({ ...CLIENT, workload: 'treeLoad', nodes: cached, ms: loadMs, heapBytesPerNode, warnings }),
);

if (sets > 0) {
  const writer = await open();
  const lags: number[] = [];
  for (let i = 0; i < sets; i++) {
    const path = churnPath(root, nodes, i);
    const t0 = now();
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
  lags.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      ...CLIENT,
      workload: 'churn',
      sets,
      lagP50Ms: percentile(lags, 0.5),
      lagP99Ms: percentile(lags, 0.99),
      warnings,
    }),
  );
  await writer.close();
}
await cache.close();
await zk.close();
