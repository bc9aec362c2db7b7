import { EventEmitter, setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { ZooKeeperClient } from '../../client/client.js';
import { partitionRebalanceChannel, type PartitionRebalanceEvent } from '../../client/diagnostics.js';
import { AbortError, ClientClosedError, InvalidArgumentError, NoNodeError } from '../../client/errors.js';
import { joinPath, validatePath } from '../../client/paths.js';
import { ConnectionState } from '../../client/states.js';
import { checkDuration, startTimer } from '../../client/timer.js';
import { remaining } from '../../client/retry.js';
import { deadlineOf } from '../change-waiter.js';
import { DuplicateIdentifierError, PartitionerFailedError } from '../errors.js';
import { Lock } from '../lock/lock.js';
import { ShallowParty } from '../party/shallow-party.js';
import { PatientChildrenWatch, type PatientChildrenResult } from '../watchers/patient-children-watch.js';
import { retryForever } from '../watchers/retry-forever.js';

/** A SetPartitioner's state, as kazoo's: ALLOCATING, ACQUIRED, RELEASE, FAILURE. */
export const PartitionState = {
  /** The set is being (re)partitioned; locks are being acquired. */
  ALLOCATING: 'ALLOCATING',
  /** Our share is locked and ours: work on it. */
  ACQUIRED: 'ACQUIRED',
  /** The split must change (membership or connection changed): stop working, call `release()`. */
  RELEASE: 'RELEASE',
  /** Terminal: finished, session lost, or an unrecoverable error. Create a new partitioner. */
  FAILURE: 'FAILURE',
} as const;
export type PartitionState = (typeof PartitionState)[keyof typeof PartitionState];

/** How many item locks an allocation acquires at once (pipelined; each is still bounded by `maxReactionTime`). */
const LOCK_WINDOW = 32;
/** A bound on the abort listeners one item lock's acquire adds to the allocation's signal. */
const LISTENERS_PER_LOCK = 8;

/** A work item of a SetPartitioner: a string or a number (kazoo compares them as Python does). */
export type PartitionItem = string | number;

/** `(our identifier, every member's identifier, the set) → our share` (kazoo's `partition_func`). */
export type PartitionFunc<T extends PartitionItem> = (
  identifier: string,
  members: string[],
  items: readonly T[],
) => Iterable<T>;

/** Options of `new SetPartitioner(...)`: identifier, time boundary, partition function. */
export interface SetPartitionerOptions<T extends PartitionItem> {
  /** Our member identifier; must be unique in the party and a valid node-name part. Default `<hostname>-<pid>` (kazoo's). */
  identifier?: string;
  /** How to split the set. Default: kazoo's round-robin (`kazooPartition`). */
  partitionFunc?: PartitionFunc<T>;
  /** How long membership must be stable before allocating, ms. Default 30000 (kazoo's 30 s). */
  timeBoundary?: number;
  /** Bound of each item-lock attempt, ms (how fast a change during locking is noticed). Default 1000. */
  maxReactionTime?: number;
}

/** One ACQUIRED period, as the async iterator yields it. */
export interface Assignment<T extends PartitionItem> {
  /** The items we own. */
  readonly items: readonly T[];
  /** Aborts when this assignment ends (RELEASE or FAILURE): stop working on the items. */
  readonly signal: AbortSignal;
  /** The partitioner's `stateId` when the assignment started. */
  readonly stateId: number;
}

/** Options of a wait (`waitForAcquire`, `waitForLeave`): timeout and signal. */
export interface WaitOptions {
  /** Give up after this many ms (`Infinity`: never): resolves `false`. */
  timeout?: number;
  /** Rejects with `AbortError`. */
  signal?: AbortSignal;
}

/** The events of a SetPartitioner: each state change, with its state id. */
export interface SetPartitionerEvents {
  /** Every state change (kazoo's `state_change_event`), with the new `stateId`. */
  state: [state: PartitionState, stateId: number];
}

/** Python's `sorted()` for a set of strings or numbers (never mixed: Python raises TypeError). */
export function pythonSorted<T extends PartitionItem>(items: Iterable<T>): T[] {
  const list = [...items];
  const numbers = list.filter((item) => typeof item === 'number').length;
  if (numbers !== 0 && numbers !== list.length) {
    throw new InvalidArgumentError(
      "the set mixes strings and numbers, which Python cannot sort ('<' not supported between str and int)",
    );
  }
  return numbers === 0
    ? list.sort((a, b) => compareCodePoints(a as string, b as string))
    : list.sort((a, b) => (a as number) - (b as number));
}

/** Compare strings by Unicode code point (Python's str order; JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  const restA = a.length - i;
  const restB = b.length - j;
  return restA === restB ? 0 : restA < restB ? -1 : 1;
}

/**
 * kazoo's default partition function: `sorted(items)[i::len(members)]` where `i` is our index
 * in `sorted(members)`. `InvalidArgumentError` when we are not a member (kazoo's ValueError).
 */
export function kazooPartition<T extends PartitionItem>(
  identifier: string,
  members: string[],
  items: readonly T[],
): T[] {
  const all = pythonSorted(items);
  const workers = [...members].sort(compareCodePoints);
  const index = workers.indexOf(identifier);
  if (index === -1) throw new InvalidArgumentError(`${JSON.stringify(identifier)} is not in the member list`);
  return all.filter((_, k) => k >= index && (k - index) % workers.length === 0);
}

/** A ShallowParty member's identifier: the text after the first `-` of its node name. */
export function memberIdentifier(node: string): string {
  return node.slice(node.indexOf('-') + 1);
}

/**
 * SetPartitioner: divide a fixed set of items among the live members of a party so that each
 * item is owned (locked) by exactly one member, re-dividing when membership changes — kazoo's
 * `SetPartitioner`, wire-compatible: kazoo and TypeScript members can share one party.
 *
 * Znode layout (kazoo 2.8):
 * - `<path>`, `<path>/locks`, `<path>/party`: persistent, empty.
 * - Member: a ShallowParty node `<path>/party/<32hex>-<identifier>` (our `ShallowParty`),
 *   ephemeral, data = identifier (UTF-8). A member's identifier is the text after the first `-`.
 * - Item lock: a kazoo `Lock` with no identifier at `<path>/locks/<String(item)>`, i.e.
 *   `<path>/locks/<item>/<32hex>__lock__<seq>` (ephemeral + sequential, empty data).
 *
 * States (kazoo's machine): ALLOCATING → ACQUIRED → RELEASE → (`release()`) ALLOCATING …, and
 * FAILURE (terminal). Allocation: wait until the party's children have been stable for
 * `timeBoundary` ms (PatientChildrenWatch), compute our share with `partitionFunc` over a fresh
 * member list, then lock each item of the share (each attempt bounded by `maxReactionTime`, so
 * a membership change during locking is noticed: the locks are released and allocation starts
 * over). All locks held and nothing changed → ACQUIRED. A membership change while ACQUIRED →
 * RELEASE: stop using the items and call `release()` (the locks are held until then, which is
 * what keeps two members from ever owning an item at once).
 *
 * The default partition function is kazoo's: sort the items (numbers numerically, strings by
 * code point, like Python's `sorted`), sort the member identifiers by code point, and take every
 * n-th item starting at our index. A kazoo member and ours therefore compute the same split.
 * Interop sets must be strings or integers (`String(1.0)` is `"1"`, Python's `str(1.0)` is `"1.0"`).
 *
 * SUSPENDED (and the following CONNECTED): RELEASE, as kazoo — ownership is uncertain while
 * disconnected; after `release()` a full re-allocation (≥ `timeBoundary`) follows.
 * LOST: FAILURE (`error` is a PartitionerFailedError); the party node and the locks died with the
 * session. Create a new partitioner.
 *
 * Deviations from kazoo: two members with the same identifier are a `DuplicateIdentifierError`
 * for the one that joined last (by party-node czxid), which leaves the party, instead of a stuck
 * allocation (the first one waits for it to leave; a kazoo duplicate cannot be made to leave, so
 * that case still stalls the older member until the kazoo one goes away); our party node deleted
 * externally, or a partition function that throws, is a FAILURE with the error instead of a stuck
 * ALLOCATING; `release()` while allocating restarts the allocation (kazoo would race two);
 * `items` (kazoo's `iter(partitioner)`) lists the share only while ACQUIRED; times are ms.
 *
 * @example
 *   const partitioner = new SetPartitioner(zk, '/work-queues', ['q1', 'q2', 'q3'], { identifier: 'worker-1' });
 *   for await (const { items, signal } of partitioner) {
 *     await Promise.all(items.map((queue) => consume(queue, { signal }))); // until the split changes
 *   } // leaving the loop (or FAILURE) ends membership
 *
 * @example kazoo's loop
 *   while (!p.failed) {
 *     if (p.released) await p.release();
 *     else if (p.acquired) { for (const item of p.items) work(item); await p.waitForChange(); }
 *     else await p.waitForAcquire();
 *   }
 */
export class SetPartitioner<T extends PartitionItem = PartitionItem>
  extends EventEmitter<SetPartitionerEvents>
  implements AsyncIterable<Assignment<T>>
{
  readonly path: string;
  readonly identifier: string;
  /** The set, deduplicated, in the order given. */
  readonly set: readonly T[];
  /** Resolves once the paths exist and we joined the party (or the partitioner failed first). */
  readonly ready: Promise<void>;
  private readonly lockPath: string;
  private readonly partyPath: string;
  /** Our membership: a ShallowParty node `<32hex>-<identifier>` (no auto re-join: LOST is FAILURE). */
  private readonly party: ShallowParty;
  private readonly partitionFunc: PartitionFunc<T>;
  private readonly timeBoundary: number;
  private readonly maxReactionTime: number;
  private stateValue: PartitionState = PartitionState.ALLOCATING;
  private stateIdValue = 0;
  private errorValue: unknown;
  private partition: T[] = [];
  private locks: Lock[] = [];
  private assignment: { value: Assignment<T>; controller: AbortController } | undefined;
  /** The allocation in progress (from the patient watch through the ACQUIRED period). */
  private run: AbortController | undefined;
  private runDone: Promise<void> = Promise.resolve();
  /** Serialises release() / finish(). */
  private ops: Promise<void> = Promise.resolve();

  private readonly onState = (state: ConnectionState) => {
    if (this.stateValue === PartitionState.FAILURE) return;
    if (state === ConnectionState.LOST) {
      this.client.off('state', this.onState);
      void this.failOut(
        new PartitionerFailedError('the session was lost: our party node and item locks are gone', {
          path: this.path,
        }),
      );
    } else if (this.stateValue !== PartitionState.RELEASE) {
      this.setState(PartitionState.RELEASE);
    }
  };

  constructor(
    readonly client: ZooKeeperClient,
    path: string,
    set: Iterable<T>,
    options: SetPartitionerOptions<T> = {},
  ) {
    super();
    validatePath(path, 'SetPartitioner');
    this.path = path;
    this.lockPath = joinPath(path, 'locks');
    this.partyPath = joinPath(path, 'party');
    this.identifier = String(options.identifier ?? `${hostname()}-${process.pid}`);
    if (this.identifier.includes('/'))
      throw new InvalidArgumentError('identifier must not contain "/"', { op: 'SetPartitioner', path });
    this.party = new ShallowParty(client, this.partyPath, { identifier: this.identifier, autoRejoin: false });
    const items: T[] = [];
    for (const item of new Set(set)) {
      if (typeof item !== 'string' && !(typeof item === 'number' && Number.isFinite(item))) {
        throw new InvalidArgumentError(`set items must be strings or finite numbers, got ${String(item)}`, {
          op: 'SetPartitioner',
          path,
        });
      }
      const name = String(item);
      if (name === '' || name.includes('/'))
        throw new InvalidArgumentError(`set item ${JSON.stringify(name)} is not a valid node name`, {
          op: 'SetPartitioner',
          path,
        });
      validatePath(joinPath(this.lockPath, name), 'SetPartitioner');
      items.push(item);
    }
    this.set = items;
    this.partitionFunc = options.partitionFunc ?? kazooPartition;
    this.timeBoundary = checkMs('timeBoundary', options.timeBoundary ?? 30_000, path);
    this.maxReactionTime = checkMs('maxReactionTime', options.maxReactionTime ?? 1_000, path);
    this.ready = this.init();
  }

  // ---- state ----

  get state(): PartitionState {
    return this.stateValue;
  }

  /** Incremented on every state change (tells two periods with the same state apart). */
  get stateId(): number {
    return this.stateIdValue;
  }

  get allocating(): boolean {
    return this.stateValue === PartitionState.ALLOCATING;
  }

  get acquired(): boolean {
    return this.stateValue === PartitionState.ACQUIRED;
  }

  /** kazoo's `release` property: the state is RELEASE (call `release()`). */
  get released(): boolean {
    return this.stateValue === PartitionState.RELEASE;
  }

  get failed(): boolean {
    return this.stateValue === PartitionState.FAILURE;
  }

  /** Why the partitioner failed (undefined after a plain `finish()`). */
  get error(): unknown {
    return this.errorValue;
  }

  /** Our party node's full path. */
  get memberPath(): string {
    return this.party.nodePath;
  }

  /**
   * The items we own (kazoo's `list(partitioner)`): the current share while ACQUIRED, empty
   * otherwise. (The partitioner itself is an *async* iterable of assignments; a class that is
   * both sync and async iterable makes TypeScript pick the sync element type for `for await`.)
   */
  get items(): readonly T[] {
    return this.stateValue === PartitionState.ACQUIRED ? this.partition : [];
  }

  /**
   * Wait for ACQUIRED: `true` once acquired; `false` when the state moved to RELEASE instead
   * (call `release()`), or the timeout passed. Rejects with the failure (DuplicateIdentifierError,
   * PartitionerFailedError, …) on FAILURE, and with `AbortError` when `signal` aborts.
   */
  async waitForAcquire(options: WaitOptions = {}): Promise<boolean> {
    const { timeout, signal } = options;
    const deadline = deadlineOf(timeout, { op: 'waitForAcquire', path: this.path });
    for (;;) {
      switch (this.stateValue) {
        case PartitionState.ACQUIRED:
          return true;
        case PartitionState.RELEASE:
          return false;
        case PartitionState.FAILURE:
          throw this.failure();
        default:
          // A state change (e.g. RELEASE → ALLOCATING by release()) may come after the deadline.
          if (!(await this.waitForChange({ signal, timeout: atLeastZero(remaining(deadline)) })))
            return false;
      }
    }
  }

  /** Resolve `true` at the next state change, `false` if the timeout passes first; `AbortError` on abort. */
  waitForChange(options: WaitOptions = {}): Promise<boolean> {
    const { timeout, signal } = options;
    return new Promise((resolve, reject) => {
      if (timeout !== undefined) checkDuration(timeout, { op: 'waitForChange', path: this.path });
      if (signal?.aborted)
        return reject(new AbortError(signal.reason, { op: 'waitForChange', path: this.path }));
      if (timeout !== undefined && timeout <= 0) return resolve(false);
      const done = (value: boolean | Error) => {
        timer?.cancel();
        this.off('state', onChange);
        signal?.removeEventListener('abort', onAbort);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      const onChange = () => done(true);
      const onAbort = () => done(new AbortError(signal?.reason, { op: 'waitForChange', path: this.path }));
      const timer = timeout === undefined ? undefined : startTimer(timeout, () => done(false));
      this.on('state', onChange);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Release our item locks and start a new allocation (kazoo's `release_set()`). A no-op once
   * FAILURE. If a lock cannot be released the partitioner fails.
   */
  release(): Promise<void> {
    return this.serial(async () => {
      await this.ready;
      if (this.stateValue === PartitionState.FAILURE) return;
      await this.stopRun();
      await this.releaseLocks();
      if (this.locks.length > 0) {
        await this.failOut(
          new PartitionerFailedError('could not release every item lock', { path: this.path }),
        );
        return;
      }
      if (this.failed) return; // the session may have been lost meanwhile
      this.setState(PartitionState.ALLOCATING);
      this.startAllocation();
    });
  }

  /** Release every lock, leave the party, FAILURE. Idempotent. */
  finish(): Promise<void> {
    return this.serial(async () => {
      await this.ready;
      await this.stopRun();
      await this.releaseLocks();
      await this.failOut(undefined);
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.finish();
  }

  /**
   * Each new assignment, as `{ items, signal }`. Between assignments it calls `release()` itself
   * when the state is RELEASE (i.e. once you ask for the next one). Ends after `finish()`;
   * throws the failure otherwise (session lost, duplicate identifier…). Leaving the loop calls
   * `finish()`.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Assignment<T>, void, undefined> {
    let last: Assignment<T> | undefined;
    try {
      for (;;) {
        switch (this.stateValue) {
          case PartitionState.FAILURE:
            if (this.errorValue === undefined) return;
            throw this.errorValue;
          case PartitionState.RELEASE:
            await this.release();
            break;
          case PartitionState.ACQUIRED: {
            const current = this.assignment?.value;
            if (current !== undefined && current !== last) {
              last = current;
              yield current;
            } else await this.waitForChange();
            break;
          }
          default:
            await this.waitForChange();
        }
      }
    } finally {
      await this.finish();
    }
  }

  // ---- internals ----

  private failure(): Error {
    if (this.errorValue instanceof Error) return this.errorValue;
    return new PartitionerFailedError('the partitioner was finished', { path: this.path });
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const next = this.ops.then(task);
    this.ops = next.catch(() => {});
    return next;
  }

  private setState(state: PartitionState): void {
    const previous = this.stateValue;
    this.stateValue = state;
    this.stateIdValue++;
    if (previous === PartitionState.ACQUIRED && this.assignment) {
      this.assignment.controller.abort(
        new PartitionerFailedError(`the assignment ended: ${state}`, { path: this.path }),
      );
      this.assignment = undefined;
    }
    if (state === PartitionState.ACQUIRED) {
      const controller = new AbortController();
      this.assignment = {
        controller,
        value: { items: [...this.partition], signal: controller.signal, stateId: this.stateIdValue },
      };
    }
    try {
      this.emit('state', state, this.stateIdValue);
    } catch (error) {
      this.client.logger.error(
        `SetPartitioner ${this.path}: a state listener threw: ${(error as Error)?.stack ?? String(error)}`,
      );
    }
  }

  private async init(): Promise<void> {
    try {
      for (const path of [this.path, this.lockPath, this.partyPath])
        await retryForever(this.client, () => this.client.ensurePath(path));
      await retryForever(this.client, () => this.party.join()); // kazoo: client.retry(join), through expiry too
      if (this.stateValue === PartitionState.FAILURE) return; // finished meanwhile: finish() leaves
      this.client.on('state', this.onState);
      this.startAllocation();
    } catch (error) {
      await this.failOut(error);
    }
  }

  /** Abort the allocation in progress and wait until it has stopped touching locks. */
  private async stopRun(): Promise<void> {
    const run = this.run;
    this.run = undefined; // so that it does not start another one
    run?.abort();
    await this.runDone;
  }

  private startAllocation(): void {
    this.run?.abort();
    const run = new AbortController();
    // Every item lock in flight listens on it: its acquire, its requests, its wait.
    setMaxListeners(LISTENERS_PER_LOCK * LOCK_WINDOW + 16, run.signal);
    this.run = run;
    this.runDone = (async () => {
      try {
        const stable = await new PatientChildrenWatch(this.client, this.partyPath, this.timeBoundary).start({
          signal: run.signal,
        });
        await this.allocate(stable, run);
      } catch (error) {
        if (run.signal.aborted) return;
        await this.failOut(error);
      }
    })();
  }

  /** kazoo's `_allocate_transition`: the party has been stable for the time boundary. */
  private async allocate({ changed }: PatientChildrenResult, run: AbortController): Promise<void> {
    const signal = run.signal;
    if (this.stateValue !== PartitionState.ALLOCATING) return; // a connection event moved us on
    const stateId = this.stateIdValue;
    let childrenChanged = false;
    void changed.then(({ reason }) => {
      if (reason === 'cancelled' || signal.aborted) return;
      childrenChanged = true;
      if (this.stateValue === PartitionState.ACQUIRED) this.setState(PartitionState.RELEASE);
    });

    /** True when this allocation must stop (it then restarted, or moved to RELEASE). */
    const abortIfNeeded = async (): Promise<boolean> => {
      if (signal.aborted) return true;
      if (this.stateIdValue === stateId) {
        if (!childrenChanged) return false;
        await this.restartAllocation(run); // the party changed: repartition
        return true;
      }
      if (this.stateValue === PartitionState.ALLOCATING || this.stateValue === PartitionState.ACQUIRED)
        this.setState(PartitionState.RELEASE);
      return true;
    };

    // A fresh member list, not the stable snapshot (kazoo).
    const children = await retryForever(
      this.client,
      () => this.client.getChildren(this.partyPath, { signal }),
      signal,
    );
    if (!children.includes(this.party.node)) {
      await this.failOut(
        new PartitionerFailedError(`our party node ${this.memberPath} is gone`, { path: this.path }),
      );
      return;
    }
    const twins = children.filter(
      (child) => child !== this.party.node && memberIdentifier(child) === this.identifier,
    );
    if (twins.length > 0) {
      if (await this.joinedLast(twins, signal)) {
        await this.failOut(new DuplicateIdentifierError(this.identifier, { path: this.path }));
        return;
      }
      // We were first: the newcomer fails and leaves; allocate once the party has changed.
      await Promise.race([
        changed,
        new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
      ]);
      await abortIfNeeded();
      return;
    }
    let share: T[];
    try {
      share = [...this.partitionFunc(this.identifier, children.map(memberIdentifier), this.set)];
    } catch (error) {
      await this.failOut(error);
      return;
    }

    // Lock the share, LOCK_WINDOW items at a time (kazoo locks one after the other): every lock
    // is bounded, so a membership change during acquisition is noticed (no deadlock); then
    // `abortIfNeeded` below (the one place that acts on it) restarts or releases.
    const mustStop = () => signal.aborted || this.stateIdValue !== stateId || childrenChanged;
    let failure: { error: unknown } | undefined;
    const items = share[Symbol.iterator]();
    // The item locks that exist (kazoo's Lock never deletes its directory): the others are
    // created with our first node, in its round trip. Unknown (a failed read): any may be missing.
    const existing = await this.client.getChildren(this.lockPath, { signal }).then(
      (names) => new Set(names),
      () => undefined,
    );
    const lockItems = async (): Promise<void> => {
      for (let next = items.next(); !next.done && !mustStop(); next = items.next()) {
        const item = String(next.value);
        const createDirectory = existing?.has(item) !== true;
        const lock = new Lock(this.client, joinPath(this.lockPath, item), { createDirectory });
        for (;;) {
          try {
            if (await lock.acquire({ timeout: this.maxReactionTime, signal })) break;
          } catch (error) {
            if (!signal.aborted) {
              failure = { error };
              run.abort(); // the other workers stop
            }
            return;
          }
          if (mustStop()) return;
        }
        this.locks.push(lock);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOCK_WINDOW, share.length) }, lockItems));
    if (failure) {
      if (this.run === run) this.run = undefined;
      await this.releaseLocks();
      await this.failOut(failure.error);
      return;
    }

    if (this.stateIdValue === stateId && !childrenChanged && !signal.aborted) {
      this.partition = share;
      if (partitionRebalanceChannel.hasSubscribers) {
        const event: PartitionRebalanceEvent = {
          path: this.path,
          members: children.map(memberIdentifier),
          partitions: share.map(String),
        };
        partitionRebalanceChannel.publish(event);
      }
      this.setState(PartitionState.ACQUIRED);
      return;
    }
    if (!(await abortIfNeeded()))
      await this.failOut(new PartitionerFailedError('inconsistent allocation state', { path: this.path }));
  }

  /** Whether our party node is newer than every twin's (then we are the duplicate). */
  private async joinedLast(twins: string[], signal: AbortSignal): Promise<boolean> {
    const czxid = async (node: string) => {
      try {
        return (
          await retryForever(
            this.client,
            () => this.client.exists(joinPath(this.partyPath, node), { signal }),
            signal,
          )
        )?.czxid;
      } catch (error) {
        if (error instanceof NoNodeError) return undefined;
        throw error;
      }
    };
    const ours = await czxid(this.party.node);
    if (ours === undefined) return false; // gone: the next round reports it
    for (const twin of twins) {
      const theirs = await czxid(twin);
      if (theirs !== undefined && theirs < ours) return true;
    }
    return false;
  }

  /** kazoo's `_abort_lock_acquisition`: release what we locked and wait for a stable party again. */
  private async restartAllocation(run: AbortController): Promise<void> {
    if (run.signal.aborted || this.run !== run) return; // stopped from outside: release() / finish() take over
    run.abort(); // cancels its patient watch
    await this.releaseLocks();
    if (this.locks.length > 0) {
      await this.failOut(
        new PartitionerFailedError('could not release every item lock', { path: this.path }),
      );
      return;
    }
    if (this.stateValue === PartitionState.ALLOCATING && this.run === run) this.startAllocation();
  }

  /** Release every item lock we hold (all at once); the ones that could not be released stay listed. */
  private async releaseLocks(): Promise<void> {
    await Promise.all(
      [...this.locks].map(async (lock) => {
        try {
          await lock.release();
          this.locks.splice(this.locks.indexOf(lock), 1);
        } catch (error) {
          if (error instanceof ClientClosedError) this.locks.splice(this.locks.indexOf(lock), 1);
          else
            this.client.logger.warn(
              `SetPartitioner ${this.path}: could not release ${lock.path}: ${String(error)}`,
            );
        }
      }),
    );
  }

  /** kazoo's `_fail_out`: FAILURE, and leave the party. */
  private async failOut(error: unknown): Promise<void> {
    if (error !== undefined && this.errorValue === undefined) this.errorValue = error;
    const run = this.run;
    this.run = undefined;
    run?.abort();
    this.client.off('state', this.onState);
    if (this.stateValue !== PartitionState.FAILURE) this.setState(PartitionState.FAILURE);
    // After a session loss these are dead already (no request is made); otherwise best effort.
    await this.releaseLocks();
    if (this.party.participating) {
      // NoNode (the session took it) or a closed client: we are out either way.
      await this.party.leave().catch(() => {});
    }
  }
}

/** A remaining time that may have passed, as a timeout (0: do not wait). */
function atLeastZero(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.max(0, ms);
}

function checkMs(name: string, value: number, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a number of ms >= 0, got ${String(value)}`, {
      op: 'SetPartitioner',
      path,
    });
  }
  return value;
}
