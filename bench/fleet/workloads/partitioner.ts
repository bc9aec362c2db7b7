/**
 * SetPartitioner workloads: M members (one session each) over I items, time boundary 100 ms.
 * First allocation: from creating the partitioners until every member is ACQUIRED. Re-balance:
 * then one more member joins, until every member (old ones after their RELEASE) is ACQUIRED again.
 * `requests_per_item`: requests the server received during the measured part (`mntr`), per item.
 */
import { SetPartitioner } from '../../../src/index.js';
import { fasterThan, KAZOO, packetsReceived, scaledCount, type FleetWorkload } from '../registry.js';

const TIME_BOUNDARY_MS = 100;
const SHAPES = [
  [2, 1000],
  [8, 1000],
] as const;

/** Drive every member through RELEASE → `release()` → ACQUIRED until all are ACQUIRED after `since`. */
async function allAcquired(members: SetPartitioner<string>[], since: readonly number[]): Promise<void> {
  for (;;) {
    if (members.every((p, i) => p.acquired && p.stateId > (since[i] ?? -1))) return;
    await Promise.all(
      members.map(async (p) => {
        if (p.failed) throw p.error instanceof Error ? p.error : new Error('partitioner failed');
        if (p.released) await p.release();
        else await p.waitForAcquire({ timeout: 20 });
      }),
    );
  }
}

function partitionerWorkload(name: 'partitioner_allocate' | 'partitioner_rebalance'): FleetWorkload {
  const rebalance = name === 'partitioner_rebalance';
  return {
    name,
    title: rebalance
      ? 'SetPartitioner re-balance, M members × I items, +1 member'
      : 'SetPartitioner first allocation, M members × I items',
    unit: 'items',
    axis: 'members (× 1,000 items)',
    peers: [KAZOO],
    cases: (scale) =>
      SHAPES.map(([members, items]) => ({
        label: `${members}x${items}`,
        n: members,
        params: { members, items: scaledCount(items, scale, members) },
      })),
    async ours(context, { members, items }) {
      const set = Array.from({ length: items! }, (_, i) => `item-${String(i).padStart(5, '0')}`);
      const sessions = await Promise.all(Array.from({ length: members! + 1 }, () => context.session()));
      const path = `${context.root}/p`;
      const create = (i: number) =>
        new SetPartitioner(sessions[i]!, path, set, { identifier: `m${i}`, timeBoundary: TIME_BOUNDARY_MS });
      let before = await packetsReceived(context.host, context.port);
      let started = performance.now();
      const group = Array.from({ length: members! }, (_, i) => create(i));
      await allAcquired(
        group,
        group.map(() => -1),
      );
      if (rebalance) {
        const since = group.map((p) => p.stateId);
        before = await packetsReceived(context.host, context.port);
        started = performance.now();
        group.push(create(members!));
        await allAcquired(group, [...since, -1]);
      }
      const seconds = (performance.now() - started) / 1000;
      const requests = (await packetsReceived(context.host, context.port)) - before;
      await Promise.all(group.map((p) => p.finish()));
      return { seconds, items: items!, requests_per_item: requests / items! };
    },
    targets: SHAPES.map(([members, items]) => fasterThan(name, `${members}x${items}`, KAZOO, 1)),
  };
}

export const partitionerAllocate = partitionerWorkload('partitioner_allocate');
export const partitionerRebalance = partitionerWorkload('partitioner_rebalance');
