/**
 * The inspector's recognisers on hand-made trees: the layouts the integration test's processes
 * do not write (Curator's read-write lock, LeaderLatch, SharedCount, queues and service
 * discovery; kazoo's SetPartitioner, Party, DoubleBarrier, NonBlockingLease, Counter; Curator's
 * GroupMember, PersistentTtlNode and protected PersistentNode next to look-alikes that are none
 * of them), their orders, the `cons` parsing, the stale rules and how the table and the web view
 * show the kinds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Stat } from '../../src/client/protocol/records.js';
import { encodeLease } from '../../src/recipes/lease/non-blocking-lease.js';
import { formatInspection } from '../../src/inspector/format.js';
import type { InspectedRecipe, Inspection } from '../../src/inspector/model.js';
import { recognise } from '../../src/inspector/recognise.js';
import { parseCons, sessionHex } from '../../src/inspector/sessions.js';
import type { Tree, TreeNode } from '../../src/inspector/tree.js';
import { renderView } from '../../src/inspector/view.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const LIVE = 0x100000000000001n;
const DEAD = 0x100000000000002n;
const OTHER = 0x100000000000003n;

interface Spec {
  data?: string | Buffer;
  /** The owning session: ephemeral when set. */
  owner?: bigint;
  cversion?: number;
  /** Last modified, epoch ms (default T0). */
  mtime?: number;
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
      mtime: spec.mtime ?? T0,
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

const UUID2 = '1d6f4e7b-2c3d-4e6f-9a01-b2c3d4e5f607';

test("Curator's GroupMember: each member with its id, payload (short, printable), session and client; a dead member is stale", () => {
  const [group] = recipes({
    '/app/members/alice': { owner: LIVE, data: '127.0.1.1' },
    '/app/members/bob': { owner: DEAD, data: Buffer.from([0, 1, 2, 0xff]) },
    '/app/members/carol': { owner: OTHER, data: 'é'.repeat(100) },
    '/app/members/dave': { owner: LIVE },
  });
  assert.ok(group?.kind === 'group');
  assert.equal(group.path, '/app/members');
  assert.equal(group.layout, 'curator');
  assert.deepEqual(group.members, ['alice', 'bob', 'carol', 'dave']);
  assert.deepEqual(
    group.holders.map((p) => [p.identifier, p.data, p.sessionId, p.client]),
    [
      ['alice', '127.0.1.1', sessionHex(LIVE), '127.0.0.1:40000'],
      ['bob', '0x000102ff', sessionHex(DEAD), undefined],
      ['carol', `${'é'.repeat(63)}…`, sessionHex(OTHER), '127.0.0.1:40001'],
      ['dave', undefined, sessionHex(LIVE), '127.0.0.1:40000'],
    ],
  );
  assert.equal(group.holders[0]!.since, new Date(T0 + 4000).toISOString(), 'ctime');
  assert.deepEqual(
    group.stale.map((s) => s.path),
    ['/app/members/bob'],
  );
  assert.match(group.stale[0]!.reason, /session 0x100000000000002 is not connected to any server/);
});

test('not a group: sequential ephemerals, a lock directory, kazoo parties, markers, persistent or protected children', () => {
  const found = recipes({
    // a plain directory of sequential ephemerals (e.g. a Curator queue's item locks)
    '/look/sequential/n-0000000001': { owner: LIVE, data: 'x' },
    '/look/sequential/n-0000000002': { owner: OTHER, data: 'y' },
    // locks: kazoo's and Curator's
    [`/look/kazoo-lock/${HEX}__lock__0000000000`]: { owner: LIVE, data: 'holder' },
    [`/look/curator-lock/_c_${UUID}-lock-0000000000`]: { owner: LIVE, data: 'holder' },
    // kazoo's ShallowParty
    [`/look/shallow/${HEX}-worker-1`]: { owner: LIVE },
    // a recipe's attempt marker
    [`/look/marker/__take_op__${HEX}`]: { owner: LIVE },
    // an ephemeral next to a persistent node
    '/look/mixed/member': { owner: LIVE, data: 'x' },
    '/look/mixed/config': { data: 'x' },
  });
  assert.deepEqual(
    found.map((r) => [r.path, r.kind]),
    [
      ['/look/curator-lock', 'lock'],
      ['/look/kazoo-lock', 'lock'],
    ],
  );
  // A protected node makes its directory no group: it is a PersistentNode's, the others stay unclaimed.
  const withProtected = recipes({
    '/look/members/alice': { owner: LIVE },
    [`/look/members/_c_${UUID}-bob`]: { owner: LIVE },
  });
  assert.deepEqual(
    withProtected.map((r) => [r.path, r.kind]),
    [[`/look/members/_c_${UUID}-bob`, 'persistent-node']],
  );
});

