/**
 * The inspector's snapshot of a subtree: every node's data, Stat and children, read breadth-first
 * with a bounded number of requests in flight and a bound on the node count. Reads carry no
 * AbortSignal each (a signal per read costs a listener per request); the walk checks the
 * caller's signal between reads instead. A node deleted while the walk runs is simply absent.
 */
import type { ZooKeeperClient } from '../client/client.js';
import { NoNodeError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { Stat } from '../client/protocol/records.js';

/** One node as read. */
export interface TreeNode {
  path: string;
  /** The last path component ('' for `/`). */
  name: string;
  data: Buffer;
  stat: Stat;
  /** Child names, sorted (ZooKeeper returns them unordered). */
  children: string[];
}

/** What `readTree` read. */
export interface Tree {
  nodes: Map<string, TreeNode>;
  /** True when `maxNodes` stopped the walk. */
  truncated: boolean;
}

/** Bounds of one walk. */
export interface TreeLimits {
  maxNodes: number;
  concurrency: number;
  signal?: AbortSignal | undefined;
}

/** Read `root` and its descendants (ZooKeeper's own `/zookeeper` subtree excepted). */
export async function readTree(client: ZooKeeperClient, root: string, limits: TreeLimits): Promise<Tree> {
  const nodes = new Map<string, TreeNode>();
  const pending: string[] = [root];
  let scheduled = 1;
  let truncated = false;
  let failure: unknown;

  const readOne = async (path: string): Promise<void> => {
    try {
      const { data, stat } = await client.get(path);
      const children = stat.numChildren > 0 ? (await client.getChildren(path)).sort() : [];
      const name = path === '/' ? '' : path.slice(path.lastIndexOf('/') + 1);
      nodes.set(path, { path, name, data, stat, children });
      for (const child of children) {
        const childPath = joinPath(path, child);
        if (childPath === '/zookeeper') continue;
        if (scheduled >= limits.maxNodes) {
          truncated = true;
          break;
        }
        scheduled++;
        pending.push(childPath);
      }
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error; // deleted meanwhile
    }
  };

  // A fixed pool of workers takes paths off one list: at most `concurrency` reads in flight.
  let active = 0;
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      if (failure !== undefined) return;
      if (limits.signal?.aborted) {
        failure = limits.signal.reason;
        reject(failure);
        return;
      }
      while (active < limits.concurrency && next < pending.length) {
        const path = pending[next++]!;
        active++;
        readOne(path).then(
          () => {
            active--;
            pump();
          },
          (error: unknown) => {
            failure ??= error;
            reject(error);
          },
        );
      }
      if (active === 0 && next === pending.length) resolve();
    };
    pump();
  });
  return { nodes, truncated };
}
