/**
 * ensurePath: N paths `<root>/a/b/c/item-<i>` under an existing `<root>/a/b/c`, one after
 * another (a partitioner's item locks have this shape). Only the last component is missing;
 * the requests the server received per path show what each client sends for it.
 */
import { KAZOO, metricAtMost, packetsReceived, scaledCount, type FleetWorkload } from '../registry.js';

export const ensurePath: FleetWorkload = {
  name: 'ensure_path',
  title: 'ensurePath, N paths missing their last node',
  unit: 'paths',
  axis: 'paths',
  peers: [KAZOO],
  cases: (scale) => [{ label: '1000', n: 1000, params: { paths: scaledCount(1000, scale, 2) } }],
  async ours(context, { paths }) {
    const zk = await context.session();
    const base = `${context.root}/a/b/c`;
    await zk.ensurePath(base);
    const before = await packetsReceived(context.host, context.port);
    const started = performance.now();
    for (let i = 0; i < paths!; i++) await zk.ensurePath(`${base}/item-${i}`);
    const seconds = (performance.now() - started) / 1000;
    const requests = (await packetsReceived(context.host, context.port)) - before;
    return { seconds, items: paths!, requests_per_path: requests / paths! };
  },
  // kazoo: exists(path), exists(parent), create(path).
  // ≤ 3.05: mntr also counts the session's pings (one per 3.3 s).
  targets: [metricAtMost('ensure_path', '1000', 'requests_per_path', 3.05)],
};
