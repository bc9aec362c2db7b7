/**
 * OwnNode, the recipes' one node lifecycle (DESIGN.md "Recipe node lifecycle"), against a real
 * server: an uncertain create is settled by a look in its own session (adopted, or proven not
 * made); a node of an earlier session is never adopted and is deleted, even while that session
 * is still alive on the server; a persistent node is proven ours by its prefix alone.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { ConnectionLossError, ConnectionState } from '../../src/index.js';
import { OwnNode } from '../../src/recipes/own-node.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { children, loseDeleteReply, loseReplyAcrossSessions } from '../support/recipes.js';
import { safety, within } from '../support/wait.js';

const server = await serverForFile();

const DATA = Buffer.from('mine');

async function setup(t: TestContext, sessionTimeout = 4000) {
  const parent = uniqueRoot('own-node');
  const admin = await connect(t, server);
  await admin.ensurePath(parent);
  const proxy = await FaultProxy.start(server.connectString);
  t.after(() => proxy.close());
  const zk = await connect(t, proxy.connectString, { sessionTimeout });
  const node = (ephemeral = true) =>
    new OwnNode(zk, {
      parent,
      prefix: `${randomUUID().replaceAll('-', '')}__lock__`,
      sequential: true,
      ephemeral,
    });
  /** `own.create(DATA)` whose reply is lost across a session change (see loseReplyAcrossSessions). */
  const loseCreate = (own: OwnNode) =>
    loseReplyAcrossSessions(
      t,
      server,
      proxy,
      zk,
      { op: 'create2', path: (p) => p.startsWith(`${parent}/`) },
      () => own.create(DATA),
    );
  return { parent, admin, proxy, zk, node, loseCreate };
}

test('a create whose reply is lost in this session: the look adopts the node it made', async (t) => {
  const { parent, admin, proxy, zk, node } = await setup(t);
  const own = node();
  const lost = proxy.swallowReply({ op: 'create2', path: (p) => p.startsWith(`${parent}/`) });
  await assert.rejects(own.create(DATA), ConnectionLossError);
  await within(lost.happened, 'the create reached the server');
  assert.equal(own.unsettled, true);
  assert.equal(own.name, undefined);
  await own.find(); // waits for the reconnect of the same session
  assert.equal(own.unsettled, false);
  const stat = await admin.exists(own.path!);
  assert.equal(stat?.ephemeralOwner, zk.sessionId);
  assert.equal(own.czxid, stat?.czxid);
  await own.remove();
  assert.deepEqual(await children(admin, parent), []);
});

test('a create lost before it reached the server, in this session: "not found" settles it', async (t) => {
  const { parent, admin, proxy, node } = await setup(t);
  const own = node();
  proxy.freeze('toServer');
  const created = own.create(DATA);
  proxy.drop(); // the held request never reaches the server
  proxy.thaw('toServer');
  await assert.rejects(created, ConnectionLossError);
  assert.equal(own.unsettled, true);
  assert.deepEqual(await own.find(), []);
  assert.equal(own.unsettled, false);
  assert.equal(own.name, undefined);
  assert.deepEqual(await children(admin, parent), []);
});

test("a create whose reply is lost across a session change: the old session's node is never adopted, it is deleted", async (t) => {
  const { parent, admin, zk, node, loseCreate } = await setup(t);
  const own = node();
  const lost = await loseCreate(own);
  const [oldNode] = await children(admin, parent);
  assert.ok(oldNode, 'the create was applied in the old session');
  await lost.reconnect();
  await assert.rejects(lost.result);
  assert.equal(own.unsettled, true);
  assert.deepEqual(await own.find(), [], "the look deletes the old session's node");
  assert.equal(own.name, undefined, 'not adopted');
  assert.equal(
    await admin.exists(`${parent}/${oldNode}`),
    null,
    'deleted although its session is still alive',
  );
  const { stat } = await own.create(DATA);
  assert.equal(stat.ephemeralOwner, zk.sessionId);
  await own.remove();
  await lost.expireOld();
  assert.deepEqual(await children(admin, parent), []);
});

