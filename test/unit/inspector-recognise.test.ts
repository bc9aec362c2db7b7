/**
 * The inspector's recognisers on hand-made trees: the layouts the integration test's processes
 * do not write (Curator's read-write lock, LeaderLatch, SharedCount, queues and service
 * discovery; kazoo's SetPartitioner, Party, DoubleBarrier, NonBlockingLease, Counter), their
 * orders, the `cons` parsing and the stale rules.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Stat } from '../../src/client/protocol/records.js';
import { encodeLease } from '../../src/recipes/lease/non-blocking-lease.js';
import type { InspectedRecipe } from '../../src/inspector/model.js';
import { recognise } from '../../src/inspector/recognise.js';
import { parseCons, sessionHex } from '../../src/inspector/sessions.js';
import type { Tree, TreeNode } from '../../src/inspector/tree.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const LIVE = 0x100000000000001n;
const DEAD = 0x100000000000002n;
const OTHER = 0x100000000000003n;

interface Spec {
  data?: string | Buffer;
  /** The owning session: ephemeral when set. */
  owner?: bigint;
  cversion?: number;
}

/** A tree from `{ path: spec }`; parents are implied, ctime and czxid follow the listing order. */
function tree(specs: Record<string, Spec>): Tree {
  const nodes = new Map<string, TreeNode>();
  let zxid = 1n;
  const add = (path: string, spec: Spec): TreeNode => {
    const existing = nodes.get(path);
    if (existing) return existing;
    if (path !== '/') {
      const parent = add(path.slice(0, Math.max(path.lastIndexOf('/'), 1)), { cversion: 1 });
      parent.children.push(path.slice(path.lastIndexOf('/') + 1));
      parent.children.sort();
      parent.stat.numChildren++;
    }
    const stat: Stat = {
      czxid: zxid,
      mzxid: zxid,
      ctime: T0 + Number(zxid) * 1000,
      mtime: T0,
      version: 0,
      cversion: spec.cversion ?? 0,
      aversion: 0,
      ephemeralOwner: spec.owner ?? 0n,
      dataLength: 0,
      numChildren: 0,
      pzxid: zxid,
    };
    zxid++;
    const data = typeof spec.data === 'string' ? Buffer.from(spec.data) : (spec.data ?? Buffer.alloc(0));
    const node = {
      path,
      name: path === '/' ? '' : path.slice(path.lastIndexOf('/') + 1),
      data,
      stat,
      children: [],
    };
    nodes.set(path, node);
    return node;
  };
  for (const [path, spec] of Object.entries(specs)) add(path, spec);
  return { nodes, truncated: false };
}

function recipes(specs: Record<string, Spec>, sessions = true): InspectedRecipe[] {
  return recognise({
    tree: tree(specs),
    sessions: sessions
      ? new Map([
          [sessionHex(LIVE), '127.0.0.1:40000'],
          [sessionHex(OTHER), '127.0.0.1:40001'],
        ])
      : undefined,
    ownSession: '0x1',
    maxItems: 100,
    now: T0 + 3_600_000,
  });
}

const UUID = '0c5e3d6a-1b2c-4d5e-8f90-a1b2c3d4e5f6';
const HEX = 'a'.repeat(32);
const HEX2 = 'b'.repeat(32);

test('parseCons: the sessions and client addresses of a cons answer; sessionHex is unsigned', () => {
  const answer = [
    ' /127.0.0.1:49018[1](queued=0,recved=12,sent=12,sid=0x10000a5c4e50000,lop=PING,est=1,to=30000,lcxid=0x2)',
    ' /127.0.0.1:49020[0](queued=0,recved=1,sent=0)',
    '',
  ].join('\n');
  assert.deepEqual([...parseCons(answer)], [['0x10000a5c4e50000', '127.0.0.1:49018']]);
  assert.equal(sessionHex(-1n), '0xffffffffffffffff');
});

