/**
 * The one retry module (DESIGN.md "Retry"). An error says whether it is retryable
 * (`ZooKeeperError.retryable`: connection loss and the server's operation timeout), and a few
 * named policies decide what a caller does with that:
 *
 * - `RetryPolicy`: kazoo's KazooRetry for idempotent operations — exponential backoff with
 *   jitter, bounded by tries, per-try delay and an overall deadline; retries only what
 *   `isRetryable` says (anything else is an answer, not a transient failure).
 * - `withinDeadline`: kazoo's `client.retry` for a recipe's idempotent step — unlimited tries
 *   bounded by a deadline and a signal, session expiry included (the step starts over on the
 *   new session), and a request timeout before the deadline (the client's `requestTimeout`).
 * - `untilSessionEnds`: for a request about the session's own node (delete it, find it) —
 *   retried through connection loss until it lands, or until the node cannot exist any more
 *   (NoNode, the session expired, the client closed). Bounded without a deadline: a suspended
 *   session is reconnected or declared LOST within its timeout; request timeouts while it
 *   lives are retried at a slower, capped pace.
 *
 * @example
 *   const retry = new RetryPolicy({ maxTries: 5, delay: 100 });
 *   const children = await retry.run(() => zk.getChildren('/workers'));
 */
import {
  AbortError,
  ClientClosedError,
  InvalidArgumentError,
  NoNodeError,
  SessionExpiredError,
  TimeoutError,
  ZooKeeperError,
} from './errors.js';
import { errorCodeOf, requestRetryChannel, type RequestRetryEvent } from './diagnostics.js';
import { startTimer } from './timer.js';

/** Bounds of a `RetryPolicy`: tries, first delay, backoff, jitter, per-try cap and deadline. */
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
  /** Which errors are worth another try. Default: `isRetryable` (ConnectionLoss and OperationTimeout). */
  isRetryable?: (error: unknown) => boolean;
}

/** The error says the same request may succeed if sent again (`ZooKeeperError.retryable`). */
export function isRetryable(error: unknown): boolean {
  return error instanceof ZooKeeperError && error.retryable;
}

/**
 * The error says a call may or may not have taken effect (`ZooKeeperError.outcomeUnknown`): its
 * request was sent and no answer came. The one test every recipe uses before proving a write.
 */
export function isOutcomeUnknown(error: unknown): boolean {
  return error instanceof ZooKeeperError && error.outcomeUnknown;
}

/** The public name kept from before `isRetryable`: the same predicate. */
export const isTransientError: (error: unknown) => boolean = isRetryable;

/** How far a policy may retry: a `Date.now()` deadline and an abort signal, both optional. */
export interface RetryLimits {
  deadline?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Milliseconds left before `deadline` (undefined: no deadline). */
export function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : deadline - Date.now();
}

/**
 * The `withinDeadline` policy as a predicate, for loops that retry by hand: a retryable error,
 * session expiry (a recipe step starts over on the new session), or a `TimeoutError` while the
 * deadline has not passed (then it came from the client's `requestTimeout`, not our deadline).
 */
export function retriesWithinDeadline(error: unknown, deadline?: number): boolean {
  if (isRetryable(error) || error instanceof SessionExpiredError) return true;
  return error instanceof TimeoutError && (deadline === undefined || Date.now() < deadline);
}

/** A short pause between tries (bounded by the deadline; rejects with `AbortError` on abort). */
export async function pause(
  deadline: number | undefined,
  signal: AbortSignal | undefined,
  ms = 50,
): Promise<void> {
  const left = remaining(deadline);
  await sleep(Math.max(0, left === undefined ? ms : Math.min(ms, left)), signal);
}

/** The longest pause between tries, ms: the next request waits for a reconnect by itself. */
const MAX_PAUSE = 1000;

/**
 * The longest pause of `untilSessionEnds` after a request timeout, ms. A timeout while the
 * session lives means a server that answers pings but not this request (overloaded, or stuck
 * behind a quorum): trying again sooner only adds to its load.
 */
export const MAX_TIMEOUT_PAUSE = 10_000;

/**
 * Wait for `work` (its outcome ignored), bounded by `limits`: rejects with `TimeoutError` once
 * the deadline passes and with `AbortError` on abort; `work` itself goes on.
 */
export function settledWithin(work: Promise<unknown>, limits: RetryLimits = {}): Promise<void> {
  const { deadline, signal } = limits;
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => finish(new AbortError(signal?.reason));
    const timer =
      deadline === undefined
        ? undefined
        : startTimer(Math.max(0, deadline - Date.now()), () =>
            finish(new TimeoutError('deadline passed while waiting')),
          );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => finish(),
      () => finish(),
    );
  });
}

