/**
 * The benchmark never rots: the runner (`npm run bench` minus the build) runs every client
 * program and the memory benchmark at a small scale against its own test server, and every
 * record it prints is well formed. No timing assertions.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { WORKLOADS as HARNESS_WORKLOADS } from '../../bench/harness.js';
import { runToExit } from '../support/process.js';

const RUNNER = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
/** The workloads the runner defines, as strings for checking its records. */
const WORKLOADS: readonly string[] = HARNESS_WORKLOADS;
const CLIENTS = ['zookeeper-coordination', 'node-zookeeper-client', 'zookeeper'];
const MEMORY = ['memory_oneshot_watch', 'memory_persistent_recursive_watch', 'memory_idle_session'];
const TIMEOUT_MS = 8 * 60_000;

type Json = Record<string, unknown>;

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function checkWorkloadRecord(record: Json): void {
  const where = `${String(record.client)} ${String(record.workload)}`;
  assert.ok(CLIENTS.includes(record.client as string), `unknown client in ${JSON.stringify(record)}`);
  assert.ok(WORKLOADS.includes(record.workload as string), `unknown workload in ${JSON.stringify(record)}`);
  assert.ok(
    ['ok', 'skip'].includes(record.status as string),
    `${where}: status ${String(record.status)}: ${String(record.note)}`,
  );
  for (const key of ['run_id', 'ts', 'client_version', 'runtime', 'connect'])
    assert.equal(typeof record[key], 'string', `${where}: ${key}`);
  assert.equal(record.scale, 0.05, where);
  if (record.status === 'skip') {
    assert.equal(typeof record.note, 'string', `${where}: a skip carries a note`);
    return;
  }
  for (const key of [
    'ops',
    'seconds',
    'ops_per_s',
    'p50_ms',
    'p99_ms',
    'cpu_user_s',
    'cpu_sys_s',
    'cpu_s',
    'cpu_us_per_op',
  ]) {
    assert.ok(isNumber(record[key]), `${where}: ${key} = ${String(record[key])}`);
  }
  const n = (key: string) => record[key] as number;
  assert.ok(Number.isInteger(n('ops')) && n('ops') > 0, `${where}: ops`);
  assert.ok(n('seconds') > 0 && n('ops_per_s') > 0, `${where}: seconds / ops_per_s`);
  assert.ok(
    Math.abs(n('ops_per_s') - n('ops') / n('seconds')) <= 0.01 * n('ops_per_s') + 0.1,
    `${where}: ops_per_s = ops / seconds`,
  );
  assert.ok(n('p50_ms') >= 0 && n('p50_ms') <= n('p99_ms'), `${where}: 0 <= p50 <= p99`);
  assert.ok(n('cpu_user_s') >= 0 && n('cpu_sys_s') >= 0, `${where}: cpu`);
  assert.ok(Math.abs(n('cpu_s') - n('cpu_user_s') - n('cpu_sys_s')) < 1e-5, `${where}: cpu_s = user + sys`);
  // Counts are scaled by 0.05, rounded, at least 1 (clients and window are not scaled).
  const expectedOps: Record<string, number> = {
    seq_get: 150,
    seq_set: 100,
    pipelined_get: 2500,
    pipelined_create_delete: 1000,
    lock_uncontended: 25,
    lock_contended: 8 * 3,
    watch_latency: 50,
    connect: 10,
  };
  assert.equal(n('ops'), expectedOps[record.workload as string], `${where}: ops`);
  if (record.workload === 'pipelined_create_delete') {
    for (const key of ['create_s', 'delete_s', 'create_ops_per_s', 'delete_ops_per_s'])
      assert.ok(isNumber(record[key]) && n(key) > 0, `${where}: ${key}`);
    assert.equal(record.window, 1000);
  }
  if (record.workload === 'lock_contended') {
    assert.equal(record.mutex_ok, true, `${where}: mutex_ok`);
    assert.equal(record.violations, 0);
  }
}