test("Curator's InterProcessReadWriteLock: readers ahead of the first writer hold, the rest wait in order", () => {
  const [lock] = recipes({
    [`/rw/_c_${UUID}-__READ__0000000000`]: { owner: LIVE, data: 'r1' },
    [`/rw/_c_${UUID}-__WRIT__0000000001`]: { owner: LIVE, data: 'w1' },
    [`/rw/_c_${UUID}-__READ__0000000002`]: { owner: LIVE, data: 'r2' },
  });
  assert.equal(lock!.kind, 'read-write-lock');
  assert.equal(lock!.layout, 'curator');
  assert.deepEqual(
    lock!.holders.map((p) => [p.identifier, p.mode]),
    [['r1', 'read']],
  );
  assert.deepEqual(
    lock!.waiters.map((p) => [p.identifier, p.mode]),
    [
      ['w1', 'write'],
      ['r2', 'read'],
    ],
  );
  assert.equal(lock!.holders[0]!.client, '127.0.0.1:40000');
});

test("Curator's LeaderLatch: the lowest latch- node leads; a contender of a dead session is stale", () => {
  const [latch] = recipes({
    [`/svc/latch/_c_${UUID}-latch-0000000003`]: { owner: LIVE, data: 'b' },
    [`/svc/latch/_c_${UUID}-latch-0000000001`]: { owner: DEAD, data: 'a' },
  });
  assert.equal(latch!.kind, 'leader-latch');
  assert.deepEqual(
    latch!.holders.map((p) => p.identifier),
    ['a'],
  );
  assert.deepEqual(
    latch!.waiters.map((p) => p.identifier),
    ['b'],
  );
  assert.equal(latch!.holders[0]!.client, undefined);
  assert.deepEqual(
    latch!.stale.map((s) => s.path),
    [`/svc/latch/_c_${UUID}-latch-0000000001`],
  );
  assert.match(latch!.stale[0]!.reason, /session 0x100000000000002 is not connected to any server/);
});

test('without cons nothing is flagged for its session, and no client is named', () => {
  const [lock] = recipes({ [`/l/${HEX}__lock__0000000000`]: { owner: DEAD } }, false);
  assert.deepEqual(lock!.stale, []);
  assert.equal(lock!.holders[0]!.client, undefined);
});

test('a persistent contender node is stale whatever the sessions', () => {
  const [lock] = recipes({ [`/l/${HEX}__lock__0000000000`]: {} }, false);
  assert.equal(lock!.holders[0]!.sessionId, null);
  assert.match(lock!.stale[0]!.reason, /persistent contender/);
});

test("Curator's SharedCount (int32) and kazoo's Counter (Python's repr)", () => {
  const count = Buffer.alloc(4);
  count.writeInt32BE(-7);
  const found = recipes({
    '/c/shared': { data: count },
    '/c/kazoo': { data: '2.5' },
    '/c/text': { data: 'abcd' },
  });
  assert.deepEqual(
    found.map((r) => [r.path, r.kind, r.layout, r.kind === 'counter' ? r.value : undefined]),
    [
      ['/c/kazoo', 'counter', 'kazoo', 2.5],
      ['/c/shared', 'counter', 'curator', -7],
    ],
  );
});

test("queues: kazoo's entry-<PPP>-<seq> in priority order, Curator's queue-/qn- (markers aside), depth and the first items", () => {
  const found = recipes({
    '/q/kazoo/entry-100-0000000000': {},
    '/q/kazoo/entry-001-0000000001': {},
    '/q/curator/queue-0000000000': {},
    '/q/curator/queue-0000000001': {},
    [`/q/curator/__take_op__${HEX}`]: { owner: LIVE },
    '/q/simple/qn-0000000000': {},
  });
  assert.deepEqual(
    found.map((r) => [
      r.path,
      r.layout,
      r.kind === 'queue' ? r.depth : undefined,
      r.waiters.map((w) => w.node),
    ]),
    [
      ['/q/curator', 'curator', 2, ['queue-0000000000', 'queue-0000000001']],
      ['/q/kazoo', 'kazoo', 2, ['entry-001-0000000001', 'entry-100-0000000000']],
      ['/q/simple', 'curator', 1, ['qn-0000000000']],
    ],
  );
});

