/**
 * What the library publishes on `node:diagnostics_channel` (DESIGN.md, Observability): one
 * TracingChannel per request and per connection attempt, plain channels for session state,
 * watches and retries, and the recipes' lock, leader, partition and queue events. APM tools and
 * the OpenTelemetry adapter (`zookeeper-coordination/otel`) subscribe by name, as they do to
 * undici's or ioredis' channels; nothing is built or published unless a channel has a
 * subscriber (`hasSubscribers`), so an unobserved client pays one property read per request.
 *
 * Contexts never hold node data: an operation's context says what was asked and how it ended
 * (`zxid`, `errorCode`), not what was read.
 *
 * A leaf module like errors.ts (it imports nothing else of the library), so every layer may use it.
 *
 * @example
 *   import diagnostics_channel from 'node:diagnostics_channel';
 *   import { CHANNELS, type OperationContext } from 'zookeeper-coordination';
 *   diagnostics_channel.tracingChannel<OperationContext>(CHANNELS.operation).subscribe({
 *     start(ctx) {}, end() {}, asyncStart() {}, error(ctx) {},
 *     asyncEnd(ctx) { console.log(ctx.operation, ctx.path, ctx.errorCode ?? 'ok') },
 *   });
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { ZooKeeperError } from './errors.js';

/** Every channel name the library publishes on. */
export const CHANNELS = {
  /** TracingChannel, one trace per request: `OperationContext`. */
  operation: 'zookeeper-coordination:operation',
  /** TracingChannel, one trace per connection attempt (socket + ConnectRequest/Response): `ConnectContext`. */
  connect: 'zookeeper-coordination:connect',
  /** The session's state changed: `SessionStateEvent`. */
  sessionState: 'zookeeper-coordination:session:state',
  /** A server watch fired: `WatchTriggerEvent`, one per local watch table it fired in. */
  watchTrigger: 'zookeeper-coordination:watch:trigger',
  /** Listeners were told to re-read what they watch (reconnect, session loss): `WatchResyncEvent`. */
  watchResync: 'zookeeper-coordination:watch:resync',
  /** A retry policy is about to try again: `RequestRetryEvent`. */
  requestRetry: 'zookeeper-coordination:request:retry',
  /** TracingChannel, one trace per lock acquire (its duration is the wait): `LockAcquireContext`. */
  lockAcquire: 'zookeeper-coordination:lock:acquire',
  /** A lock (or leadership, or read/write lock) is held: `LockEvent`. */
  lockAcquired: 'zookeeper-coordination:lock:acquired',
  /** A held lock was released: `LockEvent` with `heldMs`. */
  lockReleased: 'zookeeper-coordination:lock:released',
  /** A held lock went with its session: `LockEvent` with `heldMs`. */
  lockLost: 'zookeeper-coordination:lock:lost',
  /** An Election instance became leader: `LockEvent`. */
  electionLeader: 'zookeeper-coordination:election:leader',
  /** A SetPartitioner acquired a new split: `PartitionRebalanceEvent`. */
  partitionRebalance: 'zookeeper-coordination:partition:rebalance',
  /** A queue entry was taken (consumed, or locked by a LockingQueue): `QueueTakenEvent`. */
  queueTaken: 'zookeeper-coordination:queue:taken',
} as const;

/** A request's trace. The client sets the first fields, the connection the ones known once it is written and answered. */
export interface OperationContext {
  /** The client method: `'get'`, `'create'`, `'getChildren'`, `'multi'`, ... */
  operation: string;
  /** The client path (without the chroot); undefined for pathless calls (multi, whoAmI). */
  path: string | undefined;
  /** The client's chroot ('' when none). */
  chroot: string;
  /** Operations in a `multi` or `multiRead`. */
  batchSize?: number;
  /** The session the request was sent in (set at `start` too, 0n before the first connection). */
  sessionId: bigint;
  /** The request's xid, from when it is written (a request queued while disconnected has none at `start`). */
  xid: number | undefined;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  /** The connection is to a read-only server. */
  readOnly: boolean;
  /** The watch table a watch was registered in by this request's reply, if it set one. */
  watch?: string;
  /** The reply's zxid (present when a reply arrived). */
  zxid?: bigint;
  /**
   * On failure: the error and its code — ZooKeeper's number for a server error (NoNode = -101,
   * ConnectionLoss = -4), the library's string for a client-side one (`ZK_TIMEOUT`, `ZK_ABORTED`, ...).
   */
  error?: unknown;
  errorCode?: number | string;
}