test(
  'npm run bench at scale 0.05 (one pass, small memory counts) completes and prints valid records',
  { timeout: TIMEOUT_MS + 10_000 },
  async () => {
    const { code, stdout, stderr } = await runToExit(
      process.execPath,
      [
        RUNNER,
        '--scale',
        '0.05',
        '--passes',
        '1',
        '--json',
        '--memory-watches',
        '2000',
        '--memory-sessions',
        '20',
      ],
      { limitMs: TIMEOUT_MS },
    );
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n').filter((line) => line.trim() !== '');
    assert.ok(lines.length > 0, 'no output');
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as Json;
      } catch {
        assert.fail(`not a JSON line: ${line}`);
      }
    });

    const workloadRecords = parsed.filter(
      (record) => record.kind === undefined && WORKLOADS.includes(record.workload as string),
    );
    const memoryRecords = parsed.filter(
      (record) => record.kind === undefined && MEMORY.includes(record.workload as string),
    );
    assert.equal(
      workloadRecords.length + memoryRecords.length,
      parsed.filter((record) => record.kind === undefined).length,
      'every record is a workload or memory record',
    );
    for (const record of workloadRecords) checkWorkloadRecord(record);

    // Every client x workload once (a peer that cannot load is a skip, still reported).
    for (const client of CLIENTS) {
      for (const workload of WORKLOADS) {
        assert.equal(
          workloadRecords.filter((record) => record.client === client && record.workload === workload).length,
          1,
          `${client} ${workload}`,
        );
      }
    }
    // Our client runs every workload, the lock ones with our Lock.
    for (const record of workloadRecords.filter((entry) => entry.client === 'zookeeper-coordination')) {
      assert.equal(record.status, 'ok', `ours ${String(record.workload)}: ${String(record.note)}`);
    }
    const runIds = new Set(workloadRecords.map((record) => record.run_id));
    assert.equal(runIds.size, 1, 'one run id for the whole run');

    assert.deepEqual(
      memoryRecords.map((record) => record.workload),
      MEMORY,
    );
    for (const record of memoryRecords) {
      assert.equal(record.status, 'ok', String(record.note));
      assert.equal(record.count, record.workload === 'memory_idle_session' ? 20 : 2000);
      for (const key of ['heap_bytes_per', 'external_bytes_per', 'rss_bytes_per'])
        assert.ok(isNumber(record[key]), `${String(record.workload)}: ${key}`);
      assert.ok(
        (record.heap_bytes_per as number) > 0,
        `${String(record.workload)}: heap grows with the items`,
      );
    }

    // What bounds the connect and lock figures: every variant measured, 5 rounds of 10 cycles
    // (the native binding's connect row only when its addon loads).
    const bounds = parsed.filter((record) => record.kind === 'bound');
    const variants = (bound: string) =>
      bounds.filter((record) => record.bound === bound).map((record) => String(record.variant).split(':')[0]);
    assert.deepEqual(variants('connect').slice(0, 2), ['our client', 'bare net.Socket']);
    assert.ok(variants('connect').length <= 3, 'at most the native binding besides');
    assert.equal(variants('lock').length, 3);
    assert.equal(variants('pipelined_get').length, 3);
    assert.equal(variants('pipelined_create_delete').length, 2);
    assert.equal(variants('watch_latency').length, 2);
    for (const record of bounds) {
      // 5 rounds of 10 cycles; the pipelined bounds: 5 rounds of one batch (1,000 gets; 250 nodes
      // created and deleted).
      if (record.bound === 'pipelined_get')
        assert.deepEqual([record.cycles, record.ops], [5, 5000], String(record.variant));
      else if (record.bound === 'pipelined_create_delete')
        assert.deepEqual([record.cycles, record.ops], [5, 2500], String(record.variant));
      else assert.deepEqual([record.cycles, record.ops], [50, 50], String(record.variant));
      for (const key of ['p50_us', 'cycles_per_s', 'ops_per_s', 'cpu_us_per_op'])
        assert.ok(isNumber(record[key]) && (record[key] as number) > 0, `${String(record.variant)}: ${key}`);
    }

    const targets = parsed.filter((record) => record.kind === 'target');
    assert.ok(targets.length >= 10, 'the targets of issue 7 are evaluated');
    for (const target of targets)
      assert.ok(target.ok === null || typeof target.ok === 'boolean', JSON.stringify(target));
    assert.ok(parsed.some((record) => record.kind === 'median'));
    // The human-readable table goes to stderr in --json mode.
    assert.match(stderr, /workload\s+client\s+ops\/s\s+p50 ms\s+p99 ms\s+CPU µs\/op/);
    assert.match(stderr, /target \(issue 7, medians\)/);
  },
);

test('npm run bench:import (one run of two entries) prints a row per entry with a measured import time', async () => {
  const script = fileURLToPath(new URL('../../bench/import-time.js', import.meta.url));
  const { code, stdout, stderr } = await runToExit(
    process.execPath,
    [script, '--runs', '1', '--entries', 'zookeeper-coordination,zookeeper-coordination/di'],
    { limitMs: 60_000 },
  );
  assert.equal(code, 0, stderr);
  for (const entry of ['zookeeper-coordination', 'zookeeper-coordination/di']) {
    const row = new RegExp(`^\\| \`${entry}\` \\| (\\d+\\.\\d) \\|`, 'm').exec(stdout);
    assert.ok(row && Number(row[1]) > 0, `a row for ${entry}:\n${stdout}`);
  }
});