test("kazoo's SetPartitioner: members from party/, the split from locks/<item>; an empty item lock is unheld, not stale; a dead member's lock is", () => {
  const [partitioner] = recipes({
    [`/p/party/${HEX}-worker-1`]: { owner: LIVE, data: 'worker-1' },
    [`/p/party/${HEX2}-worker-2`]: { owner: OTHER, data: 'worker-2' },
    [`/p/locks/1/${HEX}__lock__0000000000`]: { owner: LIVE },
    [`/p/locks/2/${HEX2}__lock__0000000000`]: { owner: OTHER },
    [`/p/locks/2/${HEX}__lock__0000000001`]: { owner: LIVE },
    '/p/locks/3': { cversion: 2 },
  });
  assert.ok(partitioner?.kind === 'partitioner');
  assert.deepEqual(partitioner.members, ['worker-1', 'worker-2']);
  assert.deepEqual(
    partitioner.items.map((i) => [
      i.item,
      i.holder?.node ?? null,
      i.holder?.identifier ?? null,
      i.waiters.length,
    ]),
    [
      ['1', `${HEX}__lock__0000000000`, 'worker-1', 0],
      ['2', `${HEX2}__lock__0000000000`, 'worker-2', 1],
      ['3', null, null, 0],
    ],
  );
  assert.deepEqual(
    partitioner.stale,
    [],
    'an empty item lock: mid-rebalance, or left by kazoo after a release',
  );
  const [withDead] = recipes({
    [`/p/party/${HEX}-worker-1`]: { owner: LIVE, data: 'worker-1' },
    [`/p/locks/1/${HEX2}__lock__0000000000`]: { owner: DEAD },
    '/p/locks/2': { cversion: 2 },
  });
  assert.deepEqual(
    withDead?.stale.map((s) => s.path),
    [`/p/locks/1/${HEX2}__lock__0000000000`],
  );
});

test("kazoo's Party and DoubleBarrier, in arrival order", () => {
  const found = recipes({
    [`/g/party/${HEX2}__party__`]: { owner: LIVE, data: 'first' },
    [`/g/party/${HEX}__party__`]: { owner: LIVE, data: 'second' },
    [`/g/barrier/${HEX}`]: { owner: LIVE, data: 'one' },
    '/g/barrier/ready': {},
  });
  assert.deepEqual(
    found.map((r) => [r.kind, r.kind === 'party' || r.kind === 'double-barrier' ? r.members : []]),
    [
      ['double-barrier', ['one']],
      ['party', ['first', 'second']],
    ],
  );
});

test("kazoo's NonBlockingLease: the holder while unexpired, none after", () => {
  const [held, expired] = recipes({
    '/lease/a/lease_holder': { data: encodeLease('host-1', '2026-01-01T05:00:00') },
    '/lease/b/lease_holder': { data: encodeLease('host-2', '2025-12-31T23:00:00') },
  });
  assert.ok(held?.kind === 'lease' && expired?.kind === 'lease');
  assert.deepEqual(
    held.holders.map((p) => p.identifier),
    ['host-1'],
  );
  assert.equal(held.expires, '2026-01-01T05:00:00.000Z');
  assert.deepEqual(expired.holders, []);
  assert.equal(expired.expires, null);
});

test("Curator service discovery: <base>/<name>/<id> JSON instances; kazoo's Semaphore with its max and internal lock", () => {
  const instance = (id: string, port: number) =>
    JSON.stringify({
      name: 'billing',
      id,
      address: '10.0.0.1',
      port,
      registrationTimeUTC: T0,
      serviceType: 'DYNAMIC',
    });
  const found = recipes({
    '/services/billing/i-1': { owner: LIVE, data: instance('i-1', 8080) },
    '/services/billing/i-2': { owner: LIVE, data: instance('i-2', 8081) },
    '/sem': { data: '2' },
    [`/sem/${HEX}`]: { owner: LIVE, data: 'lease-1' },
    [`/sem-__lock__/${HEX2}__lock__0000000000`]: { owner: LIVE, data: 'acquirer' },
  });
  assert.deepEqual(
    found.map((r) => r.path),
    ['/sem', '/services/billing'],
  );
  const [semaphore, service] = found;
  assert.ok(semaphore?.kind === 'semaphore' && service?.kind === 'service');
  assert.equal(semaphore.maxLeases, 2);
  assert.deepEqual(
    semaphore.holders.map((p) => p.identifier),
    ['lease-1'],
  );
  assert.deepEqual(
    semaphore.waiters.map((p) => p.identifier),
    ['acquirer'],
  );
  assert.equal(service.name, 'billing');
  assert.deepEqual(service.instances, ['10.0.0.1:8080', '10.0.0.1:8081']);
  assert.deepEqual(
    service.holders.map((p) => p.identifier),
    ['i-1', 'i-2'],
  );
});