/** A connection attempt's trace: from the socket's connect to the ConnectResponse. */
export interface ConnectContext {
  serverAddress: string;
  serverPort: number;
  /** The session machine's attempt number (grows by one per attempt, over the client's life). */
  attempt: number;
  /** The client had been connected before (this is a reconnect). */
  reconnect: boolean;
  tls: boolean;
  /** The session asked for (0n: a new one); on success the session granted. */
  sessionId: bigint;
  /** On success: the negotiated session timeout (0: the session had expired) and whether the server is read-only. */
  sessionTimeout?: number;
  readOnly?: boolean;
  error?: unknown;
  errorCode?: number | string;
}

/** Published on `CHANNELS.sessionState` when a client's connection state or keeper state changes. */
export interface SessionStateEvent {
  /** The kazoo-style state before and after (equal when only the keeper state changed). */
  from: string;
  to: string;
  keeperState: string;
  sessionId: bigint;
}

/** Published on `CHANNELS.watchTrigger` once per local watch table a server event fired in. */
export interface WatchTriggerEvent {
  /** The session whose watch fired. */
  sessionId: bigint;
  /** The event type (`NodeDataChanged`, ...). */
  type: string;
  /** The path the event is about (client form). */
  path: string;
  /** The local watch table it fired in: data, exist, child, persistent, persistentRecursive. */
  kind: string;
  /** The path the watch was set on (an ancestor of `path` for a recursive watch). */
  watchPath: string;
  /** How many listeners it reaches. */
  listeners: number;
}

/** Published on `CHANNELS.watchResync` when listeners are told to re-read (reconnect) or that their session ended. */
export interface WatchResyncEvent {
  /** `reconnected`: the session survived, persistent listeners re-read; `sessionLost`: every listener was told. */
  reason: 'reconnected' | 'sessionLost';
  keeperState: string;
  /** Listeners that got the resync marker. */
  listeners: number;
}

/** Published on `CHANNELS.requestRetry` before a retry policy tries a failed request again. */
export interface RequestRetryEvent {
  /** `retryPolicy` (client.retry), `withinDeadline` or `untilSessionEnds` (recipe steps). */
  policy: string;
  /** The try that failed, 1 for the first. */
  attempt: number;
  /** The pause before the next try, ms. */
  delay: number;
  error: unknown;
  errorCode: number | string | undefined;
}

/** Which lock-shaped recipe. */
export type LockRecipe = 'Lock' | 'ReadLock' | 'WriteLock' | 'Election';

/** The context of a `CHANNELS.lockAcquire` trace: one `acquire()` of a lock-shaped recipe, from call to answer. */
export interface LockAcquireContext {
  recipe: LockRecipe;
  path: string;
  /** On completion: whether it was acquired, and then its node and fencing token. */
  acquired?: boolean;
  node?: string | undefined;
  fencingToken?: bigint | undefined;
  error?: unknown;
}

/** Published on `CHANNELS.lockAcquired`, `lockReleased` and `lockLost` (and `electionLeader`) for one contender node. */
export interface LockEvent {
  recipe: LockRecipe;
  /** The lock directory. */
  path: string;
  /** Our contender node's full path. */
  node: string | undefined;
  fencingToken: bigint | undefined;
  /** For released / lost: how long it was held, ms. */
  heldMs?: number;
}

/** Published on `CHANNELS.partitionRebalance` when a SetPartitioner member reaches its acquired state. */
export interface PartitionRebalanceEvent {
  path: string;
  /** Every member's identifier, in order. */
  members: readonly string[];
  /** The partitions this member acquired. */
  partitions: readonly string[];
}

