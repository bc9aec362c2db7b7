/**
 * The nemesis's short pass in `npm test` (scripts/nemesis/, DESIGN.md): a fixed seed whose
 * schedule has every fault kind, a 3-member ensemble, two workers of ours and two of kazoo,
 * 40 s of faults; the run must find no violation. `npm run nemesis` runs longer ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runNemesis } from '../../scripts/nemesis/nemesis.js';
import { formatSummary } from '../../scripts/nemesis/summary.js';

const SEED = 13;

test(
  'nemesis short pass: no violation under member kills, leader freezes, blackholes and swallowed replies',
  { timeout: 180_000 },
  async (t) => {
    const result = await runNemesis({
      seed: SEED,
      seconds: 40,
      ours: 2,
      kazoo: 2,
      log: (line) => t.diagnostic(line),
    });
    for (const line of formatSummary(result.summary).split('\n')) t.diagnostic(line);
    assert.ok(
      result.summary.acquisitions > 0 &&
        result.summary.queue.consumed.ok > 0 &&
        result.summary.increments.ok > 0,
      'every recipe was exercised',
    );
    assert.deepEqual(result.violations, [], `seed ${SEED}: histories in ${result.runDir}`);
  },
);
