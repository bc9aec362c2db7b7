/**
 * ItemLocks, the queues' locks at names every consumer uses (LockingQueue's `taken/<entry>`, a
 * Curator queue's `<lockPath>/<item>`), against a real server: a delete whose reply is lost is
 * sent again only while the node is still ours — never once another consumer locked the item.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ItemLocks } from '../../src/recipes/queue/item-lock.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { loseDeleteReply } from '../support/recipes.js';
import { within } from '../support/wait.js';

const server = await serverForFile();

async function setup(t: TestContext) {
  const proxy = await FaultProxy.start(server.connectString);
  t.after(() => proxy.close());
  const zk = await connect(t, proxy.connectString);
  const other = await connect(t, server);
  const dir = uniqueRoot('item-lock');
  await other.ensurePath(dir);
  const path = `${dir}/entry-100-0000000000`;
  const ours = new ItemLocks(zk, Buffer.from('ours'), 'test');
  const session = await ours.lock(path, {});
  assert.equal(session, zk.sessionId, 'locked in our session');
  return { proxy, zk, other, path, ours, session: session! };
}

test('unlock whose delete reply is lost leaves the lock another consumer took meanwhile', async (t) => {
  const { proxy, other, path, ours, session } = await setup(t);
  const theirs = new ItemLocks(other, Buffer.from('theirs'), 'test');
  await loseDeleteReply(
    proxy,
    path,
    () => ours.unlock(path, session),
    async () => {
      assert.equal(await theirs.lock(path, {}), other.sessionId, 'another consumer locks the item');
    },
  );
  const node = await other.get(path);
  assert.equal(node.data.toString(), 'theirs', 'their lock stands');
  assert.equal(node.stat.ephemeralOwner, other.sessionId);
  assert.equal(await ours.lock(path, {}), 'theirs', "locking it again finds the other consumer's lock");
});

test('unlock whose delete never reached the server deletes the lock after the reconnect', async (t) => {
  const { proxy, zk, other, path, ours, session } = await setup(t);
  proxy.blackhole(); // the delete is lost on its way
  const unlocking = ours.unlock(path, session);
  proxy.drop();
  proxy.heal();
  await within(unlocking, 'unlock settles after the reconnect');
  assert.equal(zk.sessionId, session, 'the same session');
  assert.equal(await other.exists(path), null, 'our lock is gone');
});
