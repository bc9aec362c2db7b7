import type { Logger } from 'winston';
import type { ZooKeeperClient } from '../client/client.js';
import { sleep } from '../client/retry.js';
import type { Election, Leadership } from '../recipes/election/election.js';
import { NotLeaderError } from './errors.js';
import {
  methodDecorator,
  resolveClient,
  type AsyncMethodDecorator,
  type ClientSource,
} from './method-decorator.js';
import { whenAborted } from './when-aborted.js';

/** What a `LeaderLifecycle` runs when this process is elected and when it is deposed. */
export interface LeaderDuties {
  /** This process was elected: start leading. `signal` aborts when leadership may be lost. */
  onElected(leadership: Leadership): void | Promise<void>;
  /** Leadership ended (lost, suspended, or `stop()`): stop leading. */
  onDeposed?(): void | Promise<void>;
}

/** Which elections this process leads right now, per client and path (for `@leaderOnly`). */
const leading = new WeakMap<ZooKeeperClient, Map<string, number>>();

function countLeadership(election: Election, delta: 1 | -1): void {
  const byPath = leading.get(election.client) ?? new Map<string, number>();
  leading.set(election.client, byPath);
  const count = (byPath.get(election.path) ?? 0) + delta;
  if (count > 0) byPath.set(election.path, count);
  else byPath.delete(election.path);
}

/** True while a `LeaderLifecycle` of this process leads the election at `path` on `client`. */
export function isLeading(client: ZooKeeperClient, path: string): boolean {
  return (leading.get(client)?.get(path) ?? 0) > 0;
}

/**
 * Leader-driven services: `LeaderLifecycle` campaigns in an `Election` for as long as it runs,
 * starts the service's leader duties when elected and stops them when leadership may be lost
 * (SUSPENDED by default, or LOST), then campaigns again. `@leaderOnly(path)` guards a method so
 * it only runs on the process currently leading that election.
 *
 * @example
 *   const lifecycle = new LeaderLifecycle(recipes.election('/services/billing/leader'), {
 *     onElected: ({ signal }) => { scheduler.start(signal) },
 *     onDeposed: () => scheduler.stop(),
 *   });
 *   lifecycle.start();
 *   ...
 *   await lifecycle.stop();
 */
export class LeaderLifecycle implements AsyncDisposable {
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private leader = false;

  constructor(
    readonly election: Election,
    private readonly duties: LeaderDuties,
    private readonly options: { logger?: Logger; retryDelay?: number } = {},
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  /** Start campaigning (idempotent). */
  start(): void {
    this.loop ??= this.campaign();
  }

  /** Resolves once the campaign has ended: after `stop()`, or once the client was closed. */
  get finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /**
   * The campaign ends on `stop()` and when the election's client is closed: a closed client never
   * reconnects (ClientClosedError on every call), so campaigning on would retry forever.
   */
  private async campaign(): Promise<void> {
    const stop = this.stopping.signal;
    while (!stop.aborted && !this.election.client.closed) {
      try {
        await this.election.run(
          async (leadership) => {
            this.leader = true;
            countLeadership(this.election, 1);
            try {
              await this.duties.onElected(leadership);
              await whenAborted(leadership.signal, stop);
            } finally {
              this.leader = false;
              countLeadership(this.election, -1);
              await this.duties.onDeposed?.();
            }
          },
          { signal: stop },
        );
      } catch (error) {
        if (stop.aborted || this.election.client.closed) break;
        this.options.logger?.warn(
          `leader election on ${this.election.path} failed: ${(error as Error).message}`,
        );
      }
      // Campaign again (the next acquire waits for the reconnect); the pause bounds a failure loop.
      await sleep(this.options.retryDelay ?? 100, stop).catch(() => {});
    }
  }

  /** Stop leading (calling `onDeposed`) and stop campaigning; resolves when the campaign ended. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Decorate a method so it only runs while this process leads the election at `path`
 * (through a running `LeaderLifecycle`); elsewhere it rejects with `NotLeaderError`.
 */
export function leaderOnly(path: string, options: { client?: ClientSource } = {}): AsyncMethodDecorator {
  return methodDecorator(
    (original) =>
      async function (this: unknown, ...args: unknown[]) {
        const client = resolveClient(this, options.client, 'leaderOnly');
        if (!isLeading(client, path)) throw new NotLeaderError({ op: 'leaderOnly', path });
        return original.apply(this, args);
      },
  );
}
