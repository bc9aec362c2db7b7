/**
 * SetPartitioner against a real ZooKeeper server: kazoo's KazooPartitionerTests (kazoo 2.8
 * kazoo/tests/test_partitioner.py; `timeBoundary` 200 ms, items `0..n-1`) in our own words, plus: kazoo's split
 * function, the znode layout, 3 members × 12 items, a member's session killed for real while the
 * others re-balance (ownership intervals from every member, timestamped, must never overlap, and
 * the lock nodes must agree with the reported owners), SUSPENDED → RELEASE and LOST → FAILURE,
 * duplicate identifiers, and the async-iterator / waitForAcquire shapes.
 *
 * kazoo's two race-condition tests swap the item locks for slow local locks; here the slow lock
 * is real: another client holds an item's lock while the partitioner tries to take it.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test, type TestContext } from 'node:test';
import {
  ConnectionState,
  DuplicateIdentifierError,
  InvalidArgumentError,
  kazooPartition,
  Lock,
  NoAuthError,
  PartitionerFailedError,
  PartitionState,
  pythonSorted,
  READ_ACL_UNSAFE,
  SetPartitioner,
  type SetPartitionerOptions,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { assertNoOverlap, children } from '../support/recipes.js';
import { eventually, grace, probe, safety, within } from '../support/wait.js';

const server = await serverForFile();

const BOUNDARY = 200;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function partitioner<T extends string | number>(
  t: TestContext,
  zk: ZooKeeperClient,
  path: string,
  set: Iterable<T>,
  options: SetPartitionerOptions<T> = {},
): SetPartitioner<T> {
  const p = new SetPartitioner(zk, path, set, { timeBoundary: BOUNDARY, maxReactionTime: 300, ...options });
  t.after(() => p.finish());
  return p;
}

async function acquired<T extends string | number>(
  p: SetPartitioner<T>,
  what = `${p.identifier} acquires`,
): Promise<T[]> {
  await eventually(
    async () => {
      if (p.released) await p.release();
      return p.acquired;
    },
    what,
    safety(20_000),
  );
  return [...p.items];
}

async function stateBecomes(
  p: { state: PartitionState; identifier: string },
  state: PartitionState,
): Promise<void> {
  await eventually(
    () => p.state === state,
    `${p.identifier} reaches ${state} (is ${p.state})`,
    safety(20_000),
  );
}

/** The holder (lowest sequence) of each item lock, with its session. */
async function lockHolders(
  zk: ZooKeeperClient,
  path: string,
  items: readonly (string | number)[],
): Promise<Map<string, bigint | undefined>> {
  const holders = new Map<string, bigint | undefined>();
  for (const item of items) {
    const dir = `${path}/locks/${String(item)}`;
    const nodes = (await children(zk, dir))
      .filter((name) => /__lock__\d{10}$/.test(name))
      .sort((a, b) => (a.slice(-10) < b.slice(-10) ? -1 : 1));
    const holder = nodes[0];
    holders.set(
      String(item),
      holder === undefined ? undefined : (await zk.exists(`${dir}/${holder}`))?.ephemeralOwner,
    );
  }
  return holders;
}

