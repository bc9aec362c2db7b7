/**
 * The inspector on the layouts of our Curator-compatible GroupMember, protected PersistentNode
 * and PersistentTtlNode, written by the recipes on a real server: `inspect` reports each with its
 * owning session (none for the TTL node) and client address, and once they are closed (the TTL
 * node left to expire, as Curator does) nothing is left behind. A protected node whose client is
 * gone (its connection dead, its session not yet expired) is flagged STALE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateMode,
  GroupMember,
  PersistentNode,
  PersistentTtlNode,
  type ZooKeeperClient,
} from '../../src/index.js';
import { inspect } from '../../src/inspector/index.js';
import { sessionHex } from '../../src/inspector/sessions.js';
import { hostAddress } from '../../src/recipes/local-address.js';
import { FaultProxy, ZooKeeperServer } from '../../src/testing/index.js';
import { connect, uniqueRoot } from '../support/client.js';
import { children, recipeAt, serverTree } from '../support/recipes.js';
import { eventually, safety } from '../support/wait.js';

let server: ZooKeeperServer;
before(async () => {
  // The TTL / container sweep every 100 ms (ZooKeeper's default is 60 s): the closed TTL node goes soon.
  server = await ZooKeeperServer.start({ javaOptions: ['-Dznode.container.checkIntervalMs=100'] });
});
after(() => server?.close());

/** A client's session id as `cons` and the model print it. */
const hex = (zk: ZooKeeperClient): string => sessionHex(zk.sessionId);

describe('inspect: Curator-compatible node recipes', () => {
  test('a GroupMember group (two members), a protected PersistentNode and a PersistentTtlNode, each with its session; nothing left after close', async (t) => {
    const [a, b, c, admin] = [
      await connect(t, server),
      await connect(t, server),
      await connect(t, server),
      await connect(t, server),
    ];
    const root = uniqueRoot('inspect-nodes');
    const membership = `${root}/group/members`;
    const first = new GroupMember(a, membership, 'member-a'); // payload: this host's address
    const second = new GroupMember(b, membership, 'member-b', Buffer.from('payload-b'));
    const node = new PersistentNode(c, `${root}/nodes/worker`, Buffer.from('w1'), {
      mode: CreateMode.EPHEMERAL,
      protection: true,
    });
    const ttlPath = `${root}/ttl/worker`;
    const ttlNode = new PersistentTtlNode(c, ttlPath, 1000, Buffer.from('busy'));
    t.after(() => Promise.all([first.close(), second.close(), node.close(), ttlNode.close()]));
    await Promise.all([first.start(), second.start()]);
    node.start();
    ttlNode.start();
    for (const made of [first, second, node, ttlNode])
      assert.equal(await made.waitForInitialCreate({ timeout: safety() }), true);
    const nodePath = node.getActualPath();
    assert.ok(nodePath !== undefined);

    // The TTL node is recognised once its first touch made `touch` (after ttl / 2).
    const inspection = await eventually(async () => {
      const seen = await inspect(admin, root);
      return seen.recipes.length === 3 ? seen : undefined;
    }, 'the group, the persistent node and the TTL node are recognised');
    assert.equal(inspection.sessionsKnown, true);
    const address = await hostAddress();

    const group = recipeAt(inspection, membership);
    assert.ok(group.kind === 'group');
    assert.equal(group.layout, 'curator');
    assert.deepEqual(group.members, ['member-a', 'member-b']);
    assert.deepEqual(
      group.holders.map((p) => [p.identifier, p.data, p.sessionId]),
      [
        ['member-a', address === '' ? undefined : address, hex(a)],
        ['member-b', 'payload-b', hex(b)],
      ],
    );
    for (const member of group.holders) assert.match(member.client!, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(group.holders[0]!.client, group.holders[1]!.client, 'each session its own address');
    assert.deepEqual(group.stale, []);

    const persistent = recipeAt(inspection, nodePath);
    assert.ok(persistent.kind === 'persistent-node');
    assert.equal(persistent.name, 'worker');
    assert.deepEqual(
      persistent.holders.map((p) => [p.identifier, p.data, p.sessionId]),
      [['worker', 'w1', hex(c)]],
    );
    assert.deepEqual(persistent.stale, []);

    const ttl = recipeAt(inspection, ttlPath);
    assert.ok(ttl.kind === 'ttl-node');
    assert.equal(ttl.touchedBy, address === '' ? null : address);
    assert.equal(ttl.data, 'busy');
    assert.deepEqual(ttl.holders, [], 'a TTL node has no owning session');
    const touch = await admin.get(`${ttlPath}/touch`);
    assert.ok(Date.parse(ttl.touched) <= touch.stat.mtime, 'the touch time is the touch node’s mtime');

    await Promise.all([first.close(), second.close(), node.close(), ttlNode.close()]);
    // Members and the node are deleted; the TTL node expires; the container parents go once empty.
    await eventually(
      async () => (await serverTree(admin, root)) === undefined,
      'nothing is left under the root',
      safety(30_000),
    );
    assert.deepEqual((await inspect(admin, root)).recipes, []);
  });

  test('a protected PersistentNode of a client that is gone (session not yet expired) is STALE; back and closed, it is gone', async (t) => {
    const zk = await connect(t, server);
    const root = uniqueRoot('inspect-stale-node');
    // A client whose connection dies without closing its session, as after a crash or a partition.
    const proxy = await FaultProxy.start(server.connectString);
    t.after(() => proxy.close());
    const gone = await connect(t, proxy.connectString, { sessionTimeout: 30_000 });
    const node = new PersistentNode(gone, `${root}/worker`, Buffer.from('w1'), { protection: true });
    t.after(async () => {
      proxy.heal();
      await node.close();
    });
    node.start();
    assert.equal(await node.waitForInitialCreate({ timeout: safety() }), true);
    const nodePath = node.getActualPath()!;
    const goneSession = hex(gone);
    proxy.blackhole();
    proxy.drop();

    const inspection = await eventually(async () => {
      const seen = await inspect(zk, root);
      return seen.recipes.find((r) => r.path === nodePath)?.stale.length ? seen : undefined;
    }, 'the session is no server connection any more');
    const stale = recipeAt(inspection, nodePath);
    assert.ok(stale.kind === 'persistent-node');
    assert.equal(stale.holders[0]!.sessionId, goneSession);
    assert.equal(stale.holders[0]!.client, undefined, 'no address: no server has its connection');
    assert.deepEqual(
      stale.stale.map((s) => s.path),
      [nodePath],
    );
    assert.match(stale.stale[0]!.reason, new RegExp(`session ${goneSession} is not connected`));

    // The client reconnects within its session: the node is its own again, then deleted. Its connect
    // attempt sent into the blackhole is lost and would wait out its connect timeout (30 s here).
    proxy.heal();
    proxy.drop();
    await eventually(async () => {
      const seen = recipeAt(await inspect(zk, root), nodePath);
      return seen.stale.length === 0 && seen.holders[0]?.client !== undefined;
    }, 'the session is connected again');
    await node.close();
    assert.deepEqual(await children(zk, root), []);
  });
});
