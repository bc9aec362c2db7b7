/**
 * ZooKeeperCluster against real QuorumPeerMain processes: leader election, crashes, loss and
 * return of the quorum, read-only mode, and cleanup.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  closeRawSession,
  openRawSession,
  timing,
  ZooKeeperCluster,
  type MemberMode,
} from '../../src/testing/index.js';
import { eventually, safety } from '../support/wait.js';

async function modes(cluster: ZooKeeperCluster): Promise<MemberMode[]> {
  return Promise.all(cluster.members.map((member) => cluster.mode(member.id)));
}

/** Open and close a session on one member; the response's readOnly flag is returned. */
async function session(cluster: ZooKeeperCluster, id: number, readOnly = false): Promise<boolean> {
  const { connection, response } = await openRawSession(
    '127.0.0.1',
    cluster.members[id - 1]!.port,
    { readOnly },
    timing(10_000),
  );
  assert.ok(response.timeout > 0, `member ${id} accepted the session`);
  await closeRawSession(connection, timing(10_000));
  return response.readOnly;
}

/** Pids of live, non-zombie processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

describe('ZooKeeperCluster', () => {
  test('start() validates its options', async () => {
    await assert.rejects(ZooKeeperCluster.start({ size: 0 }), TypeError);
    await assert.rejects(
      ZooKeeperCluster.start({ config: { 'server.1': '127.0.0.1:1:2' } }),
      /managed by ZooKeeperCluster/,
    );
    await assert.rejects(
      ZooKeeperCluster.start({ config: { clientPort: '2181' } }),
      /managed by ZooKeeperCluster/,
    );
  });

  test('one leader; a crashed leader is replaced; quorum lost and restored; close() leaves nothing behind', async () => {
    const cluster = await ZooKeeperCluster.start({ size: 3 });
    const rootDir = cluster.rootDir;
    const pids = cluster.members.map((member) => member.pid);
    try {
      assert.deepEqual(
        cluster.members.map((member) => member.id),
        [1, 2, 3],
      );
      assert.equal(new Set(cluster.members.flatMap((m) => [m.port, m.quorumPort, m.electionPort])).size, 9);
      assert.equal(
        cluster.connectString,
        cluster.members.map((member) => `127.0.0.1:${member.port}`).join(','),
      );
      assert.equal(cluster.connectStringOf(2), `127.0.0.1:${cluster.members[1]!.port}`);
      assert.throws(() => cluster.connectStringOf(4), RangeError);
      assert.ok(cluster.members.every((member) => member.running && member.pid !== undefined));
      assert.equal(readFileSync(`${cluster.members[2]!.dataDir}/myid`, 'utf8').trim(), '3');

      const initial = await modes(cluster);
      assert.equal(initial.filter((mode) => mode === 'leader').length, 1, `modes ${initial.join(', ')}`);
      assert.equal(initial.filter((mode) => mode === 'follower').length, 2, `modes ${initial.join(', ')}`);
      const leader = await cluster.leader();
      assert.equal(initial[leader - 1], 'leader');
      for (const member of cluster.members) assert.equal(await session(cluster, member.id), false);
      assert.match(await cluster.fourLetterWord(leader, 'srvr'), /^Zookeeper version: 3\.8/);

      // Crash the leader: the other two elect one of themselves.
      cluster.kill(leader);
      await eventually(
        async () => (await cluster.mode(leader)) === 'down',
        'the killed leader is down',
        safety(30_000),
      );
      const newLeader = await cluster.leader();
      assert.notEqual(newLeader, leader);
      assert.equal(await cluster.waitForQuorum(), newLeader);

      // Back with the same ports and data: it joins as a follower.
      const port = cluster.members[leader - 1]!.port;
      await cluster.restart(leader);
      assert.equal(cluster.members[leader - 1]!.port, port);
      assert.equal(await cluster.mode(leader), 'follower');
      assert.equal(await cluster.waitForQuorum(), newLeader);

      // Stop two: the last one cannot serve (no read-only mode here).
      const [survivor, ...stopped] = [
        leader,
        ...cluster.members.map((m) => m.id).filter((id) => id !== leader),
      ];
      for (const id of stopped) await cluster.stop(id);
      assert.deepEqual(
        stopped.map((id) => cluster.members[id - 1]!.running),
        [false, false],
      );
      await eventually(
        async () => (await cluster.mode(survivor!)) === 'not-serving',
        'the survivor stops serving',
        safety(30_000),
      );
      await assert.rejects(session(cluster, survivor!));
      await assert.rejects(cluster.waitForQuorum(), /no quorum possible: 1 of 3/);

      // One more member: the quorum is back.
      await cluster.restart(stopped[0]!);
      await cluster.waitForQuorum();
      assert.ok((['leader', 'follower'] as MemberMode[]).includes(await cluster.mode(survivor!)));
      assert.equal(await session(cluster, survivor!), false);
    } finally {
      await cluster.close();
    }
    // Neither the JVMs we know of nor anything else started for this ensemble is left.
    for (const pid of pids)
      assert.throws(() => process.kill(pid!, 0), { code: 'ESRCH' }, `JVM ${pid} is gone`);
    assert.deepEqual(processesMentioning(rootDir), [], 'no process of the ensemble is left');
    assert.equal(existsSync(rootDir), false);
    assert.ok(cluster.members.every((member) => !member.running && member.pid === undefined));
    await cluster.close(); // idempotent
    await assert.rejects(cluster.restart(1), /closed/);
  });

  test('readOnlyMode: a member without quorum serves read-only sessions until the quorum is back', async () => {
    await using cluster = await ZooKeeperCluster.start({ size: 3, readOnlyMode: true });
    const [alone, second, third] = [1, 2, 3] as const;
    assert.equal(await cluster.fourLetterWord(alone, 'isro'), 'rw');
    await cluster.stop(second);
    await cluster.stop(third);

    await eventually(
      async () => (await cluster.mode(alone)) === 'read-only',
      'member 1 turns read-only',
      safety(30_000),
    );
    assert.equal(await cluster.fourLetterWord(alone, 'isro'), 'ro');
    assert.equal(await session(cluster, alone, true), true, 'a read-only session is accepted and flagged');
    // Refused: closed without a ConnectResponse (seen as a reset if the close races our request).
    await assert.rejects(session(cluster, alone, false), /without a ConnectResponse|ECONNRESET/);

    // Alone and in read-only mode, restart() waits until it serves read-only again.
    await cluster.restart(alone);
    assert.equal(await cluster.mode(alone), 'read-only');

    // A second member restores the quorum; restart() waits for it.
    await cluster.restart(second);
    assert.ok((['leader', 'follower'] as MemberMode[]).includes(await cluster.mode(second)));
    await cluster.waitForQuorum();
    assert.equal(await cluster.fourLetterWord(alone, 'isro'), 'rw');
    assert.equal(await session(cluster, alone, false), false);
  });

  test('pause() freezes the leader past syncLimit: the others elect another; resume() lets it rejoin as a follower', async () => {
    await using cluster = await ZooKeeperCluster.start({ size: 3 });
    const frozen = await cluster.leader();
    const others = cluster.members.filter((member) => member.id !== frozen).map((member) => member.id);
    cluster.pause(frozen);
    try {
      await eventually(
        async () => (await Promise.all(others.map((id) => cluster.mode(id)))).includes('leader'),
        'a leader among the members still running',
        safety(30_000),
      );
      assert.equal(cluster.members[frozen - 1]!.running, true, 'a frozen member still runs');
    } finally {
      cluster.resume(frozen);
    }
    const leader = await cluster.waitForQuorum();
    assert.notEqual(leader, frozen);
    assert.equal(await cluster.mode(frozen), 'follower');
  });
});
