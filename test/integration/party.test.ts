/**
 * Party and ShallowParty against a real ZooKeeper server: kazoo's KazooPartyTests and
 * KazooShallowPartyTests (kazoo 2.8 kazoo/tests/test_party.py, in our own words), the kazoo 2.8
 * node names, SUSPENDED (proxy drop: nothing changes) and LOST (real expiry: the member re-joins
 * by itself, our documented deviation — kazoo never does; `autoRejoin: false` keeps kazoo's
 * behaviour), and interop with Debian's kazoo 2.8 (each side sees the other's members).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectionState,
  InvalidArgumentError,
  OutcomeUnknownError,
  Party,
  ShallowParty,
  TimeoutError,
  type WatchEvent,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import {
  connect,
  dropConnection,
  loseSessionAfter,
  nextState,
  serverForFile,
  sorted,
  uniqueRoot,
} from '../support/client.js';
import { KazooPeer } from '../support/kazoo.js';
import { Recorder } from '../support/recorder.js';
import { eventually, grace, rejectsWithin, safety, within } from '../support/wait.js';

const server = await serverForFile();

const kinds = [
  {
    name: 'Party',
    make: (zk: ZooKeeperClient, path: string, identifier?: string) =>
      new Party(zk, path, identifier === undefined ? {} : { identifier }),
  },
  {
    name: 'ShallowParty',
    make: (zk: ZooKeeperClient, path: string, identifier?: string) =>
      new ShallowParty(zk, path, identifier === undefined ? {} : { identifier }),
  },
] as const;

for (const kind of kinds) {
  describe(`${kind.name}: kazoo ${kind.name === 'Party' ? 'KazooPartyTests' : 'KazooShallowPartyTests'}.test_party`, () => {
    test('five members: empty at first; each join grows the set and size by one, each leave shrinks them', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('party');
      const parties = [0, 1, 2, 3, 4].map((i) => kind.make(zk, path, `p${i}`));
      const one = parties[0]!;
      assert.deepEqual(await one.members(), []);
      assert.equal(await one.size(), 0);
      const expected = new Set<string>();
      for (const party of parties) {
        await party.join();
        expected.add(party.identifier);
        assert.deepEqual(sorted(await party.members()), sorted([...expected]));
        assert.equal(await party.size(), expected.size);
      }
      for (const party of parties) {
        assert.equal(await party.leave(), true);
        expected.delete(party.identifier);
        assert.deepEqual(sorted(await party.members()), sorted([...expected]));
        assert.equal(await party.size(), expected.size);
      }
    });
  });
}

describe('Party: kazoo KazooPartyTests (node reuse and vanishing)', () => {
  test('test_party_reuse_node: our node pre-created by hand → join() succeeds, participating; leave() → size 0', async (t) => {
    const zk = await connect(t, server);
    const party = new Party(zk, uniqueRoot('party'), { identifier: 'p1' });
    await zk.ensurePath(party.path);
    await zk.create(party.nodePath, null);
    await party.join();
    assert.equal(party.participating, true);
    assert.equal(await party.leave(), true);
    assert.equal(party.participating, false);
    assert.equal(await party.size(), 0);
  });

  test('test_party_vanishing_node: joined, node deleted by hand → leave() is false, not participating, size 0', async (t) => {
    const zk = await connect(t, server);
    const party = new Party(zk, uniqueRoot('party'), { identifier: 'p1' });
    await party.join();
    assert.equal(party.participating, true);
    await zk.delete(party.nodePath);
    assert.equal(await party.leave(), false);
    assert.equal(party.participating, false);
    assert.equal(await party.size(), 0);
  });
});

describe('Party / ShallowParty: layout', () => {
  test('Party: <32hex>__party__ ephemeral with the identifier; other children are not members', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('party');
    const party = new Party(zk, path, { identifier: 'wörker 1' });
    assert.match(party.node, /^[0-9a-f]{32}__party__$/);
    await party.join();
    const { data, stat } = await zk.get(party.nodePath);
    assert.equal(data.toString('utf8'), 'wörker 1');
    assert.equal(stat.ephemeralOwner, zk.sessionId);
    assert.equal((await zk.get(path)).stat.ephemeralOwner, 0n, 'the parent is persistent');
    await zk.create(`${path}/not-a-member`, 'x');
    await zk.create(`${path}/someone__party__`, 'other');
    assert.deepEqual(
      sorted(await party.members()),
      ['other', 'wörker 1'],
      'members are the children containing __party__',
    );
    assert.equal(await party.size(), 2);
    const listed: string[] = [];
    for await (const member of party) listed.push(member);
    assert.deepEqual(sorted(listed), ['other', 'wörker 1']);
  });

  test('ShallowParty: <32hex>-<identifier> ephemeral, data = identifier; every child counts, parsed after the first "-"', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('party');
    const party = new ShallowParty(zk, path, { identifier: 'host-1:80' });
    assert.match(party.node, /^[0-9a-f]{32}-host-1:80$/);
    await party.join();
    const { data, stat } = await zk.get(party.nodePath);
    assert.equal(data.toString('utf8'), 'host-1:80');
    assert.equal(stat.ephemeralOwner, zk.sessionId);
    await zk.create(`${path}/nodash`, null);
    assert.deepEqual(sorted(await party.members()), ['host-1:80', 'nodash']);
    assert.throws(() => new ShallowParty(zk, path, { identifier: 'a/b' }), InvalidArgumentError);
    const anonymous = new ShallowParty(zk, path);
    assert.match(anonymous.node, /^[0-9a-f]{32}-$/, 'no identifier → empty identifier');
  });
});

/** Expire `zk`'s session for real, wait for its new session, then give a rejoin time to show. */
async function expireAndReconnect(zk: ZooKeeperClient): Promise<void> {
  const connected = nextState(zk, ConnectionState.CONNECTED, safety());
  await server.expireSession(zk);
  await connected;
  await grace(300);
}