test("Curator's PersistentTtlNode: a node whose only child is a touch with a host address; the last touch time; no session", () => {
  const found = recipes({
    '/ttl/worker': { data: 'busy' },
    '/ttl/worker/touch': { data: '127.0.1.1', mtime: T0 + 5000 },
    '/ttl/unresolved/touch': { mtime: T0 + 7000 },
    '/ttl/v6/touch': { data: '::1' },
    // look-alikes: a child `touch` that is not an address, another child next to it, a deeper touch
    '/ttl/text/touch': { data: 'hello' },
    '/ttl/two/touch': { data: '127.0.0.1' },
    '/ttl/two/other': { data: 'x' },
    '/ttl/deep/touch/more': { data: 'x' },
  });
  assert.deepEqual(
    found.map((r) => [r.path, r.kind]),
    [
      ['/ttl/unresolved', 'ttl-node'],
      ['/ttl/v6', 'ttl-node'],
      ['/ttl/worker', 'ttl-node'],
    ],
  );
  const worker = found[2];
  assert.ok(worker?.kind === 'ttl-node');
  assert.equal(worker.layout, 'curator');
  assert.equal(worker.touched, new Date(T0 + 5000).toISOString());
  assert.equal(worker.touchedBy, '127.0.1.1');
  assert.equal(worker.data, 'busy');
  assert.deepEqual([worker.holders, worker.waiters, worker.stale], [[], [], []]);
  assert.ok(found[0]?.kind === 'ttl-node' && found[0].touchedBy === null && found[0].data === null);
});

test("Curator's protected PersistentNode: name and owner session; STALE when its session is on no server (only when every server answered)", () => {
  const specs: Record<string, Spec> = {
    [`/nodes/_c_${UUID}-worker`]: { owner: LIVE, data: 'w1' },
    [`/nodes/_c_${UUID2}-gone`]: { owner: DEAD },
    // not PersistentNodes: a latch's and a semaphore lease's protected nodes, a protected persistent node
    [`/elect/_c_${UUID}-latch-0000000000`]: { owner: LIVE },
    [`/sem/leases/_c_${UUID}-lease-0000000000`]: { owner: LIVE },
    [`/sem/locks/_c_${UUID2}-lock-0000000001`]: { owner: LIVE },
    [`/kept/_c_${UUID}-config`]: { data: 'x' },
  };
  const found = recipes(specs);
  assert.deepEqual(
    found.map((r) => [r.path, r.kind]),
    [
      ['/elect', 'leader-latch'],
      [`/nodes/_c_${UUID}-worker`, 'persistent-node'],
      [`/nodes/_c_${UUID2}-gone`, 'persistent-node'],
      ['/sem', 'semaphore'],
    ],
  );
  const [, worker, gone] = found;
  assert.ok(worker?.kind === 'persistent-node' && gone?.kind === 'persistent-node');
  assert.equal(worker.name, 'worker');
  assert.deepEqual(
    worker.holders.map((p) => [p.identifier, p.data, p.sessionId, p.client]),
    [['worker', 'w1', sessionHex(LIVE), '127.0.0.1:40000']],
  );
  assert.deepEqual(worker.stale, []);
  assert.deepEqual(
    gone.stale.map((s) => s.path),
    [`/nodes/_c_${UUID2}-gone`],
  );
  assert.match(gone.stale[0]!.reason, /session 0x100000000000002 is not connected to any server/);
  const withoutCons = recipes(specs, false).find((r) => r.path === `/nodes/_c_${UUID2}-gone`);
  assert.deepEqual(withoutCons?.stale, [], 'not every server answered cons: nobody is called dead');
});

test('the new kinds in the table, the web view and the JSON: one model', () => {
  const inspection: Inspection = {
    path: '/',
    at: new Date(T0 + 3_600_000).toISOString(),
    recipes: recipes({
      '/app/members/alice': { owner: LIVE, data: 'payload-a' },
      '/app/members/bob': { owner: DEAD, data: 'payload-b' },
      '/app/ttl': { data: 'busy' },
      '/app/ttl/touch': { data: '127.0.1.1', mtime: T0 + 5000 },
      [`/app/nodes/_c_${UUID}-worker`]: { owner: LIVE, data: 'w1' },
    }),
    nodes: 8,
    truncated: false,
    sessionsKnown: true,
  };
  assert.deepEqual(JSON.parse(JSON.stringify(inspection)), inspection, 'plain JSON');
  const table = formatInspection(inspection);
  assert.match(table, /^group {2}\/app\/members {2}\[curator\] {2}2 member\(s\)$/m);
  assert.match(table, /^ {2}role +identifier +data +session +client +since +node$/m);
  assert.match(table, /^ {2}member +alice +payload-a +0x100000000000001 +127\.0\.0\.1:40000 /m);
  assert.match(table, /^ {2}member +bob +payload-b +0x100000000000002 +- .* bob {2}STALE$/m);
  assert.match(
    table,
    /^ttl-node {2}\/app\/ttl {2}\[curator\] {2}touched 2026-01-01T00:00:05\.000Z by 127\.0\.1\.1, data busy$/m,
  );
  assert.match(
    table,
    new RegExp(`^persistent-node {2}/app/nodes/_c_${UUID}-worker {2}\\[curator\\] {2}name worker$`, 'm'),
  );
  assert.match(table, /^ {2}owner +worker +w1 +0x100000000000001 /m);

  const html = renderView({ inspection, history: {}, error: null }, T0 + 3_600_000);
  for (const kind of ['group', 'ttl-node', 'persistent-node'])
    assert.ok(html.includes(`data-kind="${kind}"`), `a ${kind} section`);
  assert.match(html, /<caption>Members<\/caption>/);
  assert.match(html, /<td data-data><code>payload-a<\/code><\/td>/);
  assert.match(html, /data-session="0x100000000000002" class="stale" data-stale/);
  assert.match(html, /<code data-figure="touchedBy">127\.0\.1\.1<\/code>/);
  assert.match(html, /<code data-figure="name">worker<\/code>/);
});
