/**
 * zookeeper-coordination: a pure TypeScript ZooKeeper client, coordination recipes and errors.
 * This entry loads neither inversify nor the DI layer: the inversify wiring and the decorators
 * are `zookeeper-coordination/di`, the test kit is `zookeeper-coordination/testing`.
 */
import * as errors from './errors.js';

export { ZooKeeperClient } from './client/client.js';
export type {
  AuthInfo,
  ClientEvents,
  CreateOptions,
  RemovableWatchType,
  RequestOptions,
  StartOptions,
  VersionOptions,
  WatchOptions,
  ZooKeeperClientOptions,
} from './client/client.js';
export { ConnectionState, KeeperState, EventType } from './client/states.js';
export type { WatchEvent, WatchListener } from './client/states.js';
export {
  Perms,
  OPEN_ACL_UNSAFE,
  CREATOR_ALL_ACL,
  READ_ACL_UNSAFE,
  digestId,
  makeAcl,
  makeDigestAcl,
} from './client/acl.js';
export type { ACL, Id } from './client/acl.js';
export type { Stat, ClientInfo, GetDataResult, ChildrenResult } from './client/protocol/records.js';
export { Transaction, TransactionError } from './client/transaction.js';
export type { CreateOpOptions, OpResult, ReadOp, ReadResult } from './client/transaction.js';
export { RetryPolicy, isOutcomeUnknown, isRetryable, isTransientError } from './client/retry.js';
export type { RetryOptions } from './client/retry.js';
export { validatePath } from './client/paths.js';
export type { StreamEvent, ResyncEvent, WatchStreamOptions } from './client/watch-stream.js';
export type { SaslOptions } from './client/sasl/authenticate.js';
export { CreateMode } from './client/create-mode.js';
export { CHANNELS } from './client/diagnostics.js';
export type {
  ConnectContext,
  LockAcquireContext,
  LockEvent,
  LockRecipe,
  OperationContext,
  PartitionRebalanceEvent,
  QueueTakenEvent,
  RequestRetryEvent,
  SessionStateEvent,
  WatchResyncEvent,
  WatchTriggerEvent,
} from './client/diagnostics.js';
export { errors };
export * from './client/errors.js';

// ---- recipes ----
export { Lock } from './recipes/lock/lock.js';
export { MultiLock, type MultiLockAcquireOptions } from './recipes/lock/multi-lock.js';
export { attemptRevoke, REVOKE_MESSAGE } from './recipes/lock/revocation.js';
export type { LockOptions, AcquireOptions } from './recipes/lock/lock.js';
export {
  ReadLock,
  WriteLock,
  type ReadWriteLockOptions,
  type ReadLockOptions,
} from './recipes/lock/read-write-lock.js';
export { Election } from './recipes/election/election.js';
export type { ElectionOptions, Leadership } from './recipes/election/election.js';
export { LeaderLatch } from './recipes/election/leader-latch.js';
export { PersistentNode } from './recipes/node/persistent-node.js';
export type { PersistentNodeOptions, PersistentNodeWaitOptions } from './recipes/node/persistent-node.js';
export { PersistentTtlNode } from './recipes/node/persistent-ttl-node.js';
export type { PersistentTtlNodeOptions } from './recipes/node/persistent-ttl-node.js';
export { SharedValue } from './recipes/values/shared-value.js';
export type { VersionedValue, SharedCallOptions } from './recipes/values/shared-value.js';
export { SharedCount } from './recipes/values/shared-count.js';
export { DistributedAtomicLong } from './recipes/values/distributed-atomic-long.js';
export type {
  AtomicValue,
  PromotedToLock,
  DistributedAtomicLongOptions,
} from './recipes/values/distributed-atomic-long.js';
export type {
  LeaderLatchOptions,
  LeaderLatchEvent,
  LatchParticipant,
  AwaitLeadershipOptions,
} from './recipes/election/leader-latch.js';
export { GroupMember } from './recipes/group/group-member.js';
export type { GroupChange, GroupChangesOptions, GroupWaitOptions } from './recipes/group/group-member.js';
export { AlreadyAcquiredError, NotHeldError, LockLostError, RecipeMismatchError } from './recipes/errors.js';
export { Semaphore } from './recipes/semaphore/semaphore.js';
export type { SemaphoreOptions, SemaphoreAcquireOptions } from './recipes/semaphore/semaphore.js';
export {
  NonBlockingLease,
  encodeLease,
  decodeLease,
  LEASE_VERSION,
} from './recipes/lease/non-blocking-lease.js';
export type {
  NonBlockingLeaseOptions,
  ObtainOptions,
  LeaseData,
} from './recipes/lease/non-blocking-lease.js';
export { MultiNonBlockingLease } from './recipes/lease/multi-non-blocking-lease.js';

