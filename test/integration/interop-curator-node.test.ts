/**
 * PersistentNode / PersistentTtlNode ↔ Curator 5.4's (test/interop/curator/NodeOps.java) on one
 * server, both directions: each one's node (protected and sequential names, data, ephemeral
 * owner, the TTL layout and the touch child's bytes) as the other sees it; one fixed path kept
 * by both (the one holding it closes, the other makes it again); a Curator PersistentTtlNode and
 * ours on one path keep one node alive until the last closes, then it expires.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CreateMode, PersistentNode, PersistentTtlNode, type ZooKeeperClient } from '../../src/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { children } from '../support/recipes.js';
import { eventually, grace, safety } from '../support/wait.js';

/** The server's TTL / container sweep period, ms (ZooKeeper's default is 60 s). */
const SWEEP_MS = 100;

const server = await serverForFile({ javaOptions: [`-Dznode.container.checkIntervalMs=${SWEEP_MS}`] });

const hex = (text: string) => Buffer.from(text).toString('hex');

interface CuratorRead {
  exists: boolean;
  hex?: string;
  ephemeralOwner?: string;
  children?: string[];
}

async function curatorRead(peer: CuratorPeer, path: string): Promise<CuratorRead> {
  return (await peer.request('node.read', { path })) as unknown as CuratorRead;
}

async function dataAt(zk: ZooKeeperClient, path: string): Promise<string | undefined> {
  return (await zk.exists(path)) === null ? undefined : (await zk.get(path)).data.toString();
}

describe('PersistentNode interop with Curator 5.4', () => {
  test("Curator's nodes as ours sees them, ours as Curator sees them: names, data, owner", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const root = uniqueRoot('pnode');
    for (const [mode, protection] of [
      ['EPHEMERAL', false],
      ['EPHEMERAL', true],
      ['EPHEMERAL_SEQUENTIAL', true],
      ['PERSISTENT_SEQUENTIAL', true],
    ] as const) {
      const theirs = `${root}/java-${mode}-${protection}`;
      const started = await peer.request('node.start', {
        name: theirs,
        path: theirs,
        mode,
        protection,
        hex: hex('from java'),
      });
      assert.equal(started['created'], true);
      const curatorPath = started['path'] as string;
      const ours = new PersistentNode(zk, `${root}/node-${mode}-${protection}`, Buffer.from('from node'), {
        mode: CreateMode[mode],
        protection,
      });
      ours.start();
      assert.equal(await ours.waitForInitialCreate({ timeout: safety() }), true);
      const ourPath = ours.getActualPath()!;
      // The same layout: the name after the parent, with our own base name swapped in.
      const shape = (path: string, base: string) =>
        path
          .slice(root.length + 1)
          .replace(base, '<base>')
          .replace(/^_c_[0-9a-f-]{36}-/, '_c_<uuid>-')
          .replace(/\d{10}$/, '<seq>');
      assert.equal(
        shape(ourPath, `node-${mode}-${protection}`),
        shape(curatorPath, `java-${mode}-${protection}`),
        `${mode} protection=${protection}`,
      );
      const name = ourPath.slice(root.length + 1);
      assert.equal((await peer.request('node.protected', { name }))['protected'], protection, name);
      const seen = await curatorRead(peer, ourPath);
      assert.equal(seen.hex, hex('from node'));
      const ephemeral = mode.startsWith('EPHEMERAL');
      assert.equal(BigInt(`0x${seen.ephemeralOwner}`), ephemeral ? zk.sessionId : 0n);
      assert.equal(await dataAt(zk, curatorPath), 'from java');
      assert.equal((await zk.exists(curatorPath))?.ephemeralOwner, ephemeral ? peer.session.sessionId : 0n);
      await peer.request('node.close', { name: theirs });
      await ours.close();
    }
    assert.deepEqual(await children(zk, root), []);
  });

  test('one fixed path kept by both: the holder closes, the other makes it again with its data', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('pnode');
    // Curator first: ours leaves its node alone and waits.
    await peer.request('node.start', {
      name: 'j',
      path,
      mode: 'EPHEMERAL',
      protection: false,
      hex: hex('java'),
    });
    const ours = new PersistentNode(zk, path, Buffer.from('node'));
    ours.start();
    assert.equal(await ours.waitForInitialCreate({ timeout: 500 }), false);
    assert.equal(await dataAt(zk, path), 'java', 'untouched');
    await peer.request('node.close', { name: 'j' });
    assert.equal(
      await ours.waitForInitialCreate({ timeout: safety() }),
      true,
      'ours makes it once Curator closed',
    );
    assert.equal((await zk.exists(path))?.ephemeralOwner, zk.sessionId);
    assert.equal(await dataAt(zk, path), 'node');

    // Ours first: Curator takes the existing node as its own (writes its data); ours closes → Curator makes it again.
    await peer.request('node.start', {
      name: 'j2',
      path,
      mode: 'EPHEMERAL',
      protection: false,
      hex: hex('java-2'),
    });
    await ours.close();
    await peer.next(new RegExp(`^NODE_CREATED j2 ${path}$`));
    assert.equal((await zk.exists(path))?.ephemeralOwner, peer.session.sessionId);
    assert.equal(await dataAt(zk, path), 'java-2');
    await peer.request('node.close', { name: 'j2' });
    assert.equal(await zk.exists(path), null);
  });
});

