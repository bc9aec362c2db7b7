/**
 * GroupMember against a real ZooKeeper server (Curator's TestGroupMember adapted): members join,
 * see each other with their payloads and leave; setThisData is seen by the others; Curator's
 * layout; bad input; SUSPENDED (the session survives: nobody sees the member leave) and LOST (back
 * in the group in the new session, the others see it leave and come back; the ended session's node
 * is never reported as this member's); close leaves no node, no watch and no timer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import {
  ConnectionState,
  GroupMember,
  InvalidArgumentError,
  InvalidPathError,
  RecipeStateError,
  type GroupChange,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy, ZooKeeperServer } from '../../src/testing/index.js';
import { hostAddress } from '../../src/recipes/local-address.js';
import { connect, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { runToExit } from '../support/process.js';
import { children } from '../support/recipes.js';
import { Recorder } from '../support/recorder.js';
import { eventually, grace, safety } from '../support/wait.js';

const server = await serverForFile();

/** A member's view as plain text: id → payload. */
function view(member: GroupMember): Record<string, string> {
  return Object.fromEntries([...member.getCurrentMembers()].map(([id, data]) => [id, data.toString()]));
}

function changes(recorder: Recorder<GroupChange>): string[] {
  return recorder.calls.map(({ type, id, data }) => `${type} ${id} ${data.toString()}`);
}

/** A started member on its own client (its own session). */
async function join(
  t: Parameters<typeof connect>[0],
  path: string,
  id: string,
  hosts: string | ZooKeeperServer = server,
): Promise<{ zk: ZooKeeperClient; member: GroupMember }> {
  const zk = await connect(t, hosts);
  const member = new GroupMember(zk, path, id, Buffer.from(`${id}-data`));
  t.after(() => member.close());
  await member.start();
  assert.equal(await member.waitForInitialCreate({ timeout: safety() }), true);
  return { zk, member };
}

/**
 * A member behind `proxy` (the one the test cuts off) and a second member straight on the server,
 * each seeing the other.
 */
async function pairBehind(
  t: Parameters<typeof connect>[0],
  proxy: FaultProxy,
  path: string,
  id: string,
  otherId: string,
): Promise<{
  zk: ZooKeeperClient;
  member: GroupMember;
  other: { zk: ZooKeeperClient; member: GroupMember };
}> {
  const { zk, member } = await join(t, path, id, proxy.connectString);
  const other = await join(t, path, otherId);
  await eventually(() => otherId in view(member) && id in view(other.member), 'they see each other');
  return { zk, member, other };
}

