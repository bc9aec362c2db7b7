/**
 * The fleet benchmark's tree-cache and reconnect workloads never rot: the runner
 * (bench/fleet/cache-run.ts) runs every client program at a tiny scale against its own test
 * server, and every line it prints has the expected shape. No timing assertions.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const RUNNER = fileURLToPath(new URL('../../bench/fleet/cache-run.js', import.meta.url));
const TIMEOUT_MS = 5 * 60_000;

type Json = Record<string, unknown>;
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

test(
  'cache-run --scale 0.002: every client program yields well-formed records, medians and targets',
  { timeout: TIMEOUT_MS },
  async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [RUNNER, '--scale', '0.002', '--runs', '1', '--json'],
      { timeout: TIMEOUT_MS, maxBuffer: 1 << 24 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Json);
    const records = lines.filter((line) => line.kind === undefined);
    const find = (client: string, workload: string, size?: number) =>
      records.filter(
        (r) => r.client === client && r.workload === workload && (size === undefined || r.size === size),
      );
    for (const record of records)
      assert.notEqual(record.status, 'error', `no program failed: ${JSON.stringify(record)}`);

    for (const client of ['ours', 'kazoo', 'curator']) {
      const skipped = records.find((r) => r.client === client && r.status === 'skip');
      if (skipped) {
        assert.equal(typeof skipped.note, 'string', `${client}: a skip says why`);
        continue;
      }
      for (const size of [100, 400]) {
        const [load] = find(client, 'treeLoad', size);
        assert.ok(load, `${client} treeLoad at ${size}`);
        assert.ok(isNumber(load.ms) && load.ms > 0, `${client}: load time`);
        assert.equal(load.nodes, size === 100 ? 103 : 409, `${client}: every node of the tree cached`);
        if (client !== 'kazoo') assert.ok(isNumber(load.heapBytesPerNode), `${client}: heap per node`);
      }
      const [churn] = find(client, 'churn', 100);
      assert.ok(
        churn && churn.sets === 4 && isNumber(churn.lagP50Ms) && isNumber(churn.lagP99Ms),
        `${client} churn`,
      );
      assert.equal(find(client, 'churn', 400).length, 0, 'churn runs at the first size only');
    }
    for (const record of find('ours', 'treeLoad'))
      assert.deepEqual(record.warnings, [], 'no process warnings');

    const [reconnect] = find('ours', 'reconnect');
    assert.ok(reconnect && reconnect.drops === 3 && isNumber(reconnect.p50Ms), 'reconnect');
    const [watches] = find('ours', 'watches');
    assert.ok(watches && watches.watches === 200 && isNumber(watches.replayMs), 'watches');
    assert.equal(watches.replayed, watches.sampled, 'every sampled watch fired after the reconnect');
    const [fleet] = find('ours', 'fleetReconnect');
    assert.ok(fleet && fleet.clients === 2 && isNumber(fleet.p50Ms) && isNumber(fleet.maxMs), 'fleet');
    const histogram = fleet.histogram as Record<string, number>;
    assert.equal(
      Object.values(histogram).reduce((a, b) => a + b, 0),
      2,
      'the histogram counts every client',
    );

    const medians = lines.filter((line) => line.kind === 'median');
    assert.ok(medians.some((m) => m.client === 'ours' && m.workload === 'treeLoad' && m.metric === 'ms'));
    const targets = lines.filter((line) => line.kind === 'target');
    assert.ok(targets.length >= 7, 'every target is reported');
    for (const target of targets)
      assert.ok(typeof target.target === 'string' && typeof target.value === 'string');
  },
);
