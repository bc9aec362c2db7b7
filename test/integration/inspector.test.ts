/**
 * The inspector (`zookeeper-coordination/inspect`) on a real server: ours, kazoo 2.8 and Curator
 * 5.4 processes hold locks, lead elections and hold semaphore leases on one tree; `inspect`
 * names every holder and waiter in order with its session and (the test kit whitelists every
 * four-letter word) its client address, and flags stale leftovers. The command (`bin`) runs as a
 * child process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  Election,
  LockingQueue,
  Lock,
  Semaphore,
  SetPartitioner,
  type ZooKeeperClient,
} from '../../src/index.js';
import { inspect, type Inspection } from '../../src/inspector/index.js';
import { findFreePort } from '../../src/testing/free-port.js';
import { FaultProxy, ZooKeeperServer } from '../../src/testing/index.js';
import { connect, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { KazooPeer } from '../support/kazoo.js';
import type { PeerProcess } from '../support/peer.js';
import { runToExit } from '../support/process.js';
import { recipeAt } from '../support/recipes.js';
import { Deferred, eventually, within } from '../support/wait.js';

const BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

let server: ZooKeeperServer;
before(async () => {
  server = await ZooKeeperServer.start();
});
after(() => server?.close());

/** The session id as `cons` and the model print it. */
function hex(zk: ZooKeeperClient): string {
  return `0x${zk.sessionId.toString(16)}`;
}

/**
 * Whether `promise` fulfilled with anything but `false`, settled at once: a waiter's promise
 * outlives the test when an assertion fails first, and must not become an unhandled rejection.
 */
function succeeded(promise: Promise<unknown>): Promise<boolean> {
  return promise.then(
    (value) => value !== false,
    () => false,
  );
}

/** A peer's session id as the model prints it (unsigned hex). */
function peerHex(peer: PeerProcess): string {
  return `0x${BigInt.asUintN(64, peer.session.sessionId).toString(16)}`;
}