describe('Party: SUSPENDED / LOST', () => {
  test('SUSPENDED (proxy drop): the member node survives unchanged (same session)', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('party');
    const party = new Party(zk, path, { identifier: 'm' });
    await party.join();
    const before = (await observer.exists(party.nodePath))!;
    const { suspended, reconnected: connected } = dropConnection(zk, proxy);
    await suspended;
    await connected;
    const afterwards = (await observer.exists(party.nodePath))!;
    assert.equal(afterwards.czxid, before.czxid, 'the very same node');
    assert.equal(afterwards.ephemeralOwner, zk.sessionId);
    assert.equal(party.rejoins, 0);
    assert.deepEqual(await new Party(observer, path).members(), ['m']);
  });

  for (const kind of kinds) {
    test(`${kind.name} LOST (real expiry): the member disappears, then re-joins by itself in the new session`, async (t) => {
      const zk = await connect(t, server);
      const observer = await connect(t, server);
      const path = uniqueRoot('party');
      const party = kind.make(zk, path, 'member');
      await party.join();
      const oldSession = zk.sessionId;
      const watcher = kind.make(observer, path);
      assert.deepEqual(await watcher.members(), ['member']);
      const deletions = new Recorder<WatchEvent>();
      assert.ok(await observer.exists(party.nodePath, { watch: deletions.listener }));
      const lost = nextState(zk, ConnectionState.LOST, safety());
      await server.expireSession(zk);
      await lost;
      assert.equal((await deletions.nth(1)).type, 'NodeDeleted', 'the member node vanished with the session');
      const stat = await eventually(() => observer.exists(party.nodePath), 'the member node is back');
      assert.notEqual(stat.ephemeralOwner, oldSession);
      assert.equal(stat.ephemeralOwner, zk.sessionId, 'owned by the new session');
      assert.deepEqual(await watcher.members(), ['member']);
      assert.equal(party.participating, true);
      assert.equal(party.rejoins, 1);
      assert.equal(await party.leave(), true);
      assert.deepEqual(await watcher.members(), []);
    });
  }

  test('autoRejoin: false keeps kazoo behaviour: after LOST the member stays gone', async (t) => {
    const zk = await connect(t, server);
    const observer = await connect(t, server);
    const path = uniqueRoot('party');
    const party = new Party(zk, path, { identifier: 'member', autoRejoin: false });
    await party.join();
    await expireAndReconnect(zk);
    assert.equal(await observer.exists(party.nodePath), null);
    assert.equal(party.rejoins, 0);
    assert.equal(party.participating, true, "kazoo's participating stays true");
    await party.join(); // re-joining by hand works
    assert.deepEqual(await new Party(observer, path).members(), ['member']);
  });

  test('after leave(), a later session loss does not bring the member back', async (t) => {
    const zk = await connect(t, server);
    const observer = await connect(t, server);
    const party = new Party(zk, uniqueRoot('party'), { identifier: 'member' });
    await party.join();
    await party.leave();
    await expireAndReconnect(zk);
    assert.equal(await observer.exists(party.nodePath), null);
    assert.equal(party.rejoins, 0);
  });
});

