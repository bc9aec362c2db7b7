/**
 * `@withLock` and `@leaderOnly` compiled as standard (TC39) decorators: this folder is built
 * with `experimentalDecorators: false` (see its tsconfig.json), unlike the rest of the tests.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeperClient } from '../../src/index.js';
import { currentLock, leaderOnly, NotLeaderError, withLock } from '../../src/di/index.js';
import { ZooKeeperServer } from '../../src/testing/index.js';

let server: ZooKeeperServer;
let zk: ZooKeeperClient;

before(async () => {
  server = await ZooKeeperServer.start();
  zk = new ZooKeeperClient({ hosts: server.connectString });
  await zk.start();
});

after(async () => {
  await zk?.close();
  await server?.close();
});

class Counter {
  inside = 0;
  overlapped = false;
  constructor(readonly zk: ZooKeeperClient) {}

  @withLock('/tc39-locks/counter', { timeout: 10_000 })
  async bump(): Promise<bigint> {
    this.inside++;
    if (this.inside > 1) this.overlapped = true;
    await new Promise((resolve) => setTimeout(resolve, 2));
    this.inside--;
    return currentLock()!.fencingToken!;
  }

  @leaderOnly('/tc39-services/leader')
  async lead(): Promise<string> {
    return 'led';
  }
}

test('TC39 @withLock serializes concurrent calls and exposes the held lock', async () => {
  const counter = new Counter(zk);
  const tokens = await Promise.all(Array.from({ length: 6 }, () => counter.bump()));
  assert.equal(counter.overlapped, false);
  assert.equal(new Set(tokens).size, 6, 'every holder got its own fencing token');
  assert.deepEqual(await zk.getChildren('/tc39-locks/counter'), []);
});

test('TC39 @leaderOnly rejects when not leading', async () => {
  await assert.rejects(new Counter(zk).lead(), NotLeaderError);
});
