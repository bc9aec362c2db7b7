/**
 * The fleet benchmark never rots: `npm run bench:fleet` (minus the build) at a tiny scale, one
 * pass, runs every workload's cases in every client program against its own test server, and
 * prints well-formed records, summaries and targets. No timing assertions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FLEET_WORKLOADS } from '../../bench/fleet/workloads/index.js';
import { runToExit } from '../support/process.js';

const RUNNER = fileURLToPath(new URL('../../bench/fleet/run.js', import.meta.url));
const SCALE = 0.01;
const TIMEOUT_MS = 6 * 60_000;

type Json = Record<string, unknown>;

const isPositive = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0;

test(
  `npm run bench:fleet at scale ${SCALE} (one pass) runs every case in every client and prints valid records`,
  { timeout: TIMEOUT_MS + 10_000 },
  async () => {
    const { code, stdout, stderr } = await runToExit(
      process.execPath,
      [RUNNER, '--scale', String(SCALE), '--passes', '1', '--no-warmup', '--json'],
      { limitMs: TIMEOUT_MS },
    );
    assert.equal(code, 0, stderr);
    const lines = stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Json);
    const run = lines.find((line) => line.kind === 'run');
    assert.ok(run, 'a run line');
    assert.equal(run.scale, SCALE);
    const clients = run.clients as string[];
    assert.ok(clients.includes('zookeeper-coordination'), 'our client ran');
    assert.equal(new Set(lines.map((line) => line.run_id)).size, 1, 'one run id');

    const records = lines.filter((line) => line.kind === 'fleet');
    for (const workload of FLEET_WORKLOADS) {
      for (const fleetCase of workload.cases(SCALE)) {
        for (const client of clients) {
          const mine = records.filter(
            (r) => r.workload === workload.name && r.case === fleetCase.label && r.client === client,
          );
          const where = `${client} ${workload.name} ${fleetCase.label}`;
          assert.equal(mine.length, 1, where);
          const record = mine[0]!;
          assert.equal(record.pass, 1, where);
          if (client === 'zookeeper-coordination' || record.status !== 'skip')
            assert.equal(record.status, 'ok', `${where}: ${String(record.note)}`);
          else assert.equal(typeof record.note, 'string', `${where}: a skip says why`);
          if (record.status !== 'ok') continue;
          const result = record.result as Json;
          assert.ok(isPositive(result.seconds), `${where}: seconds`);
          assert.ok(Number.isInteger(result.items) && isPositive(result.items), `${where}: items`);
        }
      }
    }
    // The workloads' own checks hold at any scale: hand-over in FIFO order without a herd.
    const handovers = records.filter((r) => r.workload === 'lock_handover' && r.status === 'ok');
    assert.ok(handovers.length > 0);
    for (const record of handovers) {
      const result = record.result as Json;
      assert.equal(result.fifo, true, `${String(record.client)}: FIFO`);
      assert.ok((result.requests_per_handover as number) < 4, `${String(record.client)}: no herd`);
    }

    const summaries = lines.filter((line) => line.kind === 'summary');
    assert.equal(summaries.length, records.length, 'one summary per client and case (one pass)');
    const targets = lines.filter((line) => line.kind === 'target');
    assert.equal(
      targets.length,
      FLEET_WORKLOADS.reduce((sum, workload) => sum + (workload.targets?.length ?? 0), 0),
    );
    for (const target of targets) {
      assert.equal(typeof target.label, 'string');
      assert.ok(target.ok === null || typeof target.ok === 'boolean', JSON.stringify(target));
    }
    assert.match(stderr, /workload\s+case\s+client\s+seconds\s+rate \/s\s+peer ÷ ours/);
    assert.match(stderr, /targets \(issue 13, medians\)/);
  },
);
