/**
 * GroupMember ↔ Curator 5.4's GroupMember (test/interop/curator/GroupOps.java) on one membership
 * path and server, both directions: each sees the other with its payload, each other's
 * setThisData, and the other leave on close; a member whose session ends disappears from the
 * other's view (Curator's process killed and its session expired; ours expired while cut off,
 * then back in its new session).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { GroupMember } from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { eventually, safety } from '../support/wait.js';

const server = await serverForFile();

/** Curator's `getCurrentMembers()`: id → payload as hex. */
async function curatorView(peer: CuratorPeer, name: string): Promise<Record<string, string>> {
  return (await peer.request('group.members', { name }))['members'] as Record<string, string>;
}

/** Ours, the same way. */
function ourView(member: GroupMember): Record<string, string> {
  return Object.fromEntries([...member.getCurrentMembers()].map(([id, data]) => [id, data.toString('hex')]));
}

const hex = (text: string) => Buffer.from(text).toString('hex');

describe('GroupMember interop with Curator 5.4', () => {
  test("ours and Curator's see each other's payloads and updates, and each other leave", async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = `${uniqueRoot('group')}/members`;
    await using ours = new GroupMember(zk, path, 'node', Buffer.from('node-data'));
    await ours.start();
    await peer.request('group.start', { name: 'j', path, member: 'java', payloadHex: hex('java-data') });
    const both = { java: hex('java-data'), node: hex('node-data') };
    await eventually(() => isDeepStrictEqual(ourView(ours), both), 'ours sees Curator');
    await eventually(async () => isDeepStrictEqual(await curatorView(peer, 'j'), both), 'Curator sees ours');

    await ours.setThisData(Buffer.from([0, 1, 2, 255]));
    await eventually(
      async () => (await curatorView(peer, 'j'))['node'] === '000102ff',
      'Curator sees our bytes',
    );
    await peer.request('group.set', { name: 'j', payloadHex: 'ff00' });
    await eventually(() => ourView(ours)['java'] === 'ff00', "ours sees Curator's bytes");

    await peer.request('group.close', { name: 'j' });
    await eventually(() => !('java' in ourView(ours)), 'ours sees Curator leave');
    await peer.request('group.start', { name: 'k', path, member: 'java-2' });
    await eventually(() => 'java-2' in ourView(ours), 'Curator joins again with its default payload');
    assert.notEqual(ourView(ours)['java-2'], undefined);
    await ours.close();
    await eventually(async () => !('node' in (await curatorView(peer, 'k'))), 'Curator sees ours leave');
    assert.deepEqual(Object.keys(await curatorView(peer, 'k')), ['java-2']);
  });

  test("a member whose session ends leaves the other's view: Curator's killed and expired; ours expired, then back", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const path = uniqueRoot('group');
    const doomed = await CuratorPeer.start(t, server.connectString, 'doomed');
    await doomed.request('group.start', { name: 'd', path, member: 'java-doomed', payloadHex: hex('d') });
    await using ours = new GroupMember(zk, path, 'node', Buffer.from('n'));
    await ours.start();
    assert.equal(await ours.waitForInitialCreate({ timeout: safety() }), true);
    await eventually(() => 'java-doomed' in ourView(ours), 'ours sees Curator');
    doomed.kill();
    await server.expireSession(doomed.session);
    await eventually(() => !('java-doomed' in ourView(ours)), "Curator's member leaves ours' view");

    const witness = await CuratorPeer.start(t, server.connectString, 'witness');
    await witness.request('group.start', { name: 'w', path, member: 'java', payloadHex: hex('w') });
    await eventually(async () => (await curatorView(witness, 'w'))['node'] === hex('n'), 'Curator sees ours');
    proxy.blackhole();
    await server.expireSession({ sessionId: zk.sessionId, sessionPassword: zk.sessionPassword });
    await eventually(
      async () => !('node' in (await curatorView(witness, 'w'))),
      "ours leaves Curator's view",
    );
    proxy.heal();
    proxy.drop();
    await eventually(
      async () => (await curatorView(witness, 'w'))['node'] === hex('n'),
      'ours is back in its new session',
      safety(30_000),
    );
    const node = await zk.exists(`${path}/node`);
    assert.equal(node?.ephemeralOwner, zk.sessionId);
  });
});