describe('SetPartitioner: kazoo KazooPartitionerTests', () => {
  test('test_party_of_one: a single member acquires the whole set', async (t) => {
    const zk = await connect(t, server);
    const p = partitioner(t, zk, uniqueRoot('sp'), range(3), { identifier: 'only' });
    assert.equal(p.state, PartitionState.ALLOCATING);
    assert.equal(await within(p.waitForAcquire(), 'acquire', safety(20_000)), true);
    assert.deepEqual([...p.items], [0, 1, 2]);
    assert.equal(p.acquired, true);
    await p.finish();
    assert.equal(p.failed, true);
    assert.deepEqual([...p.items], []);
  });

  test('test_party_of_two: [0] and [1]; when the first finishes the second goes to RELEASE', async (t) => {
    const path = uniqueRoot('sp');
    const p0 = partitioner(t, await connect(t, server), path, range(2), { identifier: '0' });
    const p1 = partitioner(t, await connect(t, server), path, range(2), { identifier: '1' });
    assert.deepEqual(await acquired(p0), [0]);
    assert.deepEqual(await acquired(p1), [1]);
    await p0.finish();
    await stateBecomes(p1, PartitionState.RELEASE);
    assert.deepEqual(await acquired(p1), [0, 1]);
  });

  test('test_party_expansion: [0,2],[1]; a third member makes both RELEASE (state events fire); then [0],[1],[2]', async (t) => {
    const path = uniqueRoot('sp');
    const p0 = partitioner(t, await connect(t, server), path, range(3), { identifier: '0' });
    const p1 = partitioner(t, await connect(t, server), path, range(3), { identifier: '1' });
    assert.deepEqual(await acquired(p0), [0, 2]);
    assert.deepEqual(await acquired(p1), [1]);
    const events: string[] = [];
    p0.on('state', (state) => events.push(`0:${state}`));
    p1.on('state', (state) => events.push(`1:${state}`));
    const p2 = partitioner(t, await connect(t, server), path, range(3), { identifier: '2' });
    await stateBecomes(p0, PartitionState.RELEASE);
    await stateBecomes(p1, PartitionState.RELEASE);
    assert.ok(
      events.includes('0:RELEASE') && events.includes('1:RELEASE'),
      `state events: ${events.join(', ')}`,
    );
    await Promise.all([p0.release(), p1.release()]);
    assert.deepEqual(await acquired(p0), [0]);
    assert.deepEqual(await acquired(p1), [1]);
    assert.deepEqual(await acquired(p2), [2]);
  });

  test('test_more_members_than_set_items: 2 members, 1 item → [0] and [], both ACQUIRED', async (t) => {
    const path = uniqueRoot('sp');
    const p0 = partitioner(t, await connect(t, server), path, range(1), { identifier: '0' });
    const p1 = partitioner(t, await connect(t, server), path, range(1), { identifier: '1' });
    assert.deepEqual(await acquired(p0), [0]);
    assert.deepEqual(await acquired(p1), []);
    assert.equal(p0.acquired && p1.acquired, true);
  });

  test('test_party_session_failure: after a session loss (FAILURE), release() leaves it failed', async (t) => {
    const zk = await connect(t, server);
    const p = partitioner(t, zk, uniqueRoot('sp'), range(2), { identifier: 'x' });
    await acquired(p);
    const lost = nextState(zk, ConnectionState.LOST, safety());
    await server.expireSession(zk);
    await lost;
    await stateBecomes(p, PartitionState.FAILURE);
    assert.ok(p.error instanceof PartitionerFailedError);
    const id = p.stateId;
    await p.release();
    assert.equal(p.failed, true);
    assert.equal(p.stateId, id, 'no state change');
    await assert.rejects(p.waitForAcquire(), PartitionerFailedError);
  });

  test('test_connection_loss: a drop makes both RELEASE; release → same split; a third member → 3-way split', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const path = uniqueRoot('sp');
    const zk0 = await connect(t, proxy.connectString);
    const zk1 = await connect(t, proxy.connectString);
    const p0 = partitioner(t, zk0, path, range(3), { identifier: '0' });
    const p1 = partitioner(t, zk1, path, range(3), { identifier: '1' });
    assert.deepEqual(await acquired(p0), [0, 2]);
    assert.deepEqual(await acquired(p1), [1]);
    const back = Promise.all([
      nextState(zk0, ConnectionState.CONNECTED),
      nextState(zk1, ConnectionState.CONNECTED),
    ]);
    proxy.drop();
    await back;
    assert.equal(p0.state, PartitionState.RELEASE);
    assert.equal(p1.state, PartitionState.RELEASE);
    await Promise.all([p0.release(), p1.release()]);
    assert.deepEqual(await acquired(p0), [0, 2]);
    assert.deepEqual(await acquired(p1), [1]);
    const p2 = partitioner(t, await connect(t, server), path, range(3), { identifier: '2' });
    await stateBecomes(p0, PartitionState.RELEASE);
    await stateBecomes(p1, PartitionState.RELEASE);
    await Promise.all([p0.release(), p1.release()]);
    assert.deepEqual(await acquired(p0), [0]);
    assert.deepEqual(await acquired(p1), [1]);
    assert.deepEqual(await acquired(p2), [2]);
  });

  test('test_race_condition_new_partitioner_during_the_lock: a member joins while the first is stuck on a slow lock → no deadlock, [0],[1]', async (t) => {
    const path = uniqueRoot('sp');
    const blocker = await connect(t, server);
    const slow = new Lock(blocker, `${path}/locks/1`);
    assert.equal(await slow.acquire(), true);
    const p0 = partitioner(t, await connect(t, server), path, range(2), { identifier: '0' });
    // p0 alone wants [0, 1]: it locks 0, then waits on 1 (held elsewhere).
    await eventually(
      async () => (await children(blocker, `${path}/locks/0`)).length === 1,
      'p0 holds item 0',
    );
    await grace(BOUNDARY);
    assert.equal(p0.state, PartitionState.ALLOCATING);
    const p1 = partitioner(t, await connect(t, server), path, range(2), { identifier: '1' });
    await grace(BOUNDARY * 2);
    await slow.release();
    assert.deepEqual(await acquired(p0), [0]);
    assert.deepEqual(await acquired(p1), [1]);
  });

  test('test_race_condition_new_partitioner_steals_the_lock: the newcomer takes the item the first was waiting for; the first re-partitions', async (t) => {
    const path = uniqueRoot('sp');
    const blocker = await connect(t, server);
    const slow = new Lock(blocker, `${path}/locks/1`);
    assert.equal(await slow.acquire(), true);
    const zk0 = await connect(t, server);
    const p0 = partitioner(t, zk0, path, range(2), { identifier: '0', maxReactionTime: 2_000 });
    await eventually(
      async () => (await children(blocker, `${path}/locks/1`)).length === 2,
      'p0 queued on item 1',
    );
    const zk1 = await connect(t, server);
    const p1 = partitioner(t, zk1, path, range(2), { identifier: '1', maxReactionTime: 100 });
    // Wait until p1 has queued on item 1 too, then free it: p0 or p1 may get it first.
    await eventually(
      async () => (await children(blocker, `${path}/locks/1`)).length === 3,
      'p1 queued on item 1',
      safety(20_000),
    );
    await slow.release();
    assert.deepEqual(await acquired(p0), [0]);
    assert.deepEqual(await acquired(p1), [1]);
    const holders = await lockHolders(blocker, path, [0, 1]);
    assert.equal(holders.get('0'), zk0.sessionId);
    assert.equal(holders.get('1'), zk1.sessionId);
  });
});

