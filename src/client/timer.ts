/**
 * One cancellable timer for any duration. Node's `setTimeout` takes a 32-bit signed delay: a
 * delay above 2^31 - 1 ms (about 24.8 days) is set to 1 ms with a TimeoutOverflowWarning (Node
 * docs, timers: "When delay is larger than 2147483647 or less than 1, the delay will be set to
 * 1"), so a 30-day lease or `timeout: Infinity` would fire at once. `startTimer` chains
 * `setTimeout`s of at most 2^31 - 1 ms for a long finite duration and sets none for `Infinity`
 * (no timeout). Every timer whose duration a user influences goes through here (DESIGN.md, Timers).
 */
import { InvalidArgumentError, type ErrorContext } from './errors.js';

/** The largest delay `setTimeout` honours, ms. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A running timer; `cancel()` is idempotent and safe after it fired. */
export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /** Do not keep the process alive for this timer. Default false. */
  unref?: boolean;
  /** The longest single `setTimeout`, ms; smaller only in tests of the chaining. Default `MAX_TIMER_DELAY`. */
  maxDelay?: number;
}

/**
 * A duration in ms that a caller passed: a number >= 0, `Infinity` meaning "no limit". NaN, a
 * negative number or a non-number is an `InvalidArgumentError` (a NaN deadline never passes).
 */
export function checkDuration(value: unknown, context: ErrorContext = {}, name = 'timeout'): number {
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new InvalidArgumentError(
      `${name} must be a number of ms >= 0 (Infinity: none), got ${String(value)}`,
      context,
    );
  }
  return value;
}

/** Call `fire` once after `ms` (any duration >= 0; `Infinity`: never) unless cancelled first. */
export function startTimer(ms: number, fire: () => void, options: TimerOptions = {}): Timer {
  checkDuration(ms, { op: 'timer' });
  const maxDelay = options.maxDelay ?? MAX_TIMER_DELAY;
  let handle: NodeJS.Timeout | undefined;
  const arm = (left: number) => {
    const delay = Math.min(left, maxDelay);
    handle = setTimeout(() => {
      // Counting down the chunks, not reading the clock: a wall-clock jump changes nothing.
      if (left > delay) arm(left - delay);
      else {
        handle = undefined;
        fire();
      }
    }, delay);
    if (options.unref) handle.unref();
  };
  if (ms !== Infinity) arm(ms);
  return {
    cancel: () => {
      clearTimeout(handle);
      handle = undefined;
    },
  };
}
