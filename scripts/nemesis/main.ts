/**
 * `npm run nemesis -- [--seed N] [--seconds S] [--ours N] [--kazoo N] [--keep]`: one randomized
 * safety run (nemesis.ts). Prints the seed first (rerun with it to replay the fault schedule),
 * the faults as they happen, and the summary; exits 1 on any violation or hang.
 */
import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';
import { runNemesis } from './nemesis.js';
import { formatSummary } from './summary.js';

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0)
    throw new RangeError(`--${name} must be a non-negative integer, got ${value}`);
  return parsed;
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seconds: { type: 'string' },
    ours: { type: 'string' },
    kazoo: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const seed = integer(values.seed, 'seed', randomInt(2 ** 31));
process.stdout.write(`nemesis seed ${seed}\n`);
const result = await runNemesis({
  seed,
  seconds: integer(values.seconds, 'seconds', 60),
  ours: integer(values.ours, 'ours', 3),
  kazoo: integer(values.kazoo, 'kazoo', 2),
  keep: values.keep,
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`${formatSummary(result.summary)}\n`);
if (result.violations.length > 0)
  process.stdout.write(
    `histories and logs kept in ${result.runDir}\nreplay: npm run nemesis -- --seed ${seed} --seconds ${values.seconds ?? 60}\n`,
  );
process.exit(result.violations.length > 0 ? 1 : 0);