describe('Party: lost replies (frame proxy)', () => {
  test("a join whose create reply is lost: one member node, ours; across LOST the old session's node is never adopted", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 2000 });
    const observer = await connect(t, server);
    const party = new Party(zk, uniqueRoot('party'), { identifier: 'p1' });
    await party.size(); // the parent exists: the join's only write is our create

    const swallowed = proxy.swallowReply({ op: 'create2', path: party.nodePath });
    await within(party.join(), 'join after a lost create reply');
    assert.equal(swallowed.fired, 1, 'the reply was lost');
    assert.equal(
      (await observer.exists(party.nodePath))?.ephemeralOwner,
      zk.sessionId,
      'the node of this session is ours',
    );
    assert.equal(await party.leave(), true);

    const oldSession = zk.sessionId;
    const lost = proxy.swallowReply({ op: 'create2', path: party.nodePath }, { then: 'blackhole' });
    const joining = party.join();
    await loseSessionAfter(zk, proxy, lost);
    await within(joining, 'join in the new session');
    assert.notEqual(zk.sessionId, oldSession);
    assert.equal(
      (await observer.exists(party.nodePath))?.ephemeralOwner,
      zk.sessionId,
      "the old session's node was replaced, not adopted",
    );
    await eventually(async () => (await observer.getChildren(party.path)).length === 1, 'one member node');
    assert.deepEqual(await party.members(), ['p1']);
    assert.equal(await party.leave(), true);
    assert.deepEqual(await observer.getChildren(party.path), []);
  });
});

