import PQueue from 'p-queue';
import type { ZooKeeperClient } from '../client/client.js';
import { ConnectionState } from '../client/states.js';
import { sleep } from '../client/retry.js';
import { whenAborted } from './when-aborted.js';
import {
  SetPartitioner,
  type Assignment,
  type PartitionFunc,
  type PartitionItem,
} from '../recipes/partitioner/set-partitioner.js';

/** Options of `new Fleet(...)`: identifier, concurrency, time boundary, partition function. */
export interface FleetOptions<T extends PartitionItem> {
  /** This process's identifier, unique in the fleet. */
  identifier: string;
  /**
   * How many items' work may run at once (default: unbounded). Items beyond it start when
   * earlier work finishes, so with work that runs until its signal aborts, keep it ≥ the share.
   */
  concurrency?: number;
  /** How long membership must be stable before the split is computed, ms. Default 3000. */
  timeBoundary?: number;
  partitionFunc?: PartitionFunc<T>;
}

/**
 * Fleet partitioning: every process of a fleet gives the same set of work items; each item is
 * worked on by exactly one live process, and the split follows the fleet as processes come and
 * go. Built on `SetPartitioner` (kazoo's layout: `<path>/party`, `<path>/locks/<item>`).
 *
 * `assignments()` yields what this process owns, each with an `AbortSignal` that fires when the
 * split changes (a member joined or left, the connection was suspended) — stop that work. `run`
 * does the bookkeeping: it starts `work(item, signal)` for each owned item on a p-queue (bounded
 * concurrency, so a large share cannot overload the process), waits for the work of an ended
 * assignment to settle before the items' locks are released (no item is ever worked on twice at
 * once), and joins again with a new partitioner after a session loss.
 *
 * @example
 *   const fleet = new Fleet(zk, '/fleet/billing', customers, { identifier: hostname(), concurrency: 8 });
 *   await fleet.run(async (customer, signal) => {
 *     while (!signal.aborted) await billNextInvoice(customer, signal);
 *   });
 */
export class Fleet<T extends PartitionItem> implements AsyncDisposable {
  private readonly stopping = new AbortController();
  private partitioner: SetPartitioner<T> | undefined;

  constructor(
    readonly client: ZooKeeperClient,
    readonly path: string,
    readonly items: readonly T[],
    private readonly options: FleetOptions<T>,
  ) {}

  /**
   * The assignments of this process, one after another, until `stop()` or until the client is
   * closed (a closed client never gets a session again). A session loss ends the current
   * partitioner; the next assignment comes from a new one, in the new session.
   */
  async *assignments(): AsyncGenerator<Assignment<T>, void, undefined> {
    const stop = this.stopping.signal;
    while (!stop.aborted && !this.client.closed) {
      const partitioner = new SetPartitioner<T>(this.client, this.path, this.items, {
        identifier: this.options.identifier,
        timeBoundary: this.options.timeBoundary ?? 3000,
        partitionFunc: this.options.partitionFunc,
      });
      this.partitioner = partitioner;
      try {
        for await (const assignment of partitioner) {
          if (stop.aborted) break;
          yield assignment;
        }
      } catch (error) {
        if (stop.aborted || this.client.closed) break;
        this.client.logger.warn(
          `fleet ${this.path}: partitioner failed (${(error as Error).message}); joining again`,
        );
      } finally {
        await partitioner.finish();
      }
      if (stop.aborted || this.client.closed) break;
      // Rejoin once the client has a session again (a brief pause bounds a failure loop).
      if (this.client.state !== ConnectionState.CONNECTED) await this.connected(stop);
      await sleep(100, stop).catch(() => {});
    }
  }

  /**
   * Work on owned items: `work(item, signal)` per item, bounded by `concurrency`. Returns once the
   * fleet stopped — `stop()`, `options.signal` aborted, or the client closed — and every item's
   * work settled.
   */
  async run(
    work: (item: T, signal: AbortSignal) => Promise<void>,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    const stopOnAbort = () => void this.stop();
    if (options.signal?.aborted) stopOnAbort();
    options.signal?.addEventListener('abort', stopOnAbort, { once: true });
    try {
      await this.runAssignments(work);
    } finally {
      options.signal?.removeEventListener('abort', stopOnAbort);
    }
  }

  private async runAssignments(work: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
    const queue = new PQueue({ concurrency: this.options.concurrency ?? Infinity });
    for await (const assignment of this.assignments()) {
      const signal = AbortSignal.any([assignment.signal, this.stopping.signal]);
      const running = assignment.items.map((item) =>
        queue
          .add(async () => {
            if (!signal.aborted) await work(item, signal);
          })
          .catch((error: unknown) => {
            this.client.logger.error(
              `fleet ${this.path}: work on ${String(item)} failed: ${(error as Error)?.stack ?? String(error)}`,
            );
          }),
      );
      await whenAborted(signal);
      // Release the items only after their work stopped: nobody else may start them before.
      await Promise.all(running);
    }
  }

  /** The items owned right now (empty while re-balancing). */
  get owned(): readonly T[] {
    return this.partitioner?.acquired ? this.partitioner.items : [];
  }

  /** Stop: abort the work, release the items, leave the party. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.partitioner?.finish();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private connected(stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.client.off('state', onState);
        stop.removeEventListener('abort', done);
        resolve();
      };
      // A closed client reports LOST and never connects again: stop waiting then too.
      const onState = (state: ConnectionState) =>
        (state === ConnectionState.CONNECTED || this.client.closed) && done();
      this.client.on('state', onState);
      stop.addEventListener('abort', done, { once: true });
    });
  }
}