describe('inspect', () => {
  test('our lock, election, semaphore and locking queue: holders and waiters in order, with session and client', async (t) => {
    const [a, b] = [await connect(t, server), await connect(t, server)];
    const root = uniqueRoot('inspect');
    const first = new Lock(a, `${root}/locks/orders`, { identifier: 'worker-a' });
    await first.acquire();
    const second = new Lock(b, `${root}/locks/orders`, { identifier: 'worker-b' });
    const waiting = succeeded(second.acquire({ timeout: 60_000 }));
    const election = new Election(b, `${root}/leader`, { identifier: 'node-b' });
    const stepDown = new Deferred<void>();
    const leading = succeeded(election.run(() => stepDown.promise));
    t.after(() => stepDown.resolve());
    const semaphore = new Semaphore(a, `${root}/limits/export`, { identifier: 'export-a', maxLeases: 2 });
    assert.equal(await semaphore.acquire(), true);
    const queue = new LockingQueue(a, `${root}/work`);
    await queue.putAll([Buffer.from('one'), Buffer.from('two')]);
    assert.deepEqual(await queue.get(), Buffer.from('one'));

    const inspection = await eventually(async () => {
      const seen = await inspect(a, root);
      const orders = seen.recipes.find((r) => r.path === `${root}/locks/orders`);
      const leader = seen.recipes.find((r) => r.path === `${root}/leader`);
      return orders?.waiters.length === 1 && leader?.holders.length === 1 ? seen : undefined;
    }, 'the waiter and the leader are in the tree');
    assert.equal(inspection.sessionsKnown, true);
    assert.equal(inspection.truncated, false);

    const orders = recipeAt(inspection, `${root}/locks/orders`);
    assert.equal(orders.kind, 'lock');
    assert.equal(orders.layout, 'kazoo');
    assert.deepEqual(
      [...orders.holders, ...orders.waiters].map((p) => [p.identifier, p.sessionId]),
      [
        ['worker-a', hex(a)],
        ['worker-b', hex(b)],
      ],
    );
    assert.match(orders.holders[0]!.client!, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(orders.holders[0]!.client, orders.waiters[0]!.client, 'each session its own address');
    assert.ok(orders.holders[0]!.node.endsWith('__lock__0000000000'));
    assert.ok(Date.parse(orders.holders[0]!.since) <= Date.parse(orders.waiters[0]!.since));
    assert.deepEqual(orders.stale, []);

    const leader = recipeAt(inspection, `${root}/leader`);
    assert.equal(leader.kind, 'election');
    assert.deepEqual(
      leader.holders.map((p) => [p.identifier, p.sessionId]),
      [['node-b', hex(b)]],
    );

    const sem = recipeAt(inspection, `${root}/limits/export`);
    assert.equal(sem.kind, 'semaphore');
    assert.ok(sem.kind === 'semaphore' && sem.maxLeases === 2);
    assert.deepEqual(
      sem.holders.map((p) => [p.identifier, p.sessionId]),
      [['export-a', hex(a)]],
    );
    assert.ok(
      !inspection.recipes.some((r) => r.path === `${root}/limits/export-__lock__`),
      'the internal lock is part of the semaphore',
    );

    const work = recipeAt(inspection, `${root}/work`);
    assert.ok(work.kind === 'locking-queue');
    assert.equal(work.depth, 1);
    assert.equal(work.taken, 1);
    assert.equal(work.holders[0]!.sessionId, hex(a));

    await first.release();
    assert.equal(await waiting, true);
    await second.release();
    stepDown.resolve();
    assert.equal(await leading, true);
    await semaphore.release();
  });

  test('kazoo and Curator processes next to ours: every holder named with its session and client, the waiters in order', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('interop');
    const kazoo = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const curator = await CuratorPeer.start(t, server.connectString);
    const kazooSession = peerHex(kazoo);
    const curatorSession = peerHex(curator);

    // kazoo holds a lock, leads an election and holds a semaphore lease; ours waits behind it.
    const kazooLock = (
      await kazoo.request('lock_acquire', { path: `${root}/kazoo/lock`, identifier: 'kazoo-1', name: 'l' })
    )['acquired'];
    assert.equal(kazooLock, true);
    await kazoo.request('election_run', {
      path: `${root}/kazoo/leader`,
      identifier: 'kazoo-leader',
      name: 'e',
    });
    assert.equal(
      (
        await kazoo.request('semaphore_acquire', {
          path: `${root}/kazoo/sem`,
          identifier: 'kazoo-lease',
          max_leases: 3,
          name: 's',
        })
      )['acquired'],
      true,
    );
    await eventually(
      async () => (await zk.getChildren(`${root}/kazoo/leader`)).length === 1,
      'kazoo is a candidate',
    );
    const waiter = new Lock(zk, `${root}/kazoo/lock`, { identifier: 'ours-waiting' });
    const waiting = succeeded(waiter.acquire({ timeout: 60_000 }));
    const candidate = new Election(zk, `${root}/kazoo/leader`, { identifier: 'ours-candidate' });
    const stepDown = new Deferred<void>();
    const running = succeeded(candidate.run(() => stepDown.promise));

    // Curator holds an InterProcessMutex, leads a LeaderSelector and holds a semaphore lease.
    assert.equal(
      (
        await curator.request('mutex.acquire', {
          name: 'm',
          thread: 'm',
          path: `${root}/curator/lock`,
          timeoutMs: 10_000,
        })
      )['acquired'],
      true,
    );
    const curatorWaiter = new Lock(zk, `${root}/curator/lock`, {
      identifier: 'ours-behind-curator',
      naming: 'curator',
    });
    const curatorWaiting = succeeded(curatorWaiter.acquire({ timeout: 60_000 }));
    await curator.request('selector.start', {
      name: 'sel',
      path: `${root}/curator/leader`,
      participant: 'curator-leader',
    });
    await curator.next(/^LEADER sel$/);
    assert.equal(
      (
        await curator.request('semaphore.acquire', {
          name: 's',
          path: `${root}/curator/sem`,
          maxLeases: 2,
          identifier: 'curator-lease',
          timeoutMs: 10_000,
        })
      )['acquired'],
      true,
    );

    const inspection = await eventually(async () => {
      const seen = await inspect(zk, root);
      const waits = (path: string) => seen.recipes.find((r) => r.path === path)?.waiters.length === 1;
      return waits(`${root}/kazoo/lock`) && waits(`${root}/kazoo/leader`) && waits(`${root}/curator/lock`)
        ? seen
        : undefined;
    }, 'ours waits behind kazoo and Curator');
    const clients = new Set<string>();
    const holder = (
      path: string,
      kind: string,
      layout: string,
      identifier: string | null,
      session: string,
    ) => {
      const recipe = recipeAt(inspection, path);
      assert.equal(recipe.kind, kind, path);
      assert.equal(recipe.layout, layout, path);
      assert.equal(recipe.holders.length, 1, path);
      const [who] = recipe.holders;
      if (identifier !== null) assert.equal(who!.identifier, identifier, path);
      assert.equal(who!.sessionId, session, path);
      assert.match(who!.client ?? '', /^127\.0\.0\.1:\d+$/, path);
      clients.add(who!.client!);
      assert.deepEqual(recipe.stale, [], path);
      return recipe;
    };
    const kazooLockRecipe = holder(`${root}/kazoo/lock`, 'lock', 'kazoo', 'kazoo-1', kazooSession);
    assert.deepEqual(
      kazooLockRecipe.waiters.map((w) => [w.identifier, w.sessionId]),
      [['ours-waiting', hex(zk)]],
    );
    const kazooElection = holder(`${root}/kazoo/leader`, 'election', 'kazoo', 'kazoo-leader', kazooSession);
    assert.deepEqual(
      kazooElection.waiters.map((w) => w.identifier),
      ['ours-candidate'],
    );
    const kazooSemaphore = holder(`${root}/kazoo/sem`, 'semaphore', 'kazoo', 'kazoo-lease', kazooSession);
    assert.ok(kazooSemaphore.kind === 'semaphore' && kazooSemaphore.maxLeases === 3);

    // Curator's mutex writes its client's default data (the host's address) as the node's data.
    const curatorLock = holder(`${root}/curator/lock`, 'lock', 'curator', null, curatorSession);
    assert.deepEqual(
      curatorLock.waiters.map((w) => [w.identifier, w.sessionId]),
      [['ours-behind-curator', hex(zk)]],
    );
    holder(`${root}/curator/leader`, 'election', 'curator', 'curator-leader', curatorSession);
    const curatorSemaphore = holder(
      `${root}/curator/sem`,
      'semaphore',
      'curator',
      'curator-lease',
      curatorSession,
    );
    assert.ok(curatorSemaphore.kind === 'semaphore' && curatorSemaphore.maxLeases === null);
    assert.equal(clients.size, 2, 'kazoo and Curator each from their own connection');

    // Hand-overs: what kazoo and Curator release, ours gets.
    await kazoo.request('release', { name: 'l' });
    assert.equal(await waiting, true);
    await waiter.release();
    await kazoo.request('release', { name: 'e' });
    await eventually(() => candidate.isLeader, 'ours leads after kazoo');
    stepDown.resolve();
    assert.equal(await running, true);
    await kazoo.request('release', { name: 's' });
    await curator.request('mutex.release', { name: 'm', thread: 'm' });
    assert.equal(await curatorWaiting, true);
    await curatorWaiter.release();
    await curator.request('selector.release', { name: 'sel' });
    await curator.request('semaphore.release', { name: 's' });
    const after = await inspect(zk, root);
    assert.deepEqual(
      after.recipes.filter((r) => r.holders.length > 0 || r.waiters.length > 0).map((r) => r.path),
      [],
      'nobody holds or waits any more',
    );
  });

  test("cons is asked of every server of the client's connect string: one that does not answer → no addresses, nobody called dead", async (t) => {
    const root = uniqueRoot('servers');
    const silent = `127.0.0.1:${await findFreePort()}`; // a member that is down
    const zk = await connect(t, `${server.connectString},${silent}`);
    assert.deepEqual(zk.servers, [server.connectString, silent]);
    const other = await connect(t, server);
    const lock = new Lock(other, `${root}/lock`, { identifier: 'holder' });
    assert.equal(await lock.acquire(), true);
    const partial = await inspect(zk, root);
    assert.equal(partial.sessionsKnown, false, 'one server of the connect string did not answer');
    const seen = recipeAt(partial, `${root}/lock`);
    assert.equal(seen.holders[0]!.sessionId, hex(other));
    assert.equal(seen.holders[0]!.client, undefined);
    assert.deepEqual(seen.stale, [], 'a session on a server we could not ask is not called dead');
    const whole = await inspect(other, root); // its connect string: the one server, which answers
    assert.equal(whole.sessionsKnown, true);
    assert.match(recipeAt(whole, `${root}/lock`).holders[0]!.client ?? '', /^127\.0\.0\.1:\d+$/);
    await lock.release();
  });

  test('stale leftovers: a contender of a client that is gone, an emptied lock directory, a taken entry whose item is gone', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('stale');
    // A client whose connection dies without closing its session: the session (and its
    // contender) outlives the connection until its timeout, as after a crash or a partition.
    const proxy = await FaultProxy.start(server.connectString);
    t.after(() => proxy.close());
    const dead = await connect(t, proxy.connectString, { sessionTimeout: 30_000 });
    const crashed = new Lock(dead, `${root}/locks/a`, { identifier: 'crashed', ownershipLostOn: 'LOST' });
    await crashed.acquire();
    const emptied = new Lock(zk, `${root}/locks/b`, { identifier: 'done' });
    await emptied.acquire();
    await emptied.release();
    await zk.create(`${root}/queue/entries`, Buffer.alloc(0), { makePath: true });
    await zk.create(`${root}/queue/taken/entry-100-0000000007`, Buffer.alloc(0), {
      makePath: true,
      ephemeral: true,
    });
    const deadSession = hex(dead);
    proxy.blackhole();
    proxy.drop();
    t.after(async () => {
      proxy.heal();
      await crashed.release().catch(() => {});
    });

    const inspection = await eventually(async () => {
      const seen = await inspect(zk, root);
      return seen.recipes.find((r) => r.path === `${root}/locks/a`)?.stale.length ? seen : undefined;
    }, 'the dead session is no server connection any more');
    const a = recipeAt(inspection, `${root}/locks/a`);
    assert.equal(a.holders[0]!.sessionId, deadSession);
    assert.equal(a.holders[0]!.client, undefined, 'no address: no server has its connection');
    assert.deepEqual(
      a.stale.map((s) => s.path),
      [`${root}/locks/a/${a.holders[0]!.node}`],
    );
    assert.match(a.stale[0]!.reason, new RegExp(`session ${deadSession} is not connected`));

    const b = recipeAt(inspection, `${root}/locks/b`);
    assert.deepEqual(b.holders, []);
    assert.deepEqual(b.stale, [{ path: `${root}/locks/b`, reason: 'a lock directory with no contenders' }]);

    const queue = recipeAt(inspection, `${root}/queue`);
    assert.equal(queue.kind, 'locking-queue');
    assert.deepEqual(queue.stale, [
      {
        path: `${root}/queue/taken/entry-100-0000000007`,
        reason: 'a taken entry whose item entries/entry-100-0000000007 is gone',
      },
    ]);
  });
});

