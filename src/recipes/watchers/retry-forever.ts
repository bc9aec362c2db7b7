/**
 * The retry the watch recipes use for their reads: kazoo's `KazooRetry(max_tries=None)` /
 * `client.retry` — unlimited tries, through connection loss, request timeouts and session
 * expiry (a read retried after a session loss runs on the next session). It ends only with a
 * result, a non-transient error (e.g. `NoNodeError`, `ClientClosedError`), or `signal`.
 */
import type { ZooKeeperClient } from '../../client/client.js';
import { RetryPolicy, retriesWithinDeadline } from '../../client/retry.js';

/** The `withinDeadline` rule without a deadline (client/retry.ts), with kazoo's growing back-off. */
const FOREVER = new RetryPolicy({
  maxTries: -1,
  delay: 100,
  backoff: 2,
  maxDelay: 5_000,
  isRetryable: (error) => retriesWithinDeadline(error),
});

/** Run `fn` until it succeeds or fails for good (see the module comment). */
export function retryForever<T>(
  client: ZooKeeperClient,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  if (client.closed) return fn(); // rejects with ClientClosedError at once
  return FOREVER.run(fn, signal);
}
