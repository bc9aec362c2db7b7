/** Every fleet workload, in the order the runner runs them. Add yours here. */
import type { FleetWorkload } from '../registry.js';
import { ensurePath } from './ensure-path.js';
import { lockHandover } from './lock-handover.js';
import { partitionerAllocate, partitionerRebalance } from './partitioner.js';
import { lockingQueue, queue } from './queues.js';

export const FLEET_WORKLOADS: readonly FleetWorkload[] = [
  lockingQueue,
  queue,
  partitionerAllocate,
  partitionerRebalance,
  lockHandover,
  ensurePath,
];