describe('Party: deadlines while disconnected, and what leave() reports', () => {
  test('while disconnected, a join answers at its deadline: queued behind a leave, or after a leave that gave up', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 30_000 });
    const observer = await connect(t, server);
    const party = new Party(zk, uniqueRoot('party'), { identifier: 'p', autoRejoin: false });
    const cutOff = 'while still disconnected (the session lives 30 s)';
    const disconnect = async () => {
      proxy.refuse();
      const suspended = nextState(zk, ConnectionState.SUSPENDED, safety());
      proxy.drop();
      await suspended;
    };
    // A leave without a deadline waits for the reconnect; a join queued behind it keeps its own.
    await party.join();
    await disconnect();
    const leaving = party.leave();
    const queued = await rejectsWithin(
      party.join({ timeout: 500 }),
      `a queued join ${cutOff}`,
      timing(5_000),
    );
    assert.ok(queued instanceof TimeoutError, `TimeoutError, got ${String(queued)}`);
    assert.notEqual(zk.state, ConnectionState.CONNECTED);
    proxy.accept();
    assert.equal(await within(leaving, 'the leave after the reconnect', safety(30_000)), true);
    assert.equal(await observer.exists(party.nodePath), null, 'the queued join gave up: it never ran');
    // A leave that gives up deletes in the background; the next join waits for that within its deadline.
    await party.join();
    await disconnect();
    const gaveUp = await rejectsWithin(party.leave({ timeout: 500 }), `leave ${cutOff}`, timing(5_000));
    assert.ok(gaveUp instanceof TimeoutError, `TimeoutError, got ${String(gaveUp)}`);
    const error = await rejectsWithin(party.join({ timeout: 500 }), `join ${cutOff}`, timing(5_000));
    assert.ok(error instanceof TimeoutError, `TimeoutError, got ${String(error)}`);
    assert.notEqual(zk.state, ConnectionState.CONNECTED);
    proxy.accept();
    await eventually(
      async () => (await observer.exists(party.nodePath)) === null,
      'deleted in the background',
      safety(30_000),
    );
    assert.equal(party.participating, false);
    await party.join();
    assert.deepEqual(await new Party(observer, party.path).members(), ['p']);
    assert.equal(await party.leave(), true);
  });

  test('scenario 2 of leave: a delete whose reply is lost, then NoNode in the same session, was ours: true', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const party = new Party(zk, uniqueRoot('party'), { identifier: 'p' });
    await party.join();
    const swallowed = proxy.swallowReply({ op: 'delete', path: party.nodePath });
    assert.equal(await within(party.leave(), 'leave after a lost delete reply'), true);
    assert.equal(swallowed.fired, 1, 'the reply was lost');
    assert.equal((await swallowed.happened).reply?.err, 0, 'the delete was applied');
    assert.equal(await observer.exists(party.nodePath), null);
    assert.equal(await party.leave(), false, 'a second leave: nothing left to delete');
  });

  test('a delete whose reply is lost across a session change: the node is gone, but by whom is unknown: OutcomeUnknownError', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 2000 });
    const observer = await connect(t, server);
    const party = new Party(zk, uniqueRoot('party'), { identifier: 'p' });
    await party.join();
    const lost = proxy.swallowReply({ op: 'delete', path: party.nodePath }, { then: 'blackhole' });
    const leaving = party.leave();
    leaving.catch(() => {}); // awaited below
    await loseSessionAfter(zk, proxy, lost);
    const error = await rejectsWithin(leaving, 'the leave');
    assert.ok(error instanceof OutcomeUnknownError, `OutcomeUnknownError, got ${String(error)}`);
    assert.equal(await observer.exists(party.nodePath), null, 'gone either way');
    assert.equal(party.participating, false);
    assert.equal(party.rejoins, 0, 'not re-joined after the leave');
  });
});

describe('Party: interop with kazoo 2.8', () => {
  for (const [kind, peerKind] of [
    [kinds[0], 'party'],
    [kinds[1], 'shallow'],
  ] as const) {
    test(`${kind.name}: a kazoo member and ours see each other; each leave is seen by the other side`, async (t) => {
      const zk = await connect(t, server);
      const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
      const path = uniqueRoot('party');
      const ours = kind.make(zk, path, 'ts-member');
      await ours.join();
      const joined = await peer.request('party_join', {
        kind: peerKind,
        path,
        identifier: 'kazoo-member',
        name: 'k',
      });
      assert.ok(
        kind.name === 'Party'
          ? /^[0-9a-f]{32}__party__$/.test(String(joined['node']))
          : /^[0-9a-f]{32}-kazoo-member$/.test(String(joined['node'])),
      );
      assert.deepEqual(sorted(await ours.members()), ['kazoo-member', 'ts-member']);
      const seen = await peer.request('party_members', { kind: peerKind, path });
      assert.deepEqual(seen['members'], ['kazoo-member', 'ts-member']);
      assert.equal(seen['size'], 2);
      await ours.leave();
      assert.deepEqual((await peer.request('party_members', { kind: peerKind, path }))['members'], [
        'kazoo-member',
      ]);
      assert.equal((await peer.request('party_leave', { name: 'k' }))['result'], true);
      assert.deepEqual(await ours.members(), []);
    });
  }
});
