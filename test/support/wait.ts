/**
 * The tests' waits: each one FAILS the test after a generous safety limit (scaled by
 * `ZK_TEST_TIMING`) and never asserts on speed. `within(promise, what, limit)` waits for a
 * promise, `eventually(condition, what, limit)` polls a condition; both take the description
 * before the limit.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { timing } from '../../src/testing/index.js';

/** The safety limit of a wait (scaled by ZK_TEST_TIMING): only a broken client or recipe reaches it. */
export function safety(ms = 10_000): number {
  return timing(ms);
}

/** Poll `condition` until truthy; fail the test after `limitMs`. Returns the truthy value. */
export async function eventually<T>(
  condition: () => T | Promise<T>,
  what: string,
  limitMs = safety(),
): Promise<NonNullable<T>> {
  const deadline = Date.now() + limitMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      assert.fail(
        `never happened within ${limitMs} ms: ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await delay(15);
  }
}

/**
 * Resolve with the promise's value, or fail the test after `limitMs`. `what` may be a function,
 * for a description of the state at the time of failure.
 */
export async function within<T>(
  promise: Promise<T>,
  what: string | (() => string),
  limitMs = safety(),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new assert.AssertionError({
            message: `timed out after ${limitMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
          }),
        ),
      limitMs,
    );
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Like `within`, for a promise expected to reject: returns the rejection reason. */
export async function rejectsWithin(
  promise: Promise<unknown>,
  what: string,
  limitMs = safety(),
): Promise<unknown> {
  return within(
    promise.then(
      (value) => assert.fail(`${what}: expected a rejection, resolved with ${String(value)}`),
      (error: unknown) => error,
    ),
    what,
    limitMs,
  );
}

/** A short pause for "still blocked" checks (it is never a speed assertion). */
export function grace(ms = 150): Promise<void> {
  return delay(timing(ms));
}

/** A promise with its resolve/reject exposed. */
export class Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Observe a promise's outcome without awaiting it. */
export interface Probe<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

/** A `Probe` of `promise`. */
export function probe<T>(promise: Promise<T>): Probe<T> {
  const state = { promise, settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}