describe('inspect: what is not a leftover', () => {
  test("a partitioner's emptied item locks (after a release, as kazoo leaves them) are unheld items, not stale", async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('partitioned');
    const partitioner = new SetPartitioner(zk, root, ['a', 'b'], { identifier: 'worker', timeBoundary: 50 });
    assert.equal(await partitioner.waitForAcquire(), true);
    const held = recipeAt(await inspect(zk, root), root);
    assert.ok(held.kind === 'partitioner');
    assert.deepEqual(
      held.items.map((item) => [item.item, item.holder?.identifier]),
      [
        ['a', 'worker'],
        ['b', 'worker'],
      ],
    );
    await partitioner.finish();
    assert.deepEqual(await zk.getChildren(`${root}/locks/a`), [], 'the item lock directory stays, empty');
    const released = recipeAt(await inspect(zk, root), root);
    assert.ok(released.kind === 'partitioner');
    assert.deepEqual(
      released.items.map((item) => [item.item, item.holder]),
      [
        ['a', null],
        ['b', null],
      ],
    );
    assert.deepEqual(released.stale, []);
  });
});

describe('the inspect command', () => {
  test('--json prints the model inspect() returns; the table names the holder; bad hosts exit 2', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('cli');
    const lock = new Lock(zk, `${root}/locks/report`, { identifier: 'reporter-7' });
    await lock.acquire();
    t.after(() => lock.release());

    const json = await runToExit(process.execPath, [
      BIN,
      'inspect',
      '--hosts',
      server.connectString,
      root,
      '--json',
    ]);
    assert.equal(json.code, 0, json.output);
    const printed = JSON.parse(json.stdout) as Inspection;
    const expected = await inspect(zk, root);
    assert.deepEqual({ ...printed, at: '' }, { ...expected, at: '' });
    assert.equal(printed.recipes[0]!.holders[0]!.identifier, 'reporter-7');

    const table = await runToExit(process.execPath, [BIN, 'inspect', '--hosts', server.connectString, root]);
    assert.equal(table.code, 0, table.output);
    assert.match(table.stdout, /lock {2}\S+\/locks\/report/);
    assert.match(table.stdout, /holder +reporter-7 +0x[0-9a-f]+ +127\.0\.0\.1:\d+/);

    for (const hosts of ['http://127.0.0.1:2181', '127.0.0.1:99999', '127.0.0.1:1']) {
      const bad = await runToExit(process.execPath, [BIN, 'inspect', '--hosts', hosts, '--timeout', '2000']);
      assert.equal(bad.code, 2, `${hosts}: ${bad.output}`);
      assert.match(bad.stderr, /^zookeeper-coordination: (--hosts|cannot connect)/, hosts);
    }
    const usage = await runToExit(process.execPath, [BIN, 'inspect', 'relative/path']);
    assert.equal(usage.code, 2, usage.output);
  });

  test('--watch prints the model again after a change (one line of JSON each) and exits on SIGTERM', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('watch');
    await zk.create(root);
    const child = spawn(
      process.execPath,
      [BIN, 'inspect', '--hosts', server.connectString, root, '--watch', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.after(() => child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const printed = (): Inspection[] =>
      stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Inspection);
    await eventually(() => printed().length === 1, 'the first inspection');
    assert.deepEqual(printed()[0]!.recipes, []);

    const lock = new Lock(zk, `${root}/locks/job`, { identifier: 'watched' });
    await lock.acquire();
    const seen = await eventually(
      () => printed().find((inspection) => inspection.recipes[0]?.holders[0]?.identifier === 'watched'),
      'an inspection with the new holder',
    );
    assert.equal(seen.recipes[0]!.path, `${root}/locks/job`);
    await lock.release();
    await eventually(
      () =>
        printed()
          .at(-1)!
          .recipes.every((recipe) => recipe.holders.length === 0),
      'an inspection after the release',
    );
    child.kill('SIGTERM');
    assert.equal(await within(exited, 'the watching command exits on SIGTERM'), 0);
  });
});