describe('PersistentTtlNode interop with Curator 5.4', () => {
  test("the same layout and bytes: Curator's TTL node as ours sees it, ours as Curator sees it", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const root = uniqueRoot('ttl');
    const ttl = 300;
    await peer.request('node.ttlStart', { name: 'j', path: `${root}/java`, ttl, hex: hex('java') });
    await using ours = new PersistentTtlNode(zk, `${root}/node`, ttl, Buffer.from('node'));
    ours.start();
    assert.equal(await ours.waitForInitialCreate({ timeout: safety() }), true);
    await eventually(async () => (await zk.exists(`${root}/java/touch`)) !== null, "Curator's touch child");
    await eventually(async () => (await zk.exists(`${root}/node/touch`)) !== null, 'our touch child');
    const java = await curatorRead(peer, `${root}/java`);
    const node = await curatorRead(peer, `${root}/node`);
    assert.deepEqual(java.children, ['touch']);
    assert.deepEqual(node.children, ['touch']);
    assert.equal(node.hex, hex('node'));
    assert.equal(await dataAt(zk, `${root}/java`), 'java');
    const [javaTouch, nodeTouch] = await Promise.all([
      curatorRead(peer, `${root}/java/touch`),
      curatorRead(peer, `${root}/node/touch`),
    ]);
    assert.equal(
      nodeTouch.hex,
      javaTouch.hex,
      "the touch child's bytes (Curator's default data, the local address)",
    );
    await peer.request('node.close', { name: 'j' });
  });

  test('a Curator PersistentTtlNode and ours on one path keep one node alive until the last closes', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('ttl');
    const ttl = 400;
    for (const last of ['ours', 'curator'] as const) {
      await peer.request('node.ttlStart', { name: 'j', path, ttl, hex: hex('java') });
      const ours = new PersistentTtlNode(zk, path, ttl, Buffer.from('node'));
      ours.start();
      assert.equal(await ours.waitForInitialCreate({ timeout: safety() }), true);
      const czxid = (await zk.exists(path))!.czxid;
      await eventually(async () => (await children(zk, path)).length > 0, 'touched');
      assert.deepEqual(await children(zk, path), ['touch'], 'one node, one touch child');
      if (last === 'ours') await peer.request('node.close', { name: 'j' });
      else await ours.close();
      await grace(ttl * 4);
      assert.equal((await zk.exists(path))?.czxid, czxid, 'the same node, kept by the other');
      if (last === 'ours') await ours.close();
      else await peer.request('node.close', { name: 'j' });
      await eventually(
        async () => (await zk.exists(path)) === null,
        'expired once nobody touches it',
        safety(30_000),
      );
    }
  });
});
