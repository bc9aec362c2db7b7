/** Every workload of the scale suite, in the order the runner runs them. Add yours here. */
import type { FleetWorkload } from '../registry.js';
import { ensurePath } from './ensure-path.js';
import { lockHandover } from './lock-handover.js';
import { partitionerAllocate, partitionerRebalance } from './partitioner.js';
import { lockingQueue, lockingQueueConsumers, lockingQueueFed, queue } from './queues.js';
import { fleetReconnect, reconnect, watchReplay } from './reconnect.js';
import { treeCache } from './tree-cache.js';

export const FLEET_WORKLOADS: readonly FleetWorkload[] = [
  lockingQueue,
  lockingQueueFed,
  lockingQueueConsumers,
  queue,
  partitionerAllocate,
  partitionerRebalance,
  lockHandover,
  ensurePath,
  treeCache,
  reconnect,
  watchReplay,
  fleetReconnect,
];
