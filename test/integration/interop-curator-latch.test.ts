/**
 * LeaderLatch ↔ Curator 5.4's LeaderLatch (test/interop/curator/LatchOps.java) on one path and
 * server, both directions: exactly one leader between them, leadership handed over when the
 * leader closes and when the leader's session ends (ours expired by the server, Curator's
 * process killed and its session expired).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeaderLatch } from '../../src/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { CuratorPeer } from '../support/curator.js';
import { eventually, grace } from '../support/wait.js';

const server = await serverForFile();

async function curatorLeads(peer: CuratorPeer, name: string): Promise<boolean> {
  return (await peer.request('latch.has', { name }))['leader'] === true;
}

/** The participants' ids as Curator's `getParticipants()` lists them, leader first. */
async function curatorIds(peer: CuratorPeer, name: string): Promise<string[]> {
  return (await peer.request('latch.participants', { name }))['ids'] as string[];
}

describe('LeaderLatch interop with Curator 5.4', () => {
  test('ours leads first, Curator waits; ours closes → Curator leads, ours waits; Curator closes → ours leads', async (t) => {
    const zk = await connect(t, server);
    const peer = await CuratorPeer.start(t, server.connectString);
    const path = uniqueRoot('latch');
    const ours = new LeaderLatch(zk, path, { identifier: 'node' });
    await ours.start();
    assert.equal(ours.hasLeadership(), true);
    await peer.request('latch.start', { name: 'j', path, participant: 'java' });
    await eventually(async () => (await ours.participants()).length === 2, 'Curator joined');
    assert.deepEqual(await ours.participants(), [
      { id: 'node', isLeader: true },
      { id: 'java', isLeader: false },
    ]);
    assert.deepEqual(await curatorIds(peer, 'j'), ['node', 'java']);
    assert.equal(await curatorLeads(peer, 'j'), false, 'Curator does not lead while we do');

    await ours.close();
    await peer.next(/^LATCH_LEADER j$/);
    const again = new LeaderLatch(zk, path, { identifier: 'node-2' });
    await again.start();
    assert.equal(again.hasLeadership(), false, 'we do not lead while Curator does');
    assert.equal(await curatorLeads(peer, 'j'), true);
    await peer.request('latch.close', { name: 'j' });
    assert.equal(await again.awaitLeadership({ timeout: 10_000 }), true, 'ours leads after Curator closed');
    await again.close();
  });

  test("the leader's session ends: Curator's expired → ours leads; ours expired → Curator leads", async (t) => {
    const zk = await connect(t, server);
    const first = await CuratorPeer.start(t, server.connectString, 'first');
    const path = uniqueRoot('latch');
    await first.request('latch.start', { name: 'j1', path, participant: 'java-1' });
    await first.next(/^LATCH_LEADER j1$/);
    const ours = new LeaderLatch(zk, path, { identifier: 'node' });
    await ours.start();
    assert.equal(ours.hasLeadership(), false);
    first.kill();
    await server.expireSession(first.session);
    assert.equal(
      await ours.awaitLeadership({ timeout: 20_000 }),
      true,
      "ours leads once Curator's session ended",
    );

    const second = await CuratorPeer.start(t, server.connectString, 'second');
    await second.request('latch.start', { name: 'j2', path, participant: 'java-2' });
    await eventually(async () => (await ours.participants()).length === 2, 'Curator joined');
    await grace();
    assert.equal(await curatorLeads(second, 'j2'), false);
    await server.expireSession(zk);
    await second.next(/^LATCH_LEADER j2$/);
    assert.equal(ours.hasLeadership(), false, 'ours lost leadership with its session');
    await eventually(async () => (await curatorIds(second, 'j2')).length === 2, 'ours joined again');
    assert.deepEqual(await curatorIds(second, 'j2'), ['java-2', 'node']);
    assert.equal(ours.hasLeadership(), false, 'never two leaders');
    await second.request('latch.close', { name: 'j2' });
    assert.equal(await ours.awaitLeadership({ timeout: 10_000 }), true);
    await ours.close();
  });
});