describe('GroupMember', () => {
  test("members see each other with their payloads, setThisData is seen, close leaves; Curator's layout", async (t) => {
    const path = uniqueRoot('group');
    const a = await join(t, path, 'a');
    const seenByA = Recorder.from(a.member.changes());
    assert.deepEqual(view(a.member), { a: 'a-data' });
    const b = await join(t, path, 'b');
    const c = await join(t, path, 'c');
    const all = { a: 'a-data', b: 'b-data', c: 'c-data' };
    for (const { member } of [a, b, c])
      await eventually(() => isDeepStrictEqual(view(member), all), `${member.thisId} sees all`);

    // Curator's layout: <membershipPath>/<id>, ephemeral of its member's session, data = payload.
    assert.deepEqual(await children(a.zk, path), ['a', 'b', 'c']);
    const node = await a.zk.get(`${path}/b`);
    assert.equal(node.data.toString(), 'b-data');
    assert.equal(node.stat.ephemeralOwner, b.zk.sessionId);
    assert.equal(a.member.idFromPath(`${path}/b`), 'b');

    await b.member.setThisData(Buffer.from('b-2'));
    assert.equal(view(b.member)['b'], 'b-2', 'its own view at once');
    await eventually(() => view(a.member)['b'] === 'b-2', 'a sees b-2');
    await eventually(() => view(c.member)['b'] === 'b-2', 'c sees b-2');

    await c.member.close();
    assert.deepEqual(view(c.member), {}, 'a closed member lists nobody');
    await eventually(() => !('c' in view(a.member)), 'a sees c leave');
    await eventually(() => !('c' in view(b.member)), 'b sees c leave'); // its own watch, in its own time
    assert.deepEqual(view(b.member), { a: 'a-data', b: 'b-2' });
    assert.deepEqual(await children(a.zk, path), ['a', 'b']);
    assert.deepEqual(changes(seenByA), [
      'joined b b-data',
      'joined c c-data',
      'updated b b-2',
      'left c c-data',
    ]);

    await a.member.setThisData(Buffer.from('a-2'));
    await eventually(() => seenByA.calls.length === 5, 'its own update is a change');
    assert.deepEqual(changes(seenByA).at(-1), 'updated a a-2');
  });

  test('a group created by its first member; ids are one segment; default payload; start once; typed errors', async (t) => {
    const zk = await connect(t, server);
    const path = `${uniqueRoot('group')}/deep/members`;
    await using member = new GroupMember(zk, path, 'x');
    assert.deepEqual([...member.getCurrentMembers().keys()], ['x'], 'this member, before start (as Curator)');
    await member.start();
    assert.equal(await member.waitForInitialCreate({ timeout: safety() }), true);
    assert.ok((await zk.exists(`${path}/x`))!.ephemeralOwner === zk.sessionId);
    assert.deepEqual(member.getCurrentMembers().get('x'), (await zk.get(`${path}/x`)).data);
    // Curator's default payload: this host's name resolved (the bytes a PersistentTtlNode touches with).
    assert.equal((await zk.get(`${path}/x`)).data.toString(), await hostAddress());
    await assert.rejects(member.start(), RecipeStateError);

    // Deeper nodes are not members (Curator's parentPathFilter).
    await zk.create(`${path}/other`, Buffer.from('o'));
    await zk.create(`${path}/other/child`, Buffer.from('not a member'));
    await eventually(() => member.getCurrentMembers().size === 2, 'the other member is seen');
    assert.deepEqual([...member.getCurrentMembers().keys()], ['other', 'x']);

    assert.throws(() => new GroupMember(zk, path, 'a/b'), InvalidArgumentError);
    assert.throws(() => new GroupMember(zk, path, ''), InvalidArgumentError);
    assert.throws(() => new GroupMember(zk, 'relative', 'a'), InvalidPathError);
    assert.throws(() => new GroupMember(zk, path, 'a', 'text' as unknown as Buffer), InvalidArgumentError);
    await assert.rejects(member.setThisData('text' as unknown as Buffer), InvalidArgumentError);
    await member.close();
    await assert.rejects(member.setThisData(Buffer.from('late')), RecipeStateError);
  });

  test("this member's entry is the payload it set, never what is cached at its path", async (t) => {
    const path = uniqueRoot('group');
    const { zk, member } = await join(t, path, 'me');
    const other = await join(t, path, 'other');
    await other.zk.set(`${path}/me`, Buffer.from('forged'));
    await eventually(() => view(other.member)['me'] === 'forged', 'the cache sees the foreign write');
    await eventually(async () => (await zk.get(`${path}/me`)).data.toString() === 'forged', 'written');
    await grace();
    assert.equal(view(member)['me'], 'me-data');
  });

  test('SUSPENDED: the last view while suspended; the session survives, so nobody sees it leave', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const path = uniqueRoot('group');
    const { zk, member, other } = await pairBehind(t, proxy, path, 'flaky', 'steady');
    const seenByOther = Recorder.from(other.member.changes());
    const seenByFlaky = Recorder.from(member.changes());

    const suspended = nextState(zk, ConnectionState.SUSPENDED);
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.blackhole();
    await suspended;
    await other.member.setThisData(Buffer.from('steady-2'));
    const late = await join(t, path, 'late');
    await grace();
    assert.deepEqual(view(member), { flaky: 'flaky-data', steady: 'steady-data' }, "the cache's last view");
    proxy.heal();
    proxy.drop();
    await connected;
    await eventually(
      () => view(member)['steady'] === 'steady-2' && 'late' in view(member),
      'the changes made meanwhile are seen',
    );
    assert.deepEqual(changes(seenByFlaky).sort(), ['joined late late-data', 'updated steady steady-2']);
    assert.deepEqual(view(late.member), { flaky: 'flaky-data', late: 'late-data', steady: 'steady-2' });
    assert.ok(
      changes(seenByOther).every((change) => !change.includes('flaky')),
      'the others never saw it leave',
    );
    assert.equal((await other.zk.exists(`${path}/flaky`))!.ephemeralOwner, zk.sessionId, 'the same node');
  });

  test('LOST: back in the group in the new session; the others see it leave and come back', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const path = uniqueRoot('group');
    const { zk, member, other } = await pairBehind(t, proxy, path, 'mortal', 'witness');
    const seenByOther = Recorder.from(other.member.changes());
    const oldSession = zk.sessionId;

    // Partitioned while the server expires the session: the node is gone before we can re-create it.
    const lost = nextState(zk, ConnectionState.LOST);
    proxy.blackhole();
    await server.expireSession({ sessionId: zk.sessionId, sessionPassword: zk.sessionPassword });
    await eventually(() => !('mortal' in view(other.member)), 'the witness sees it leave');
    assert.deepEqual(view(member), { mortal: 'mortal-data', witness: 'witness-data' }, 'this member, always');
    const written = member.setThisData(Buffer.from('mortal-2')); // resolves once written, reconnected
    assert.equal(view(member)['mortal'], 'mortal-2');
    const connected = nextState(zk, ConnectionState.CONNECTED);
    proxy.heal();
    proxy.drop();
    await lost;
    await connected;
    assert.notEqual(zk.sessionId, oldSession);
    await written;
    assert.equal(member.joined, true, 'joined again in the new session');
    await eventually(() => view(other.member)['mortal'] === 'mortal-2', 'the witness sees it come back');
    const node = await other.zk.get(`${path}/mortal`);
    assert.equal(node.stat.ephemeralOwner, zk.sessionId, 'a node of the new session');
    assert.equal(node.data.toString(), 'mortal-2', 'with the payload set meanwhile');
    assert.deepEqual(changes(seenByOther), ['left mortal mortal-data', 'joined mortal mortal-2']);
    await eventually(() => view(member)['witness'] === 'witness-data', 'it sees the group again');
  });

  test("LOST declared by our client while the server still holds the old session: its node is never taken for this member's", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const path = uniqueRoot('group');
    const { zk, member, other } = await pairBehind(t, proxy, path, 'twice', 'witness');
    const old = { id: zk.sessionId, password: zk.sessionPassword };

    const lost = nextState(zk, ConnectionState.LOST, safety(30_000));
    proxy.blackhole();
    // A keeper holds the old session open, as the server does until it expires it (rounded up to
    // its tick): its node is still there when our client starts its new session.
    const keeper = await connect(t, server, { session: old, sessionTimeout: zk.sessionTimeout });
    await lost;
    assert.equal(member.joined, false, 'not a proven member after LOST');
    const written = member.setThisData(Buffer.from('twice-2'));
    const connected = nextState(zk, ConnectionState.CONNECTED, safety(30_000));
    proxy.heal();
    await connected;
    assert.notEqual(zk.sessionId, old.id);
    const samples = new Set<string | undefined>();
    await eventually(
      async () => {
        samples.add(view(member)['twice']);
        return (await other.zk.exists(`${path}/twice`))?.ephemeralOwner === zk.sessionId;
      },
      'the node is made again by the new session',
      safety(30_000),
    );
    assert.deepEqual([...samples], ['twice-2'], "never the old node's bytes");
    await written;
    assert.equal(member.joined, true);
    await eventually(() => view(other.member)['twice'] === 'twice-2', 'the witness sees the new node');
    await keeper.close();
    await grace();
    assert.equal((await other.zk.exists(`${path}/twice`))?.ephemeralOwner, zk.sessionId, 'still there');
  });

  test('close deletes the node and removes the watch; a process that closes its member and client exits', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('group');
    const watchesBefore = zk.watchCount;
    const member = new GroupMember(zk, path, 'leaving', Buffer.from('x'));
    await member.start();
    assert.equal(await member.waitForInitialCreate({ timeout: safety() }), true);
    assert.equal(member.joined, true);
    const iterator = member.changes();
    await member.close();
    assert.equal(member.joined, false);
    assert.deepEqual(await iterator.next(), { value: undefined, done: true }, 'iterators end');
    assert.deepEqual(await children(zk, path), [], 'no node left');
    assert.equal(zk.watchCount, watchesBefore, 'no watch left');
    await member.close(); // idempotent

    const index = new URL('../../src/index.js', import.meta.url).href;
    const script = `
      import { ZooKeeperClient, GroupMember } from ${JSON.stringify(index)};
      const zk = new ZooKeeperClient({ hosts: ${JSON.stringify(server.connectString)} });
      await zk.start();
      const member = new GroupMember(zk, ${JSON.stringify(path)}, 'child', Buffer.from('c'));
      await member.start();
      if (!(await member.waitForInitialCreate({ timeout: 10000 }))) throw new Error('not created');
      console.log('members', [...member.getCurrentMembers().keys()].join(','));
      await member.close();
      await zk.close();
    `;
    const run = await runToExit(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.stdout, /^members child$/m);
    assert.deepEqual(await children(zk, path), []);
  });
});
