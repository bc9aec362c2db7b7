/**
 * PersistentNode and PersistentTtlNode against a real ZooKeeper server (Curator's
 * TestPersistentNode / TestPersistentTtlNode adapted): made, kept with the latest data, made again
 * when deleted by another session, through SUSPENDED (the same node) and LOST (a new node in the
 * new session; the old session's never reported as ours), a create whose reply was lost (exactly
 * one node), protected and sequential names, TTL nodes that expire once nobody touches them, and
 * a process that exits by itself after close().
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  ConnectionState,
  CreateMode,
  InvalidArgumentError,
  InvalidPathError,
  PersistentNode,
  PersistentTtlNode,
  RecipeStateError,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { runToExit } from '../support/process.js';
import { children, loseReplyAcrossSessions } from '../support/recipes.js';
import { Recorder } from '../support/recorder.js';
import { eventually, grace, safety, within } from '../support/wait.js';

/** The server's TTL / container sweep period, ms (ZooKeeper's default is 60 s). */
const SWEEP_MS = 100;
const PROTECTED = /^_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-/;

const server = await serverForFile({ javaOptions: [`-Dznode.container.checkIntervalMs=${SWEEP_MS}`] });

async function started(node: PersistentNode): Promise<string> {
  node.start();
  assert.equal(await node.waitForInitialCreate({ timeout: safety() }), true, 'made');
  const path = node.getActualPath();
  assert.ok(path !== undefined);
  return path;
}

async function dataAt(zk: ZooKeeperClient, path: string): Promise<string | undefined> {
  const stat = await zk.exists(path);
  return stat === null ? undefined : (await zk.get(path)).data.toString();
}

async function viaProxy(t: TestContext, sessionTimeout = 4000) {
  const proxy = await FaultProxy.start(server.connectString);
  t.after(() => proxy.close());
  const zk = await connect(t, proxy.connectString, { sessionTimeout });
  return { proxy, zk };
}

/** A client through a proxy that swallows the reply to the first create under `root`, then cuts the connection. */
async function createReplyLost(t: TestContext) {
  const { proxy, zk } = await viaProxy(t);
  const admin = await connect(t, server);
  const root = uniqueRoot('pnode');
  await admin.ensurePath(root);
  const lost = proxy.swallowReply({ op: 'create2', path: (p) => p.startsWith(`${root}/`) }, { then: 'cut' });
  return { zk, admin, root, lost };
}

