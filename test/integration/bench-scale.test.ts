/**
 * The scale suite never rots: `npm run bench -- --suite scale --quick` (minus the build) runs the
 * smallest N of every workload once in every client that declares it, against its own test
 * server, and prints a row per client and case, the targets, the markdown table and the chart.
 * No timing assertions: only that every row is there, counts are right and the checks held.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OURS } from '../../bench/fleet/registry.js';
import { FLEET_WORKLOADS } from '../../bench/fleet/workloads/index.js';
import { runToExit } from '../support/process.js';

const RUNNER = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
/** The quick pass, scaled down further: the shape is what is checked here, not the figures. */
const SCALE = 0.1;
const TIMEOUT_MS = 8 * 60_000;

type Json = Record<string, unknown>;

const isPositive = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;

test(
  'npm run bench -- --suite scale --quick: every workload in every client, once, with a full table and chart',
  { timeout: TIMEOUT_MS + 10_000 },
  async (t) => {
    const out = mkdtempSync(join(tmpdir(), 'bench-scale-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const { code, stdout, stderr } = await runToExit(
      process.execPath,
      [RUNNER, '--suite', 'scale', '--quick', '--scale', String(SCALE), '--json', '--out', out],
      { limitMs: TIMEOUT_MS },
    );
    assert.equal(code, 0, stderr);
    const lines = stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Json);
    const run = lines.find((line) => line.kind === 'run');
    assert.ok(run, 'a run line');
    assert.equal(run.quick, true);
    assert.equal(run.passes, 1);
    const clients = run.clients as string[];
    assert.ok(clients.includes(OURS), 'our client ran');

    const records = lines.filter((line) => line.kind === 'fleet');
    const summaries = lines.filter((line) => line.kind === 'summary');
    for (const workload of FLEET_WORKLOADS) {
      const [smallest] = workload.cases(SCALE);
      for (const client of [OURS, ...workload.peers]) {
        const where = `${client} ${workload.name} ${smallest!.label}`;
        const mine = records.filter(
          (r) => r.workload === workload.name && r.case === smallest!.label && r.client === client,
        );
        assert.equal(mine.length, 1, `${where}: one record`);
        const record = mine[0]!;
        if (client !== OURS && !clients.includes(client)) {
          assert.equal(record.status, 'skip', `${where}: a peer that cannot run is skipped`);
          assert.equal(typeof record.note, 'string', `${where}: a skip says why`);
          continue;
        }
        assert.equal(record.status, 'ok', `${where}: ${String(record.note)}`);
        const result = record.result as Json;
        assert.ok(isPositive(result.seconds), `${where}: seconds`);
        assert.ok(Number.isInteger(result.items) && isPositive(result.items), `${where}: items`);
        if (result.expected !== undefined) assert.equal(result.items, result.expected, `${where}: complete`);
        const summary = summaries.find(
          (s) => s.workload === workload.name && s.case === smallest!.label && s.client === client,
        );
        assert.ok(summary && isPositive(summary.us_per_item), `${where}: a summary with µs/item`);
        if (client !== OURS) assert.ok(isPositive((summary.ratios as Json).us_per_item), `${where}: ratio`);
      }
      // Only the smallest N ran.
      assert.ok(
        !records.some((r) => r.workload === workload.name && r.case !== workload.cases(SCALE)[0]!.label),
      );
    }
    const result = (client: string, workload: string) =>
      records.find((r) => r.client === client && r.workload === workload && r.status === 'ok')?.result as
        Json | undefined;
    // The workloads' own checks hold at any scale.
    for (const client of clients) {
      const handover = result(client, 'lock_handover');
      if (handover) assert.equal(handover.fifo, true, `${client}: lock hand-over in FIFO order`);
      const tree = result(client, 'tree_cache');
      if (tree) assert.ok(isPositive(tree.churn_sets), `${client}: tree cache churn measured`);
    }
    assert.equal(result(OURS, 'tree_cache')!.no_warnings, true, 'no process warnings');
    const replay = result(OURS, 'watch_replay')!;
    assert.equal(replay.replayed, replay.sampled, 'every sampled watch fired after the reconnect');
    const fleet = result(OURS, 'fleet_reconnect')!;
    const histogram = JSON.parse(fleet.histogram as string) as Record<string, number>;
    assert.equal(
      Object.values(histogram).reduce((a, b) => a + b, 0),
      fleet.items,
      'the histogram counts every client',
    );

    for (const target of lines.filter((line) => line.kind === 'target')) {
      assert.equal(typeof target.label, 'string');
      assert.ok(target.ok === null || typeof target.ok === 'boolean', JSON.stringify(target));
    }
    const markdown = readFileSync(run.markdown as string, 'utf8');
    assert.match(
      markdown,
      /\| workload \| N \| client \| µs\/item \| rate \/s \| peer ÷ ours \| figures \| target \|/,
    );
    const rows = markdown
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| workload'));
    assert.equal(rows.length - 1, summaries.length, 'a markdown row per client and case');
    const svg = readFileSync(run.chart as string, 'utf8');
    assert.match(svg, /^<svg /);
    for (const workload of FLEET_WORKLOADS)
      assert.ok(svg.includes(`>${workload.name}</text>`), workload.name);
  },
);
