/** Bounded polling: the one way the testing kit waits for a server to reach some state. */
import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  /** Give up after this many ms. */
  timeoutMs: number;
  /** What we wait for, for the timeout message ("ZooKeeper to serve on 127.0.0.1:2181"). */
  what: string;
  /** Pause between attempts in ms. Default 50. */
  intervalMs?: number;
  /**
   * Checked before every attempt: an error here ends the wait at once (e.g. the JVM exited, so
   * it will never serve). `wakeUp` cuts the pause short so that this is noticed promptly.
   */
  abort?: () => Promise<Error | undefined>;
  wakeUp?: Promise<unknown>;
}

/**
 * Call `attempt` until it resolves, and return its value. An attempt that throws means "not
 * yet"; its message is kept for the timeout error. `attempt` receives the time left, to bound
 * its own I/O.
 *
 * @example
 * ```ts
 * const mode = await pollUntil((left) => readMode(port, left), { timeoutMs: 10_000, what: 'a leader' });
 * ```
 */
export async function pollUntil<T>(
  attempt: (remainingMs: number) => Promise<T>,
  options: PollOptions,
): Promise<T> {
  const { timeoutMs, what, intervalMs = 50, abort, wakeUp } = options;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  for (;;) {
    const fatal = await abort?.();
    if (fatal) throw fatal;
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last problem: ${lastProblem})`);
    try {
      return await attempt(left);
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    const pause = delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
    await (wakeUp ? Promise.race([pause, wakeUp]) : pause);
  }
}