describe('PersistentNode', () => {
  test('an ephemeral at its path with the data; setData; close deletes it; bad input is a typed error', async (t) => {
    const zk = await connect(t, server);
    const admin = await connect(t, server);
    const path = `${uniqueRoot('pnode')}/a/node`;
    const node = new PersistentNode(zk, path, Buffer.from('one'));
    assert.equal(node.getActualPath(), undefined, 'not started');
    await assert.rejects(node.waitForInitialCreate(), RecipeStateError);
    const seen = Recorder.from(node.changes()).calls;
    assert.equal(await started(node), path);
    const stat = await admin.exists(path);
    assert.equal(stat?.ephemeralOwner, zk.sessionId, 'ephemeral, ours');
    assert.equal(await dataAt(admin, path), 'one');
    await node.setData(Buffer.from('two'));
    assert.equal(await dataAt(admin, path), 'two');
    assert.equal(node.getData().toString(), 'two');
    assert.throws(() => node.start(), RecipeStateError);
    await node.close();
    assert.equal(await admin.exists(path), null, 'deleted on close');
    assert.equal(node.getActualPath(), undefined);
    await assert.rejects(node.setData(Buffer.from('x')), RecipeStateError);
    assert.deepEqual(seen, [path, undefined]);

    assert.throws(() => new PersistentNode(zk, 'relative', Buffer.alloc(0)), InvalidPathError);
    assert.throws(() => new PersistentTtlNode(zk, path, 0, Buffer.alloc(0)), InvalidArgumentError);
    assert.throws(
      () => new PersistentTtlNode(zk, path, 1000, Buffer.alloc(0), { touchScheduleFactor: 0 }),
      InvalidArgumentError,
    );
    assert.throws(() => new PersistentNode(zk, path, 'text' as unknown as Buffer), InvalidArgumentError);
    assert.throws(
      () => new PersistentNode(zk, path, Buffer.alloc(0), { mode: CreateMode.CONTAINER }),
      InvalidArgumentError,
    );
    assert.throws(
      () =>
        new PersistentNode(zk, path, Buffer.alloc(0), {
          mode: CreateMode.EPHEMERAL_SEQUENTIAL,
          protection: false,
        }),
      InvalidArgumentError,
    );
    assert.throws(
      () => new PersistentNode(zk, path, Buffer.alloc(0), { mode: CreateMode.EPHEMERAL, ttl: 1000 }),
      InvalidArgumentError,
    );
  });

  test('deleted by another session: made again with the latest data; missing parents made as containers', async (t) => {
    const zk = await connect(t, server);
    const admin = await connect(t, server);
    const root = uniqueRoot('pnode');
    const path = `${root}/parent/node`;
    await using node = new PersistentNode(zk, path, Buffer.from('one'), { mode: CreateMode.PERSISTENT });
    const seen = Recorder.from(node.changes()).calls;
    await started(node);
    await node.setData(Buffer.from('latest'));
    await admin.delete(path);
    await eventually(async () => (await dataAt(admin, path)) === 'latest', 'made again with the latest data');
    assert.equal((await admin.exists(path))?.ephemeralOwner, 0n, 'persistent');
    assert.deepEqual(
      seen.filter((p) => p !== undefined),
      [path, path],
    );
    await node.close();
    assert.equal(await admin.exists(path), null);
    await eventually(
      async () => (await admin.exists(`${root}/parent`)) === null,
      'the container parent goes',
    );
  });

  test('SUSPENDED keeps the same node; LOST: a new node in the new session with the latest data', async (t) => {
    const { proxy, zk } = await viaProxy(t);
    const admin = await connect(t, server);
    const path = uniqueRoot('pnode');
    await using node = new PersistentNode(zk, path, Buffer.from('one'));
    await started(node);
    const first = await admin.exists(path);

    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.blackhole();
    await suspended;
    const write = node.setData(Buffer.from('two'));
    assert.equal(node.getActualPath(), path, 'still ours while suspended');
    proxy.heal();
    proxy.drop();
    await connected;
    await within(write, 'the write lands once reconnected');
    const same = await admin.exists(path);
    assert.equal(same?.czxid, first?.czxid, 'the same node');
    assert.equal(await dataAt(admin, path), 'two');

    const lost = nextState(zk, ConnectionState.LOST);
    await server.expireSession(zk);
    await lost;
    assert.equal(node.getActualPath(), undefined, 'not ours once LOST');
    await node.setData(Buffer.from('three'));
    const remade = await admin.exists(path);
    assert.equal(remade?.ephemeralOwner, zk.sessionId, 'made in the new session');
    assert.notEqual(remade?.czxid, first?.czxid);
    assert.equal(await dataAt(admin, path), 'three');
    assert.equal(node.getActualPath(), path);
  });

  test('LOST while the old session still lives on the server: its node is deleted, never reported as ours', async (t) => {
    const { proxy, zk } = await viaProxy(t);
    const admin = await connect(t, server);
    const path = uniqueRoot('pnode');
    await using node = new PersistentNode(zk, path, Buffer.from('one'));
    await started(node);
    const old = { id: zk.sessionId, password: zk.sessionPassword };
    proxy.blackhole();
    // The old session stays open on the server (a keeper resumes it) while ours declares LOST.
    await connect(t, server, { session: old, sessionTimeout: zk.sessionTimeout });
    await nextState(zk, ConnectionState.LOST, safety(30_000));
    assert.equal(node.getActualPath(), undefined);
    const reported: (string | undefined)[] = [];
    const owners: bigint[] = [];
    const watching = (async () => {
      for await (const path of node.changes()) {
        reported.push(path);
        if (path !== undefined) owners.push((await admin.exists(path))?.ephemeralOwner ?? -1n);
        if (path !== undefined) return;
      }
    })();
    assert.equal((await admin.exists(path))?.ephemeralOwner, old.id, "the old session's node is still there");
    const write = node.setData(Buffer.from('two'));
    proxy.heal();
    await within(write, 'written in the new session');
    await within(watching, 'reported once made in the new session');
    assert.deepEqual(
      reported.filter((p) => p !== undefined),
      [path],
    );
    assert.deepEqual(owners, [zk.sessionId], 'reported only once the new session owns it');
    assert.equal(await dataAt(admin, path), 'two');
  });

  test('a create whose reply is lost (connection cut): exactly one node, adopted', async (t) => {
    for (const options of [{}, { protection: true }, { mode: CreateMode.EPHEMERAL_SEQUENTIAL }]) {
      const { zk, admin, root, lost } = await createReplyLost(t);
      await using node = new PersistentNode(zk, `${root}/node`, Buffer.from('one'), options);
      await started(node);
      await within(lost.happened, 'the create reached the server');
      const nodes = await children(admin, root);
      assert.equal(nodes.length, 1, `one node (${JSON.stringify(options)}): ${nodes.join(', ')}`);
      assert.equal(`${root}/${nodes[0]}`, node.getActualPath());
      assert.equal((await admin.exists(node.getActualPath()!))?.ephemeralOwner, zk.sessionId);
      await node.close();
      assert.deepEqual(await children(admin, root), []);
    }
  });

  test('close() while a create is in flight (its reply lost): nothing is left, nothing made afterwards', async (t) => {
    for (const options of [{}, { protection: true }, { mode: CreateMode.PERSISTENT_SEQUENTIAL }]) {
      const { zk, admin, root, lost } = await createReplyLost(t);
      const node = new PersistentNode(zk, `${root}/node`, Buffer.from('one'), options);
      node.start();
      await within(lost.happened, 'the create reached the server');
      await within(node.close(), 'close');
      assert.deepEqual(await children(admin, root), [], JSON.stringify(options));
      await grace();
      assert.deepEqual(await children(admin, root), [], 'nothing made after close()');
    }
  });

  test('a create whose reply is lost across a session change: one node in the new session, the old one never adopted', async (t) => {
    for (const mode of [CreateMode.EPHEMERAL, CreateMode.PERSISTENT]) {
      const { proxy, zk } = await viaProxy(t);
      const admin = await connect(t, server);
      const root = uniqueRoot('pnode');
      await admin.ensurePath(root);
      const node = new PersistentNode(zk, `${root}/node`, Buffer.from('one'), { mode, protection: true });
      const lost = await loseReplyAcrossSessions(
        t,
        server,
        proxy,
        zk,
        { op: 'create2', path: (p) => p.startsWith(`${root}/`) },
        async () => {
          node.start();
          return node.waitForInitialCreate({ timeout: safety(60_000) });
        },
      );
      const [old] = await children(admin, root);
      assert.ok(old, 'the create was applied in the old session');
      const oldNode = (await admin.exists(`${root}/${old}`))!;
      await lost.reconnect();
      assert.equal(await within(lost.result, 'made in the new session'), true);
      const path = node.getActualPath()!;
      const stat = await admin.exists(path);
      assert.equal(path, `${root}/${old}`, 'its protected name, fixed per instance');
      if (mode === CreateMode.EPHEMERAL) {
        assert.equal(stat?.ephemeralOwner, zk.sessionId, 'owned by the new session');
        assert.notEqual(stat?.czxid, oldNode.czxid, "the old session's node was deleted, a new one made");
      } else
        assert.equal(
          stat?.czxid,
          oldNode.czxid,
          'the persistent node it made is ours (proven by its protected name)',
        );
      assert.equal((await children(admin, root)).length, 1, 'exactly one node');
      await lost.expireOld();
      await node.close();
      assert.deepEqual(await children(admin, root), []);
    }
  });

  test("protected and sequential names (Curator's layout); a sequential node is made again under the name it got", async (t) => {
    const zk = await connect(t, server);
    const admin = await connect(t, server);
    const root = uniqueRoot('pnode');
    await using prot = new PersistentNode(zk, `${root}/p`, Buffer.from('x'), { protection: true });
    const protPath = await started(prot);
    assert.match(protPath.slice(root.length + 1), new RegExp(`${PROTECTED.source}p$`));
    await using seq = new PersistentNode(zk, `${root}/s-`, Buffer.from('y'), {
      mode: CreateMode.PERSISTENT_SEQUENTIAL,
    });
    const seqPath = await started(seq);
    assert.match(seqPath.slice(root.length + 1), new RegExp(`${PROTECTED.source}s-\\d{10}$`));
    await admin.delete(seqPath);
    await eventually(async () => (await dataAt(admin, seqPath)) === 'y', 'made again under its name');
    assert.equal(seq.getActualPath(), seqPath);
    assert.equal((await children(admin, root)).length, 2);
    await Promise.all([prot.close(), seq.close()]);
    assert.deepEqual(await children(admin, root), []);
  });

  test('an unprotected ephemeral held by another session is left alone, and made ours once it goes', async (t) => {
    const zk = await connect(t, server);
    const other = await connect(t, server);
    const path = uniqueRoot('pnode');
    await other.create(path, Buffer.from('theirs'), { ephemeral: true });
    await using node = new PersistentNode(zk, path, Buffer.from('ours'));
    node.start();
    assert.equal(await node.waitForInitialCreate({ timeout: 300 }), false);
    assert.equal(node.getActualPath(), undefined);
    assert.equal(await dataAt(other, path), 'theirs', 'neither deleted nor overwritten');
    await other.close();
    assert.equal(await node.waitForInitialCreate({ timeout: safety() }), true);
    assert.equal(await dataAt(zk, path), 'ours');
    assert.equal((await zk.exists(path))?.ephemeralOwner, zk.sessionId);
  });

  test('creatingParents: false waits for the parent to be made; the signal option closes the node', async (t) => {
    const zk = await connect(t, server);
    const admin = await connect(t, server);
    const parent = uniqueRoot('pnode');
    const path = `${parent}/node`;
    const closer = new AbortController();
    const node = new PersistentNode(zk, path, Buffer.from('x'), {
      creatingParents: false,
      signal: closer.signal,
    });
    node.start();
    assert.equal(await node.waitForInitialCreate({ timeout: 300 }), false);
    assert.equal(await admin.exists(parent), null, 'no parent made');
    await admin.create(parent);
    assert.equal(
      await node.waitForInitialCreate({ timeout: safety() }),
      true,
      'made once the parent is there',
    );
    closer.abort();
    await eventually(async () => (await admin.exists(path)) === null, 'closed by the signal: deleted');
    assert.equal(node.getActualPath(), undefined);
    await assert.rejects(node.setData(Buffer.from('y')), RecipeStateError);
  });

  test('a persistent node already there is taken as ours and gets our data (as Curator does)', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('pnode');
    await zk.create(path, Buffer.from('before'));
    await using node = new PersistentNode(zk, path, Buffer.from('ours'), { mode: CreateMode.PERSISTENT });
    await started(node);
    assert.equal(await dataAt(zk, path), 'ours');
    await node.close();
    assert.equal(await zk.exists(path), null);
  });
});