export { DataWatch, watchData } from './recipes/watchers/data-watch.js';
export type {
  DataWatchFunc,
  DataWatchOptions,
  DataSnapshot,
  WatchDataOptions,
  WatchStopReason,
} from './recipes/watchers/data-watch.js';
export { ChildrenWatch, watchChildren } from './recipes/watchers/children-watch.js';
export type {
  ChildrenWatchFunc,
  ChildrenWatchOptions,
  ChildrenSnapshot,
  WatchChildrenOptions,
} from './recipes/watchers/children-watch.js';
export { PatientChildrenWatch } from './recipes/watchers/patient-children-watch.js';
export type {
  ChildrenChange,
  PatientChildrenResult,
  PatientStartOptions,
} from './recipes/watchers/patient-children-watch.js';
export { TreeCache } from './recipes/watchers/tree-cache.js';
export type {
  TreeEvent,
  TreeEventType,
  NodeData,
  TreeCacheState,
  TreeCacheOptions,
  TreeEventsOptions,
} from './recipes/watchers/tree-cache.js';
export {
  SetPartitioner,
  PartitionState,
  kazooPartition,
  pythonSorted,
  compareCodePoints,
  memberIdentifier,
} from './recipes/partitioner/set-partitioner.js';
export type {
  SetPartitionerOptions,
  PartitionFunc,
  PartitionItem,
  Assignment,
  WaitOptions,
  SetPartitionerEvents,
} from './recipes/partitioner/set-partitioner.js';
export {
  RecipeStateError,
  OutsideTreeError,
  DuplicateIdentifierError,
  PartitionerFailedError,
} from './recipes/errors.js';
export { SessionLostError, OutcomeUnknownError } from './recipes/errors.js';
export { Barrier } from './recipes/barrier/barrier.js';
export type { BarrierOptions, BarrierWaitOptions, BarrierCallOptions } from './recipes/barrier/barrier.js';
export { DoubleBarrier } from './recipes/barrier/double-barrier.js';
export type { DoubleBarrierOptions, DoubleBarrierWaitOptions } from './recipes/barrier/double-barrier.js';
export {
  Counter,
  encodeCounterValue,
  decodeCounterValue,
  pythonFloatRepr,
  COUNTER_MARKER_PREFIX,
} from './recipes/counter/counter.js';
export type {
  CounterOptions,
  CounterCallOptions,
  CounterChange,
  CounterType,
} from './recipes/counter/counter.js';
export { Party, PARTY_NODE_NAME } from './recipes/party/party.js';
export { ShallowParty } from './recipes/party/shallow-party.js';
export type { BaseParty, PartyOptions, PartyCallOptions } from './recipes/party/base-party.js';
export { Queue } from './recipes/queue/queue.js';
export type { QueueCallOptions, QueueOptions } from './recipes/queue/queue.js';
export {
  FOLLOW_IDLE_MS,
  LockingQueue,
  LOCK_AHEAD_MS,
  QUEUE_MARKER_PREFIX,
} from './recipes/queue/locking-queue.js';
export { SimpleDistributedQueue } from './recipes/queue/simple-distributed-queue.js';
export type {
  SimpleDistributedQueueOptions,
  SimpleQueueCallOptions,
} from './recipes/queue/simple-distributed-queue.js';
export { CuratorQueue } from './recipes/queue/curator-queue.js';
export type {
  DistributedQueueOptions,
  DistributedQueueCallOptions,
  QueuePut,
} from './recipes/queue/curator-queue.js';
export { DistributedQueue } from './recipes/queue/distributed-queue.js';
export { DistributedPriorityQueue, priorityToString } from './recipes/queue/distributed-priority-queue.js';
export { DistributedDelayQueue, epochToString } from './recipes/queue/distributed-delay-queue.js';
export type { LockingQueueGetOptions, LockingQueueCallOptions } from './recipes/queue/locking-queue.js';
// ---- service discovery (curator-x-discovery) ----
export { ServiceDiscovery } from './recipes/discovery/service-discovery.js';
export type { ServiceDiscoveryOptions, DiscoveryCallOptions } from './recipes/discovery/service-discovery.js';
export { ServiceCache } from './recipes/discovery/service-cache.js';
export type { ServiceCacheChange, ServiceCacheChangesOptions } from './recipes/discovery/service-cache.js';
export { ServiceProvider } from './recipes/discovery/service-provider.js';
export type { ServiceProviderOptions } from './recipes/discovery/service-provider.js';
export { providerStrategy } from './recipes/discovery/provider-strategy.js';
export type { ProviderStrategy, StrategyName } from './recipes/discovery/provider-strategy.js';
export type { DownInstancePolicy } from './recipes/discovery/down-instances.js';
export { serviceInstance, buildUri } from './recipes/discovery/service-instance.js';
export type {
  ServiceInstance,
  ServiceInstanceInput,
  ServiceType,
  JsonValue,
} from './recipes/discovery/service-instance.js';
export { JsonInstanceSerializer } from './recipes/discovery/json-instance-serializer.js';
export type {
  InstanceSerializer,
  JsonInstanceSerializerOptions,
} from './recipes/discovery/json-instance-serializer.js';
export { springCloudZookeeper, dubbo3 } from './recipes/discovery/presets.js';
export type {
  DiscoveryPreset,
  PresetInstanceOptions,
  ZookeeperInstancePayload,
} from './recipes/discovery/presets.js';
