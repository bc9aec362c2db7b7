/** The tests' one recorder: of watch events, recipe callbacks, or any other calls. */
import { safety, within } from './wait.js';

/**
 * Records every value it is given and lets a test wait for the n-th one.
 *
 * @example
 * ```ts
 * const events = new Recorder<WatchEvent>();
 * await zk.exists(path, { watch: events.listener });
 * assert.equal((await events.nth(1)).type, 'NodeCreated');
 * ```
 */
export class Recorder<T> {
  readonly calls: T[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  /** Records `value` (as a listener or callback: it is bound). */
  readonly push = (value: T): void => {
    this.calls.push(value);
    for (const waiter of [...this.waiters]) {
      if (this.calls.length >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };

  /** A recorder of every value `iterable` yields (an async iterator of recipe events), as it yields them. */
  static from<T>(iterable: AsyncIterable<T>): Recorder<T> {
    const recorder = new Recorder<T>();
    void (async () => {
      for await (const value of iterable) recorder.push(value);
    })();
    return recorder;
  }

  /** `push`, under the name a watch registration reads best with. */
  readonly listener = this.push;

  /** Wait until at least `count` values were recorded (fails after the safety limit). */
  async waitForCount(count: number, limitMs = safety()): Promise<T[]> {
    if (this.calls.length < count) {
      await within(
        new Promise<void>((resolve) => this.waiters.push({ count, resolve })),
        () => `${count} call(s); got ${this.calls.length}: ${describe(this.calls)}`,
        limitMs,
      );
    }
    return this.calls;
  }

  /** The n-th value (1-based), waiting for it. */
  async nth(n: number, limitMs = safety()): Promise<T> {
    await this.waitForCount(n, limitMs);
    return this.calls[n - 1]!;
  }
}

function describe(values: unknown[]): string {
  return JSON.stringify(values, (_, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('utf8') : v,
  ).slice(0, 500);
}