describe('SetPartitioner: split, layout, scale, failures', () => {
  test("kazoo's split: numbers sort numerically, strings by code point, members by code point", () => {
    assert.deepEqual(kazooPartition('b', ['c', 'a', 'b'], range(12)), [1, 4, 7, 10]);
    assert.deepEqual(kazooPartition('a', ['b', 'a'], [10, 9, 1, 2]), [1, 9]); // JS default sort would give [1, 10, 2, 9] order
    assert.deepEqual(kazooPartition('a', ['a', 'b'], ['b', 'a', 'c', 'B']), ['B', 'b']);
    // U+FF5E sorts before U+1F600 by code point, after it by UTF-16 unit.
    assert.deepEqual(pythonSorted(['\u{1F600}', '\uFF5E']), ['\uFF5E', '\u{1F600}']);
    assert.deepEqual(kazooPartition('\uFF5E', ['\u{1F600}', '\uFF5E'], range(4)), [0, 2]);
    assert.throws(() => kazooPartition('z', ['a'], range(2)), InvalidArgumentError);
    assert.throws(() => pythonSorted<string | number>([1, 'a']), InvalidArgumentError);
  });

  test('bad items and identifiers are rejected at construction', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('sp');
    assert.throws(() => new SetPartitioner(zk, path, ['a/b']), InvalidArgumentError);
    assert.throws(() => new SetPartitioner(zk, path, ['']), InvalidArgumentError);
    assert.throws(() => new SetPartitioner(zk, path, [Number.NaN]), InvalidArgumentError);
    assert.throws(() => new SetPartitioner(zk, path, ['x'], { identifier: 'a/b' }), InvalidArgumentError);
  });

  test('znode layout: <path>/party/<32hex>-<id> (data id) and <path>/locks/<item>/<32hex>__lock__<seq> (empty data)', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('sp');
    const p = partitioner(t, zk, path, ['alpha', 'beta'], { identifier: 'worker-1' });
    assert.deepEqual(await acquired(p), ['alpha', 'beta']);
    assert.deepEqual((await zk.getChildren(path)).sort(), ['locks', 'party']);
    const members = await zk.getChildren(`${path}/party`);
    assert.equal(members.length, 1);
    assert.match(members[0]!, /^[0-9a-f]{32}-worker-1$/);
    const member = await zk.get(`${path}/party/${members[0]}`);
    assert.equal(member.data.toString(), 'worker-1');
    assert.equal(member.stat.ephemeralOwner, zk.sessionId);
    assert.deepEqual((await zk.getChildren(`${path}/locks`)).sort(), ['alpha', 'beta']);
    for (const item of ['alpha', 'beta']) {
      const [node, ...rest] = await zk.getChildren(`${path}/locks/${item}`);
      assert.deepEqual(rest, []);
      assert.match(node!, /^[0-9a-f]{32}__lock__\d{10}$/);
      const lock = await zk.get(`${path}/locks/${item}/${node}`);
      assert.equal(lock.data.length, 0);
      assert.equal(lock.stat.ephemeralOwner, zk.sessionId);
    }
    await p.finish();
    assert.deepEqual(await zk.getChildren(`${path}/party`), []);
    assert.deepEqual(await zk.getChildren(`${path}/locks/alpha`), []);
  });

  test('3 members over 12 items: each item owned by exactly one member; the union is the set', async (t) => {
    const path = uniqueRoot('sp');
    const set = range(12).map((i) => `item-${String(i).padStart(2, '0')}`);
    const clients = await Promise.all([0, 1, 2].map(() => connect(t, server)));
    const members = clients.map((zk, i) => partitioner(t, zk, path, set, { identifier: `m${i}` }));
    await within(Promise.all(members.map((p) => p.waitForAcquire())), 'all acquired', safety(20_000));
    await eventually(
      async () => {
        for (const p of members) if (p.released) await p.release();
        return members.every((p) => p.acquired);
      },
      'all acquired together',
      safety(20_000),
    );
    const owned = members.map((p) => [...p.items]);
    assert.deepEqual(
      owned.map((items) => items.length),
      [4, 4, 4],
    );
    assert.deepEqual(owned.flat().sort(), [...set].sort(), 'union = the set, no item twice');
    owned.forEach((items, i) => assert.deepEqual(items, kazooPartition(`m${i}`, ['m0', 'm1', 'm2'], set)));
    const holders = await lockHolders(clients[0]!, path, set);
    owned.forEach((items, i) =>
      items.forEach((item) => assert.equal(holders.get(item), clients[i]!.sessionId, `lock of ${item}`)),
    );
  });

  test('a share larger than the lock window (locks taken concurrently, no listener warning): one item held elsewhere delays only itself; a lock that fails fails the partitioner with every lock released', async (t) => {
    const path = uniqueRoot('sp');
    const set = range(100).map((i) => `item-${String(i).padStart(3, '0')}`);
    const [zk, other] = await Promise.all([connect(t, server), connect(t, server)]);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    await using held = new Lock(other, `${path}/locks/item-050`);
    assert.equal(await held.acquire(), true);
    const p = partitioner(t, zk, path, set, { identifier: 'm0' });
    await eventually(
      async () =>
        [...(await lockHolders(zk, path, set)).values()].filter((s) => s === zk.sessionId).length === 99,
      'every other item locked while item-050 is held elsewhere',
      safety(20_000),
    );
    assert.equal(p.acquired, false);
    await held.release();
    assert.deepEqual([...(await acquired(p))].sort(), set, 'the whole set once item-050 is free');
    const holders = await lockHolders(zk, path, set);
    for (const item of set) assert.equal(holders.get(item), zk.sessionId, `lock of ${item}`);
    await p.finish();

    // An item whose lock directory we may not write into: that acquire fails, the others stop.
    const failing = uniqueRoot('sp');
    await other.ensurePath(`${failing}/locks`);
    await other.create(`${failing}/locks/item-077`, Buffer.alloc(0), { acl: READ_ACL_UNSAFE });
    const q = partitioner(t, zk, failing, set, { identifier: 'm0' });
    await eventually(() => q.failed, 'FAILURE', safety(20_000));
    assert.ok(q.error instanceof NoAuthError, `the lock's error: ${String(q.error)}`);
    const left = [...(await lockHolders(other, failing, set)).values()].filter((s) => s !== undefined);
    assert.deepEqual(left, [], 'every lock taken before the failure was released');
    assert.deepEqual(warnings, [], 'no MaxListenersExceededWarning from the locks in flight');
  });

  test("a member's session is killed: it fails, the others re-balance, and no item is ever owned twice", async (t) => {
    const path = uniqueRoot('sp');
    const set = range(12);
    const clients = await Promise.all([0, 1, 2].map(() => connect(t, server)));
    const intervals: { key: string; owner: string; start: number; end: number }[] = [];
    const sampled: string[] = [];
    const members = clients.map(
      (zk, i) =>
        new SetPartitioner(zk, path, set, { identifier: `m${i}`, timeBoundary: 300, maxReactionTime: 300 }),
    );
    t.after(() => Promise.all(members.map((p) => p.finish())));
    const loops = members.map(async (p) => {
      try {
        for await (const { items, signal } of p) {
          const start = performance.now();
          await new Promise((resolve) =>
            signal.aborted ? resolve(undefined) : signal.addEventListener('abort', resolve, { once: true }),
          );
          const end = performance.now();
          for (const item of items) intervals.push({ key: String(item), owner: p.identifier, start, end });
        }
        return 'finished';
      } catch (error) {
        return error;
      }
    });
    // In-process sampling: at every moment, the live assignments are disjoint.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const seen = new Map<number, string>();
        for (const p of members) {
          if (!p.acquired) continue;
          for (const item of p.items) {
            const other = seen.get(item);
            if (other !== undefined) sampled.push(`${item} owned by ${other} and ${p.identifier}`);
            seen.set(item, p.identifier);
          }
        }
        await grace(5);
      }
    })();
    await eventually(
      () => members.every((p) => p.acquired) && members.every((p) => [...p.items].length === 4),
      '4 items each',
      safety(20_000),
    );
    const victim = members[1]!;
    await server.expireSession(clients[1]!);
    assert.ok(
      (await within(loops[1]!, 'the victim ends', safety(20_000))) instanceof PartitionerFailedError,
      'LOST → FAILURE',
    );
    assert.equal(victim.failed, true);
    await eventually(
      () =>
        members[0]!.acquired &&
        members[2]!.acquired &&
        [...members[0]!.items].length + [...members[2]!.items].length === 12,
      'survivors re-balance',
      safety(20_000),
    );
    assert.deepEqual([...members[0]!.items], kazooPartition('m0', ['m0', 'm2'], set));
    assert.deepEqual([...members[2]!.items], kazooPartition('m2', ['m0', 'm2'], set));
    const holders = await lockHolders(clients[0]!, path, set);
    for (const i of [0, 2])
      for (const item of members[i]!.items)
        assert.equal(holders.get(String(item)), clients[i]!.sessionId, `lock of ${item} held by m${i}`);
    sampling = false;
    await sampler;
    await Promise.all([members[0]!.finish(), members[2]!.finish()]);
    assert.deepEqual(await within(Promise.all([loops[0], loops[2]]), 'loops end on finish'), [
      'finished',
      'finished',
    ]);
    assert.deepEqual(sampled, []);
    assertNoOverlap(intervals);
    assert.ok(
      intervals.some((i) => i.owner === 'm1'),
      'the victim owned items before',
    );
    assert.ok(
      intervals.filter((i) => i.owner !== 'm1').length > 8,
      'the survivors owned items in two periods',
    );
  });

  test('SUSPENDED → RELEASE (the assignment signal fires at once); the iterator re-acquires after the reconnect', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const p = partitioner(t, zk, uniqueRoot('sp'), range(2), { identifier: 'solo' });
    const assignments: { items: readonly number[]; signal: AbortSignal }[] = [];
    const loop = (async () => {
      for await (const assignment of p) {
        assignments.push(assignment);
        if (assignments.length === 2) break;
        await new Promise((resolve) => assignment.signal.addEventListener('abort', resolve, { once: true }));
      }
    })();
    await eventually(() => assignments.length === 1, 'first assignment', safety(20_000));
    proxy.refuse();
    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.drop();
    await suspended;
    assert.equal(assignments[0]!.signal.aborted, true, 'signal fired on SUSPENDED');
    assert.equal(p.state === PartitionState.RELEASE || p.state === PartitionState.ALLOCATING, true);
    proxy.accept();
    await within(loop, 'second assignment, then break', safety(20_000));
    assert.deepEqual(
      assignments.map((a) => [...a.items]),
      [
        [0, 1],
        [0, 1],
      ],
    );
    assert.equal(p.failed, true, 'leaving the loop finished the partitioner');
    assert.deepEqual(await zk.getChildren(`${p.path}/party`), []);
  });

  test('duplicate identifiers: the later member fails with DuplicateIdentifierError; the first one acquires', async (t) => {
    const path = uniqueRoot('sp');
    const first = partitioner(t, await connect(t, server), path, range(4), { identifier: 'same' });
    await eventually(
      async () => (await children(first.client, `${path}/party`)).length === 1,
      'first joined',
    );
    const second = partitioner(t, await connect(t, server), path, range(4), { identifier: 'same' });
    const error = await within(
      second.waitForAcquire().then(
        () => undefined,
        (e: unknown) => e,
      ),
      'second fails',
      safety(20_000),
    );
    assert.ok(error instanceof DuplicateIdentifierError, `got ${String(error)}`);
    assert.equal(second.failed, true);
    assert.deepEqual(await acquired(first), [0, 1, 2, 3]);
    assert.equal((await children(first.client, `${path}/party`)).length, 1, 'the duplicate left the party');
  });

  test('waitForAcquire: false on timeout, AbortError on abort; async dispose finishes', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('sp');
    {
      await using p = new SetPartitioner(zk, path, range(2), { identifier: 'slow', timeBoundary: 60_000 });
      assert.equal(await p.waitForAcquire({ timeout: 100 }), false);
      const controller = new AbortController();
      const waiting = probe(p.waitForAcquire({ signal: controller.signal }));
      controller.abort();
      await assert.rejects(waiting.promise, { name: 'AbortError' });
      await p.ready;
      assert.equal((await zk.getChildren(`${path}/party`)).length, 1);
    }
    assert.deepEqual(await zk.getChildren(`${path}/party`), [], 'disposed: left the party');
  });
});

describe('SetPartitioner: lost replies (frame proxy)', () => {
  test('the party-node create and an item-lock create lose their replies: it still acquires, with one node of ours each', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('sp');
    const partyLost = proxy.swallowReply({ op: 'create2', path: (p) => p.startsWith(`${path}/party/`) });
    const lockLost = proxy.swallowReply({ op: 'create2', path: (p) => p.startsWith(`${path}/locks/0/`) });
    const p = partitioner(t, zk, path, range(3), { identifier: 'only' });
    assert.deepEqual(await acquired(p), [0, 1, 2]);
    assert.deepEqual([partyLost.fired, lockLost.fired], [1, 1], 'both replies were lost');
    const members = await children(observer, `${path}/party`);
    assert.equal(members.length, 1, 'one party node');
    assert.equal((await observer.exists(`${path}/party/${members[0]!}`))?.ephemeralOwner, zk.sessionId);
    for (const item of range(3))
      assert.equal(
        (await children(observer, `${path}/locks/${item}`)).length,
        1,
        `one lock node for item ${item}`,
      );
    assert.deepEqual(
      [...(await lockHolders(observer, path, range(3))).values()],
      [zk.sessionId, zk.sessionId, zk.sessionId],
    );
  });
});