test("a create of an earlier session that lands after this session's look is never adopted, and the next look deletes it", async (t) => {
  const { parent, admin, proxy, zk, node } = await setup(t);
  const own = node();
  const old = { id: zk.sessionId, password: zk.sessionPassword };
  proxy.blackhole(); // the create below is lost on the way: it cannot land before the look
  const created = own.create(DATA);
  created.catch(() => {}); // awaited below
  // The old session lives on at the server (as it does until the server expires it).
  const keeper = await connect(t, server, { session: old, sessionTimeout: zk.sessionTimeout });
  await nextState(zk, ConnectionState.LOST, safety(30_000));
  const connected = nextState(zk, ConnectionState.CONNECTED, safety(30_000));
  proxy.drop();
  proxy.heal();
  await connected;
  await assert.rejects(created);
  assert.deepEqual(await own.find(), [], 'nothing there yet');
  // Now the old session's create lands: what a request still on its way (a slow server's
  // pipeline, say) does. Here the old session makes it itself.
  const late = await keeper.create(`${parent}/${own.options.prefix}`, DATA, {
    ephemeral: true,
    sequence: true,
  });
  assert.equal(own.name, undefined, 'never adopted');
  assert.equal(own.unsettled, true, 'the next look is due');
  const { name } = await own.create(DATA); // e.g. a lock re-queues meanwhile
  assert.deepEqual(await own.find(), [name], 'the next look deletes the late node');
  assert.equal(await admin.exists(late), null, 'deleted although its session is alive');
  await own.remove();
  assert.deepEqual(await children(admin, parent), []);
});

test('a node held when the session changes is ours no more at once; takeLost says so once; remove() deletes it', async (t) => {
  const { parent, admin, proxy, zk, node } = await setup(t);
  const own = node();
  const { name } = await own.create(DATA);
  const lost = await loseReplyAcrossSessions(t, server, proxy, zk, { op: 'exists', path: parent }, () =>
    zk.exists(parent),
  );
  await lost.reconnect();
  assert.equal(own.name, undefined, 'not ours on the new session');
  assert.equal(own.takeLost(), true);
  assert.equal(own.takeLost(), false);
  assert.ok(await admin.exists(`${parent}/${name}`), 'the old session still holds it on the server');
  await own.remove();
  assert.equal(await admin.exists(`${parent}/${name}`), null);
  await lost.expireOld();
});

test('persistent: a create whose reply is lost across a session change is adopted by its prefix', async (t) => {
  const { parent, admin, node, loseCreate } = await setup(t);
  const own = node(false);
  const lost = await loseCreate(own);
  await lost.reconnect();
  await assert.rejects(lost.result);
  await lost.expireOld(); // a persistent node outlives its session
  await own.find();
  const [made] = await children(admin, parent);
  assert.equal(own.name, made, 'adopted');
  assert.equal((await admin.exists(own.path!))?.ephemeralOwner, 0n);
  await own.remove();
  assert.deepEqual(await children(admin, parent), []);
});

test('a remove whose delete reply is lost at a shared name leaves the node another client made there since', async (t) => {
  const { parent, admin, proxy, zk } = await setup(t);
  const own = new OwnNode(zk, {
    parent,
    prefix: 'member-1',
    sequential: false,
    ephemeral: true,
    shared: true,
  });
  await own.create(DATA);
  const path = `${parent}/member-1`;
  await loseDeleteReply(
    proxy,
    path,
    () => own.remove(),
    () => admin.create(path, Buffer.from('theirs'), { ephemeral: true }),
  );
  const node = await admin.get(path);
  assert.equal(node.data.toString(), 'theirs', 'their node stands');
  assert.equal(node.stat.ephemeralOwner, admin.sessionId);
});
