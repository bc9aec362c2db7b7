/**
 * The Lock's safety under faults: many clients increment a shared counter under the lock
 * while their connections are dropped at random; and a release issued while disconnected.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConnectionState, Lock, TransactionError, ZooKeeperClient } from '../../src/index.js';
import { FaultProxy, ZooKeeperServer, timing } from '../../src/testing/index.js';
import { connect, nextState, uniqueRoot, waitFor } from './helpers.js';
import { prng } from '../unit/fixtures.js';

let server: ZooKeeperServer;

before(async () => {
  server = await ZooKeeperServer.start();
});

after(async () => {
  await server?.close();
});

interface Section {
  client: number;
  token: bigint;
  start: number;
  end: number;
}

test('8 clients × 12 increments under the lock with random connection drops: no overlap, no lost update', async (t) => {
  const CLIENTS = 8;
  const ITERATIONS = 12;
  const seed = Number(process.env.ZK_FAULT_SEED ?? Date.now() % 100_000);
  t.diagnostic(`seed ${seed}`);
  const random = prng(seed);
  const root = uniqueRoot('safety');
  const lockPath = `${root}/lock`;
  const counterPath = `${root}/counter`;
  const admin = await connect(t, server);
  await admin.create(counterPath, '0', { makePath: true });

  const proxies = await Promise.all(Array.from({ length: CLIENTS }, () => FaultProxy.start(server.connectString)));
  t.after(() => Promise.all(proxies.map((p) => p.close())));
  const clients: ZooKeeperClient[] = [];
  for (const proxy of proxies) clients.push(await connect(t, proxy.connectString, { sessionTimeout: 8000 }));

  const sections: Section[] = [];
  let committed = 0;
  let abandoned = 0;
  let inside = 0;
  let overlapSeen = false;

  const worker = async (index: number) => {
    const zk = clients[index]!;
    const lock = new Lock(zk, lockPath, { identifier: `client-${index}` });
    for (let i = 0; i < ITERATIONS; ) {
      if (!(await lock.acquire({ timeout: timing(20_000) }))) continue;
      const start = performance.now();
      inside++;
      if (inside > 1) overlapSeen = true;
      const token = lock.fencingToken;
      try {
        const { data, stat } = await zk.get(counterPath);
        const next = Number(data.toString()) + 1;
        // Commits only while our lock node exists and nobody wrote in between.
        await lock.transaction().set(counterPath, String(next), { version: stat.version }).commit();
        committed++;
        i++;
        sections.push({ client: index, token, start, end: performance.now() });
      } catch (error) {
        // A drop during the write: the outcome is unknown or refused; the counter check below
        // proves no update was lost or applied twice.
        if (!(error instanceof TransactionError) && !(error as Error).name.includes('ConnectionLoss')) throw error;
        abandoned++;
      } finally {
        inside--;
        await lock.release();
      }
    }
  };

  let faults = 0;
  let running = true;
  const chaos = (async () => {
    while (running && faults < 25) {
      await new Promise((resolve) => setTimeout(resolve, 50 + random() * 250));
      if (!running) break;
      proxies[Math.floor(random() * CLIENTS)]!.drop();
      faults++;
    }
  })();
  await waitFor(Promise.all(clients.map((_, i) => worker(i))), timing(120_000), 'all workers');
  running = false;
  await chaos;

  t.diagnostic(`faults ${faults}, committed ${committed}, abandoned ${abandoned}`);
  assert.equal(overlapSeen, false, 'two critical sections overlapped');
  const final = Number((await admin.get(counterPath)).data.toString());
  // Abandoned writes whose commit was applied before the reply was lost count too, so the
  // counter may exceed the acknowledged commits by at most the abandoned attempts.
  assert.ok(final >= committed && final <= committed + abandoned, `counter ${final}, committed ${committed}, abandoned ${abandoned}`);
  assert.equal(committed, CLIENTS * ITERATIONS);
  // Ordered by fencing token, sections never overlap in time and tokens are unique.
  const byToken = [...sections].sort((a, b) => (a.token < b.token ? -1 : 1));
  assert.equal(new Set(byToken.map((s) => s.token)).size, byToken.length, 'a fencing token was reused');
  for (let i = 1; i < byToken.length; i++) {
    assert.ok(byToken[i]!.start >= byToken[i - 1]!.end, `section of token ${byToken[i]!.token} started before ${byToken[i - 1]!.token} ended`);
  }
  assert.ok(faults > 0);
  assert.deepEqual(await admin.getChildren(lockPath), [], 'no contender node left behind');
});

test('release while disconnected: isAcquired false at once, node deleted after the reconnect, a waiter acquires', async (t) => {
  const proxy = await FaultProxy.start(server.connectString);
  t.after(() => proxy.close());
  const holderClient = await connect(t, proxy.connectString, { sessionTimeout: 10_000 });
  const waiterClient = await connect(t, server);
  const path = uniqueRoot('release-offline');
  const holder = new Lock(holderClient, path);
  const waiter = new Lock(waiterClient, path);
  assert.equal(await holder.acquire(), true);
  const waiting = waiter.acquire();
  await waitFor(async () => (await waiterClient.getChildren(path)).length === 2, undefined, 'the waiter queued');

  proxy.refuse();
  proxy.drop();
  await nextState(holderClient, ConnectionState.SUSPENDED);
  const released = holder.release();
  assert.equal(holder.isAcquired, false);
  assert.equal(holder.signal.aborted, true);
  assert.equal((await waiterClient.getChildren(path)).length, 2, 'the node stays until the delete reaches the server');

  proxy.accept();
  assert.equal(await waitFor(released), true);
  assert.equal(await waitFor(waiting), true);
  assert.equal(holderClient.state, ConnectionState.CONNECTED);
  await waiter.release();
});