describe('PersistentTtlNode', () => {
  test("Curator's layout: a TTL parent with the data and a touched TTL child; the touches keep it past its TTL; it expires after close", async (t) => {
    const zk = await connect(t, server);
    const admin = await connect(t, server);
    const path = uniqueRoot('ttl');
    const ttl = 400;
    const node = new PersistentTtlNode(zk, path, ttl, Buffer.from('alive'));
    node.start();
    assert.equal(await node.waitForInitialCreate({ timeout: safety() }), true);
    assert.equal(await dataAt(admin, path), 'alive');
    await eventually(async () => (await admin.exists(`${path}/touch`)) !== null, 'the touch child is made');
    const touched = (await admin.exists(`${path}/touch`))!.mtime;
    await grace(ttl * 3);
    assert.ok((await admin.exists(`${path}/touch`))!.mtime > touched, 'touched again');
    assert.equal(await dataAt(admin, path), 'alive', 'kept past its TTL');
    await node.setData(Buffer.from('still'));
    assert.equal(await dataAt(admin, path), 'still');
    await node.close();
    assert.notEqual(await admin.exists(path), null, 'close leaves it to its TTL');
    await eventually(
      async () => (await admin.exists(path)) === null,
      'expired after its TTL',
      safety(30_000),
    );
  });

  test('SUSPENDED: touches resume on reconnect; LOST: the node is kept (persistent) and touched in the new session', async (t) => {
    const { proxy, zk } = await viaProxy(t);
    const admin = await connect(t, server);
    const path = uniqueRoot('ttl');
    // Longer than the outages below (else the node expires meanwhile, as Curator's would), touched often.
    await using node = new PersistentTtlNode(zk, path, 20_000, Buffer.from('alive'), {
      touchScheduleFactor: 40,
    });
    node.start();
    assert.equal(await node.waitForInitialCreate({ timeout: safety() }), true);
    const { czxid } = (await admin.exists(path))!;
    const touchedAfter = async (mtime: number) =>
      eventually(async () => ((await admin.exists(`${path}/touch`))?.mtime ?? 0) > mtime, 'touched again');

    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    proxy.blackhole();
    await suspended;
    const before = (await admin.exists(`${path}/touch`))?.mtime ?? 0;
    proxy.heal();
    proxy.drop();
    await nextState(zk, ConnectionState.CONNECTED);
    await touchedAfter(Math.max(before, Date.now()));

    const lost = nextState(zk, ConnectionState.LOST);
    await server.expireSession(zk);
    await lost;
    await touchedAfter(Date.now());
    assert.equal((await admin.exists(path))?.czxid, czxid, 'the same node');
    await node.setData(Buffer.from('new session'));
    assert.equal(await dataAt(admin, path), 'new session');
  });
});

test('after close() the process exits by itself (no timers, watches or connections left)', async () => {
  const index = new URL('../../src/index.js', import.meta.url).href;
  const script = `
    import { ZooKeeperClient, PersistentNode, PersistentTtlNode, CreateMode } from ${JSON.stringify(index)};
    const zk = new ZooKeeperClient({ hosts: ${JSON.stringify(server.connectString)} });
    await zk.start();
    const root = '/exit-${Date.now()}';
    const node = new PersistentNode(zk, root + '/a', Buffer.from('a'), { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    const ttl = new PersistentTtlNode(zk, root + '/b', 200, Buffer.from('b'));
    node.start();
    ttl.start();
    if (!(await node.waitForInitialCreate()) || !(await ttl.waitForInitialCreate())) process.exit(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await node.close();
    await ttl.close();
    await zk.close();
    console.log('closed');
  `;
  const { code, stdout, stderr } = await runToExit(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /closed/);
});