/** Published on `CHANNELS.queueTaken` when a Queue or LockingQueue hands an entry to its caller. */
export interface QueueTakenEvent {
  recipe:
    | 'Queue'
    | 'LockingQueue'
    | 'SimpleDistributedQueue'
    | 'DistributedQueue'
    | 'DistributedPriorityQueue'
    | 'DistributedDelayQueue';
  path: string;
  /** The entry taken (its node name). */
  node: string;
}

/** The channels, made once. */
export const operationChannel = diagnostics_channel.tracingChannel<unknown, OperationContext>(
  CHANNELS.operation,
);
export const connectChannel = diagnostics_channel.tracingChannel<unknown, ConnectContext>(CHANNELS.connect);
export const lockAcquireChannel = diagnostics_channel.tracingChannel<unknown, LockAcquireContext>(
  CHANNELS.lockAcquire,
);
export const sessionStateChannel = diagnostics_channel.channel(CHANNELS.sessionState);
export const watchTriggerChannel = diagnostics_channel.channel(CHANNELS.watchTrigger);
export const watchResyncChannel = diagnostics_channel.channel(CHANNELS.watchResync);
export const requestRetryChannel = diagnostics_channel.channel(CHANNELS.requestRetry);
export const lockAcquiredChannel = diagnostics_channel.channel(CHANNELS.lockAcquired);
export const lockReleasedChannel = diagnostics_channel.channel(CHANNELS.lockReleased);
export const lockLostChannel = diagnostics_channel.channel(CHANNELS.lockLost);
export const electionLeaderChannel = diagnostics_channel.channel(CHANNELS.electionLeader);
export const partitionRebalanceChannel = diagnostics_channel.channel(CHANNELS.partitionRebalance);
export const queueTakenChannel = diagnostics_channel.channel(CHANNELS.queueTaken);

/** A TracingChannel's events for one context. */
interface Traced<C extends object> {
  start: { publish(ctx: C): void };
  end: { publish(ctx: C): void };
  asyncStart: { publish(ctx: C): void };
  asyncEnd: { publish(ctx: C): void };
  error: { publish(ctx: C): void };
}

/**
 * Trace `promise` (already started: `start`/`end` are published around `begin`) the way
 * `tracePromise` does — `error` then `asyncStart`/`asyncEnd` on failure, `asyncStart`/`asyncEnd`
 * on success — but without storing the resolved value on the context (a read's data must not
 * reach subscribers). `onDone` completes the context first (zxid, acquired, ...).
 */
export function traceAsync<C extends { error?: unknown; errorCode?: number | string }, T>(
  channel: Traced<NoInfer<C>>,
  ctx: C,
  begin: () => Promise<T>,
  onDone?: (ctx: C, value: T) => void,
): Promise<T> {
  channel.start.publish(ctx);
  let promise: Promise<T>;
  try {
    promise = begin();
  } catch (error) {
    failed(channel, ctx, error);
    throw error;
  } finally {
    channel.end.publish(ctx);
  }
  return promise.then(
    (value) => {
      onDone?.(ctx, value);
      channel.asyncStart.publish(ctx);
      channel.asyncEnd.publish(ctx);
      return value;
    },
    (error: unknown) => {
      failed(channel, ctx, error);
      channel.asyncStart.publish(ctx);
      channel.asyncEnd.publish(ctx);
      throw error;
    },
  );
}

function failed<C extends { error?: unknown; errorCode?: number | string }>(
  channel: Traced<C>,
  ctx: C,
  error: unknown,
): void {
  ctx.error = error;
  const code = errorCodeOf(error);
  if (code !== undefined) ctx.errorCode = code;
  channel.error.publish(ctx);
}

/** The code of a library error (`ZooKeeperError.code`: a server's number or a client-side string), else undefined. */
export function errorCodeOf(error: unknown): number | string | undefined {
  return error instanceof ZooKeeperError ? error.code : undefined;
}
