/**
 * Retrying idempotent operations, like kazoo's KazooRetry: exponential backoff with jitter,
 * bounded by tries, per-try delay and an overall deadline. Only `ConnectionLossError` and
 * `OperationTimeoutError` are retried: anything else is an answer, not a transient failure.
 *
 * @example
 *   const retry = new RetryPolicy({ maxTries: 5, delay: 100 });
 *   const children = await retry.run(() => zk.getChildren('/workers'));
 */
import { AbortError, ConnectionLossError, InvalidArgumentError, OperationTimeoutError, TimeoutError } from './errors.js';
import { startTimer } from './timer.js';

export interface RetryOptions {
  /** Tries in all, the first included; -1 for unlimited (bounded by `deadline`). Default 5 (kazoo: -1 for connection retries). */
  maxTries?: number;
  /** First delay between tries, ms. Default 100. */
  delay?: number;
  /** Multiplier applied to the delay after each try. Default 2. */
  backoff?: number;
  /** Random extra delay of up to this fraction of the delay (0..1). Default 0.4. */
  jitter?: number;
  /** Upper bound for one delay, ms. Default 60000. */
  maxDelay?: number;
  /** Give up when the next try would start after this many ms from the first. Default: none. */
  deadline?: number;
  /** Which errors are worth another try. Default: ConnectionLoss and OperationTimeout. */
  isRetryable?: (error: unknown) => boolean;
}

export function isTransientError(error: unknown): boolean {
  return error instanceof ConnectionLossError || error instanceof OperationTimeoutError;
}

function checkNumber(name: string, value: number, min: number): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new InvalidArgumentError(`retry option ${name} must be a number >= ${min}, got ${String(value)}`);
  }
}

export class RetryPolicy {
  readonly maxTries: number;
  readonly delay: number;
  readonly backoff: number;
  readonly jitter: number;
  readonly maxDelay: number;
  readonly deadline: number | undefined;
  private readonly isRetryable: (error: unknown) => boolean;

  constructor(options: RetryOptions = {}) {
    this.maxTries = options.maxTries ?? 5;
    this.delay = options.delay ?? 100;
    this.backoff = options.backoff ?? 2;
    this.jitter = options.jitter ?? 0.4;
    this.maxDelay = options.maxDelay ?? 60_000;
    this.deadline = options.deadline;
    this.isRetryable = options.isRetryable ?? isTransientError;
    if (this.maxTries !== -1) checkNumber('maxTries', this.maxTries, 1);
    checkNumber('delay', this.delay, 0);
    checkNumber('backoff', this.backoff, 1);
    checkNumber('jitter', this.jitter, 0);
    checkNumber('maxDelay', this.maxDelay, 0);
    if (this.deadline !== undefined) checkNumber('deadline', this.deadline, 0);
  }

  /** Run `fn` until it succeeds, fails with a non-retryable error, or the policy is exhausted. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const started = Date.now();
    let delay = this.delay;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new AbortError(signal.reason);
      try {
        return await fn();
      } catch (error) {
        if (!this.isRetryable(error)) throw error;
        if (this.maxTries !== -1 && attempt >= this.maxTries) throw error;
        const wait = Math.min(delay * (1 + Math.random() * this.jitter), this.maxDelay);
        if (this.deadline !== undefined && Date.now() - started + wait > this.deadline) {
          throw new TimeoutError(`retry deadline of ${this.deadline} ms exceeded after ${attempt} tries`, { cause: error });
        }
        await sleep(wait, signal);
        delay = Math.min(delay * this.backoff, this.maxDelay);
      }
    }
  }
}

/** Resolves after `ms` (any duration; `Infinity`: never), or rejects with `AbortError` when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError(signal.reason));
      return;
    }
    const onAbort = () => {
      timer.cancel();
      reject(new AbortError(signal?.reason));
    };
    const timer = startTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
