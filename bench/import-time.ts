/**
 * `npm run bench:import`: how long a cold process takes to load each entry point of the package,
 * next to node-zookeeper-client, the native `zookeeper` binding and our own dependencies.
 *
 *   node dist/bench/import-time.js [--runs 11] [--entries spec,spec,…]
 *
 * Every run is a fresh `node --input-type=module -e` process in the repository (so the package
 * name resolves to dist/ through the package's own `exports`) that times `await import(spec)`
 * with `performance.now()`; the whole process's wall time is measured around it. Runs are
 * interleaved (entry after entry, the order rotating each round) so a drifting machine affects
 * every entry alike. Prints a markdown table of the medians (and the fastest and slowest run).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { median, parseFlags, UsageError } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a user's program loads, in the order they appear in the table. `+` joins imports done one after another. */
const ENTRIES = [
  '',
  'zookeeper-coordination',
  'zookeeper-coordination/di',
  'reflect-metadata+zookeeper-coordination/di',
  'zookeeper-coordination/testing',
  'node-zookeeper-client',
  'zookeeper',
  'winston',
  'p-queue',
  'inversify',
  'reflect-metadata',
];

interface Run {
  importMs: number;
  processMs: number;
}

function runOnce(entry: string): Run {
  const imports = entry === '' ? [] : entry.split('+');
  const program = [
    'const t = performance.now();',
    ...imports.map((spec) => `await import(${JSON.stringify(spec)});`),
    // Read the clock before touching process.stdout, which is created lazily (and not for free).
    'const ms = performance.now() - t;',
    'process.stdout.write(String(ms));',
  ].join(' ');
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`importing ${entry} failed:\n${child.stderr}`);
  return { importMs: Number(child.stdout), processMs };
}

function main(): void {
  const flags = parseFlags(process.argv.slice(2), ['runs', 'entries'], []);
  const runs = Number(flags.get('runs') ?? 11);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs must be a positive integer');
  const entriesFlag = flags.get('entries');
  const entries = typeof entriesFlag === 'string' ? entriesFlag.split(',') : ENTRIES;
  const results = new Map<string, Run[]>(entries.map((entry) => [entry, []]));
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[(i + round) % entries.length]!;
      results.get(entry)!.push(runOnce(entry));
    }
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  process.stdout.write(
    `Cold import, median of ${runs} runs — Node ${process.version}, ${os.cpus().length} × ${cpu}, load average ${load}, ${new Date().toISOString()}\n\n`,
  );
  process.stdout.write(
    '| import | import ms (median) | fastest–slowest | whole process ms (median) |\n|---|---:|---:|---:|\n',
  );
  for (const [entry, rows] of results) {
    const imports = rows.map((row) => row.importMs).sort((a, b) => a - b);
    const name =
      entry === ''
        ? '(nothing: node itself)'
        : entry
            .split('+')
            .map((spec) => `\`${spec}\``)
            .join(' + ');
    process.stdout.write(
      `| ${name} | ${median(imports).toFixed(1)} | ${imports[0]!.toFixed(1)}–${imports.at(-1)!.toFixed(1)} | ${median(rows.map((row) => row.processMs)).toFixed(0)} |\n`,
    );
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
