/**
 * Randomized tests are seeded so that a failure reproduces: `testSeed` takes `ZK_TEST_SEED` when
 * it is set and a fresh seed otherwise, and names it in the test's output.
 */
import type { TestContext } from 'node:test';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of one randomized test, reported as a diagnostic (replay with `ZK_TEST_SEED=<n>`). */
export function testSeed(t: TestContext): number {
  const given = process.env['ZK_TEST_SEED'];
  const seed = given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given);
  if (!Number.isInteger(seed)) throw new TypeError(`ZK_TEST_SEED must be an integer, got "${given}"`);
  t.diagnostic(`seed ${seed} (replay with ZK_TEST_SEED=${seed})`);
  return seed;
}

/** A seeded random source for `t`: `testSeed(t)` fed to `prng`. */
export function testRandom(t: TestContext): () => number {
  return prng(testSeed(t));
}
