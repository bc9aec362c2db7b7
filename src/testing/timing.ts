/**
 * One knob for slow machines: every wait in the testing kit and its tests goes through
 * `timing(ms)`, which multiplies by the `ZK_TEST_TIMING` environment variable (default 1).
 */

/**
 * `ms` scaled by `ZK_TEST_TIMING` (a positive float, default 1), rounded up.
 *
 * @example
 * ```ts
 * // ZK_TEST_TIMING=2.5 node --test ...  → waits 2.5 times longer
 * await connection.nextFrame(timing(5_000));
 * ```
 */
export function timing(ms: number): number {
  const text = process.env['ZK_TEST_TIMING'];
  // Read on every call so a test runner can set it after the kit was imported.
  const factor = text === undefined || text.trim() === '' ? 1 : Number(text);
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new TypeError(`ZK_TEST_TIMING must be a positive number, got ${JSON.stringify(text)}`);
  }
  return Math.ceil(ms * factor);
}
