/**
 * The tree the scale suite's tree_cache workload reads, shared by every client program
 * (kazoo_fleet.py and curator/CuratorFleet.java compute the same paths): ROOT/pNNNNN (P parents,
 * P = round(nodes / 51)), each with 50 leaves cNN; every node carries 100 B. Set i of the churn
 * goes to leaf (i / P) % 50 of parent i % P, so consecutive sets touch different parents.
 */
import type { ZooKeeperClient } from '../../src/index.js';
import { NodeExistsError } from '../../src/index.js';
import { PAYLOAD } from '../harness.js';

export const LEAVES_PER_PARENT = 50;

export function parentsFor(nodes: number): number {
  return Math.max(1, Math.round(nodes / (LEAVES_PER_PARENT + 1)));
}

/** The node count of the tree for a requested size: the root, P parents and their leaves. */
export function treeSize(nodes: number): number {
  return 1 + parentsFor(nodes) * (LEAVES_PER_PARENT + 1);
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

export function churnPath(root: string, nodes: number, i: number): string {
  const parents = parentsFor(nodes);
  return `${root}/p${pad(i % parents, 5)}/c${pad(Math.floor(i / parents) % LEAVES_PER_PARENT, 2)}`;
}

/** Create the tree under `root` (pipelined, a window of 1,000 creates) unless it is complete. */
export async function buildTree(zk: ZooKeeperClient, root: string, nodes: number): Promise<void> {
  const parents = parentsFor(nodes);
  const last = `${root}/p${pad(parents - 1, 5)}/c${pad(LEAVES_PER_PARENT - 1, 2)}`;
  if (await zk.exists(last)) return;
  await zk.ensurePath(root);
  const paths: string[] = [];
  for (let p = 0; p < parents; p++) {
    const parent = `${root}/p${pad(p, 5)}`;
    paths.push(parent);
    for (let c = 0; c < LEAVES_PER_PARENT; c++) paths.push(`${parent}/c${pad(c, 2)}`);
  }
  // Parents come before their leaves in `paths`, and a window never reorders its sends.
  const inFlight = new Set<Promise<unknown>>();
  for (const path of paths) {
    const create = zk.create(path, PAYLOAD).catch((error: unknown) => {
      if (!(error instanceof NodeExistsError)) throw error;
    });
    inFlight.add(create);
    void create.finally(() => inFlight.delete(create)).catch(() => {});
    if (inFlight.size >= 1000) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