/**
 * Run `fn` until it succeeds or `retry(error)` says no. Connection loss is not a busy loop: the
 * next request waits for the reconnect; a short growing back-off (up to `maxPause(error)`)
 * covers requests that fail at once (`failFast`). Past the deadline it rejects with
 * `TimeoutError`; on abort with `AbortError`.
 */
async function retryLoop<T>(
  policy: string,
  fn: () => Promise<T>,
  retry: (error: unknown) => boolean,
  limits: RetryLimits,
  maxPause: (error: unknown) => number = () => MAX_PAUSE,
): Promise<T> {
  let wait = 10;
  for (let attempt = 1; ; attempt++) {
    if (limits.signal?.aborted) throw new AbortError(limits.signal.reason);
    try {
      return await fn();
    } catch (error) {
      if (!retry(error)) throw error;
      const left = remaining(limits.deadline);
      if (left !== undefined && left <= 0)
        throw new TimeoutError('deadline passed while retrying', {
          cause: error,
          outcomeUnknown: isOutcomeUnknown(error),
        });
      const cap = maxPause(error);
      const delay = Math.min(wait, cap);
      publishRetry(policy, attempt, delay, error);
      await pause(limits.deadline, limits.signal, delay);
      wait = Math.min(wait * 2, cap);
    }
  }
}

/**
 * Policy for a recipe's idempotent step (kazoo's `client.retry`): unlimited tries of what
 * `retriesWithinDeadline` accepts, bounded by `limits`. A client never started fails with
 * `ClientNotStartedError`, which is not retryable.
 */
export function withinDeadline<T>(fn: () => Promise<T>, limits: RetryLimits = {}): Promise<T> {
  return retryLoop('withinDeadline', fn, (error) => retriesWithinDeadline(error, limits.deadline), limits);
}

/** The session's own nodes cannot exist any more (or the one `fn` is about is gone). */
function sessionEnded(error: unknown): boolean {
  return (
    error instanceof NoNodeError || error instanceof SessionExpiredError || error instanceof ClientClosedError
  );
}

/**
 * Policy for a request about this session's own node (delete it, look for it): retried
 * through connection loss and request timeouts until it lands; resolves `undefined` when the
 * node cannot exist any more — NoNode, SessionExpired (an ephemeral went with its session; a
 * request queued across LOST is rejected so, see session.ts `expire`), ClientClosed. kazoo
 * gives up after one failure and can leak an unreleasable holder (kazoo #732).
 *
 * Not bounded by a count: giving up would leave the node blocking others for as long as the
 * session lives. It is bounded by the session (which the server or our LOST timer ends) and the
 * client's life, and in rate: after a request timeout (the client's `requestTimeout`) the
 * pause grows to `MAX_TIMEOUT_PAUSE`, so a server that keeps the session but not the request
 * gets at most one try per that pause.
 */
export async function untilSessionEnds<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await retryLoop(
      'untilSessionEnds',
      fn,
      (error) => isRetryable(error) || error instanceof TimeoutError,
      {},
      (error) => (error instanceof TimeoutError ? MAX_TIMEOUT_PAUSE : MAX_PAUSE),
    );
  } catch (error) {
    if (sessionEnded(error)) return undefined;
    throw error;
  }
}

/** Tell `request:retry` subscribers that a policy tries again after `delay` ms. */
function publishRetry(policy: string, attempt: number, delay: number, error: unknown): void {
  if (!requestRetryChannel.hasSubscribers) return;
  const event: RequestRetryEvent = { policy, attempt, delay, error, errorCode: errorCodeOf(error) };
  requestRetryChannel.publish(event);
}

function checkNumber(name: string, value: number, min: number): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new InvalidArgumentError(`retry option ${name} must be a number >= ${min}, got ${String(value)}`);
  }
}

/**
 * kazoo's KazooRetry, for idempotent operations: exponential backoff with jitter, bounded by
 * tries, per-try delay and an overall deadline; it retries only what `isRetryable` says.
 *
 * @example
 *   const retry = new RetryPolicy({ maxTries: 5, delay: 100 });
 *   const children = await retry.run(() => zk.getChildren('/workers'));
 */
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
    this.isRetryable = options.isRetryable ?? isRetryable;
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
          throw new TimeoutError(`retry deadline of ${this.deadline} ms exceeded after ${attempt} tries`, {
            cause: error,
            outcomeUnknown: isOutcomeUnknown(error),
          });
        }
        publishRetry('retryPolicy', attempt, wait, error);
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
