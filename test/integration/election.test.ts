/**
 * Election against a real ZooKeeper server (kazoo's kazoo/tests/test_election.py): kazoo's test_election and
 * test_bad_func adapted to promises, one leader at a time, leadership passing when the leader's
 * function settles (also by throwing), cancel/abort, several leaders (`leaders: N`), the leader's
 * connection being suspended, and the leader's session being lost.
 *
 * Deviation from kazoo exercised here: a cancelled `run` rejects with AbortError (kazoo swallows
 * CancelledError and returns None).
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import {
  AbortError,
  AlreadyAcquiredError,
  ConnectionLossError,
  ConnectionState,
  Election,
  InvalidArgumentError,
  Lock,
  type Leadership,
} from '../../src/index.js';
import { FaultProxy } from '../../src/testing/index.js';
import { connect, dropConnection, serverForFile, uniqueRoot } from '../support/client.js';
import { children, contendersReach, CriticalSection } from '../support/recipes.js';
import {
  Deferred,
  eventually,
  grace,
  probe,
  type Probe,
  rejectsWithin,
  safety,
  within,
} from '../support/wait.js';

const server = await serverForFile();

class UniqueError extends Error {}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

/** An Election 'leader' that leads (its run waits for `stop`) on a fresh path. */
async function leading(t: TestContext) {
  const zk = await connect(t, server);
  const path = uniqueRoot('election');
  const leader = new Election(zk, path, { identifier: 'leader' });
  const stop = new Deferred();
  const leaderRun = leader.run(() => stop.promise);
  await eventually(() => leader.isLeader, 'leader leads');
  return { zk, path, leader, stop, leaderRun };
}

describe('Election: kazoo KazooElectionTests', () => {
  test('test_election: leader is contenders()[0]; cancel #2; exit → #3; #1 re-enters; #3 raises → #1 re-elected', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('election');
    const section = new CriticalSection();
    let leaderId: string | undefined;
    let exit = new Deferred();
    let raiseException = false;
    const elected = new Map<string, Deferred>();
    const leaderFunc = (name: string) => async (leadership: Leadership) => {
      section.enter(name);
      leaderId = name;
      const myExit = new Deferred();
      exit = myExit;
      elected.get(name)?.resolve();
      assert.equal(leadership.signal.aborted, false);
      await myExit.promise;
      section.leave(name);
      if (raiseException) throw new UniqueError('expected error in the leader function');
    };
    const names = [0, 1, 2].map((i) => `c${i}-${Math.random().toString(16).slice(2)}`);
    const elections = new Map(names.map((name) => [name, new Election(zk, path, { identifier: name })]));
    const runs = new Map<string, Probe<void>>();
    const spawn = (name: string) => {
      elected.set(name, new Deferred());
      runs.set(name, probe(elections.get(name)!.run(leaderFunc(name))));
    };
    for (const name of names) spawn(name);
    await eventually(() => leaderId, 'a leader');
    const observer = new Election(zk, path);
    const contenders = await contendersReach(observer, 3);
    assert.deepEqual([...contenders].sort(), [...names].sort());
    const firstLeader = contenders[0]!;
    assert.equal(firstLeader, leaderId);
    assert.equal(elections.get(firstLeader)!.isLeader, true);

    // Cancel the second: it is never elected; its run rejects with AbortError (kazoo: returns None).
    elections.get(contenders[1]!)!.cancel();
    const cancelled = await rejectsWithin(runs.get(contenders[1]!)!.promise, 'the cancelled run');
    assert.ok(cancelled instanceof AbortError, `AbortError, got ${String(cancelled)}`);

    // The leader exits: the third is elected.
    exit.resolve();
    await within(elected.get(contenders[2]!)!.promise, 'the third contender is elected');
    assert.equal(leaderId, contenders[2]);
    await within(runs.get(firstLeader)!.promise, "the first leader's run resolves");
    assert.equal(elections.get(firstLeader)!.isLeader, false);

    // The first re-enters: contenders are the current leader, then the first.
    spawn(firstLeader);
    assert.deepEqual(await contendersReach(observer, 2), [contenders[2], firstLeader]);

    // The current leader raises: the error comes out of its run; the first is re-elected.
    raiseException = true;
    exit.resolve();
    const error = await rejectsWithin(runs.get(contenders[2]!)!.promise, "the raising leader's run");
    assert.ok(error instanceof UniqueError, `UniqueError, got ${String(error)}`);
    await within(elected.get(firstLeader)!.promise, 'the first is re-elected');
    assert.equal(leaderId, firstLeader);
    exit.resolve();
    await assert.rejects(within(runs.get(firstLeader)!.promise, 'last run'), UniqueError);
    assert.deepEqual(section.overlaps, []);
    assert.deepEqual(await observer.contenders(), []);
  });

  test('test_bad_func: run() with something that is not a function rejects and leaves no node', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('election');
    const election = new Election(zk, path);
    // kazoo raises ValueError up front; TS callers are stopped by the types, JS callers get a TypeError.
    const error = await rejectsWithin(
      election.run('not a callable' as unknown as () => void),
      'run(non-function)',
    );
    assert.ok(error instanceof TypeError, `TypeError, got ${String(error)}`);
    assert.equal(election.isLeader, false);
    assert.deepEqual(await children(zk, path), []);
  });
});

describe('Election: semantics', () => {
  test('several candidates on several clients: exactly one leader at a time, each leads once, leader listed first', async (t) => {
    const zks = await Promise.all([0, 1, 2].map(() => connect(t, server)));
    const path = uniqueRoot('election');
    const section = new CriticalSection();
    const observer = new Election(zks[0]!, path);
    const led: string[] = [];
    const runs = [0, 1, 2, 3, 4].map((i) => {
      const name = `cand${i}`;
      const election = new Election(zks[i % 3]!, path, { identifier: name });
      return election.run(async ({ fencingToken }) => {
        section.enter(name);
        assert.equal(election.isLeader, true);
        const list = await observer.contenders();
        assert.equal(list[0], name, 'the leader is listed first');
        led.push(name);
        await delay(20);
        section.leave(name);
        return fencingToken;
      });
    });
    const tokens = await within(Promise.all(runs), 'every candidate led once');
    assert.equal(led.length, 5);
    assert.deepEqual([...led].sort(), ['cand0', 'cand1', 'cand2', 'cand3', 'cand4']);
    assert.deepEqual(section.overlaps, []);
    const inOrder = led.map((name) => tokens[Number(name.slice(4))]!);
    for (let i = 1; i < inOrder.length; i++)
      assert.ok(inOrder[i]! > inOrder[i - 1]!, 'fencing tokens grow with every leader');
    assert.deepEqual(await observer.contenders(), []);
  });

  test("leadership passes when the leader's function settles, also when it throws (the error propagates from run)", async (t) => {
    const zk1 = await connect(t, server);
    const zk2 = await connect(t, server);
    const path = uniqueRoot('election');
    const first = new Election(zk1, path, { identifier: 'first' });
    const second = new Election(zk2, path, { identifier: 'second' });
    const stop = new Deferred();
    const firstRun = probe(
      first.run(async () => {
        await stop.promise;
        throw new UniqueError('leader failed');
      }),
    );
    await eventually(() => first.isLeader, 'first leads');
    const secondLed = new Deferred<string>();
    const secondRun = probe(second.run(() => (secondLed.resolve('second'), 42)));
    assert.deepEqual(await contendersReach(first, 2), ['first', 'second']);
    await grace();
    assert.equal(secondRun.settled, false, 'second waits');
    stop.resolve();
    const error = await rejectsWithin(firstRun.promise, "first's run");
    assert.ok(error instanceof UniqueError);
    assert.equal(first.isLeader, false);
    assert.equal(await within(secondLed.promise, 'second leads'), 'second');
    assert.equal(
      await within(secondRun.promise, "second's run"),
      42,
      "run resolves with the function's result",
    );
    assert.deepEqual(await children(zk1, path), []);
  });

  test('cancel() and an aborted signal make a waiting run reject with AbortError and leave no node', async (t) => {
    const { zk, path, leader, stop, leaderRun } = await leading(t);
    const leaderNode = (await children(zk, path))[0]!;

    const viaCancel = new Election(zk, path, { identifier: 'cancel-me' });
    const cancelRun = probe(viaCancel.run(() => assert.fail('never elected')));
    await contendersReach(leader, 2);
    viaCancel.cancel();
    const e1 = await rejectsWithin(cancelRun.promise, 'the cancelled run');
    assert.ok(e1 instanceof AbortError, `AbortError, got ${String(e1)}`);
    assert.deepEqual(await children(zk, path), [leaderNode]);

    const viaSignal = new Election(zk, path, { identifier: 'abort-me' });
    const controller = new AbortController();
    const signalRun = probe(viaSignal.run(() => assert.fail('never elected'), { signal: controller.signal }));
    await contendersReach(leader, 2);
    controller.abort();
    const e2 = await rejectsWithin(signalRun.promise, 'the aborted run');
    assert.ok(e2 instanceof AbortError, `AbortError, got ${String(e2)}`);
    assert.deepEqual(await children(zk, path), [leaderNode]);

    await assert.rejects(
      viaSignal.run(() => assert.fail('never elected'), { signal: AbortSignal.abort() }),
      AbortError,
    );
    assert.deepEqual(await children(zk, path), [leaderNode]);

    // A stale cancel() (nothing waiting) does not poison the next run (deviation from kazoo's Lock).
    viaCancel.cancel();
    stop.resolve();
    await leaderRun;
    assert.equal(
      await within(
        viaCancel.run(() => 'ran'),
        'run after a stale cancel',
      ),
      'ran',
    );
  });

  test('cancel() still cancels a waiting run after a concurrent second run() on the same Election was refused', async (t) => {
    const { zk, path, leader, stop, leaderRun } = await leading(t);
    const candidate = new Election(zk, path, { identifier: 'candidate' });
    const waiting = probe(candidate.run(() => 'elected'));
    await contendersReach(leader, 2);
    await assert.rejects(
      candidate.run(() => 'twice'),
      AlreadyAcquiredError,
      'one instance runs one candidacy at a time',
    );
    candidate.cancel();
    const outcome = await Promise.race([
      waiting.promise.then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      delay(safety(3_000)).then(() => 'still waiting'),
    ]);
    stop.resolve();
    await leaderRun;
    if (outcome === 'still waiting')
      await within(
        waiting.promise.catch(() => {}),
        'cleanup: the uncancelled run ends',
      );
    assert.ok(
      outcome instanceof AbortError,
      `the waiting run should reject with AbortError after cancel(), got ${String(outcome)}`,
    );
  });

  test('leaders: 2 gives exactly two concurrent leaders; a third waits until one steps down', async (t) => {
    const zks = await Promise.all([0, 1, 2].map(() => connect(t, server)));
    const path = uniqueRoot('election');
    let leading = 0;
    let maxLeading = 0;
    const stops = [new Deferred(), new Deferred(), new Deferred()];
    const started = [new Deferred(), new Deferred(), new Deferred()];
    const elections = [0, 1, 2].map((i) => new Election(zks[i]!, path, { identifier: `e${i}`, leaders: 2 }));
    const run = (i: number) =>
      elections[i]!.run(async () => {
        leading++;
        maxLeading = Math.max(maxLeading, leading);
        started[i]!.resolve();
        await stops[i]!.promise;
        leading--;
      });
    const r0 = run(0);
    await within(started[0]!.promise, 'e0 leads');
    const r1 = run(1);
    await within(started[1]!.promise, 'e1 leads alongside e0');
    assert.equal(leading, 2);
    assert.equal(elections[0]!.isLeader && elections[1]!.isLeader, true);
    const r2 = probe(run(2));
    assert.deepEqual(await contendersReach(elections[0]!, 3), ['e0', 'e1', 'e2']);
    await grace();
    assert.equal(elections[2]!.isLeader, false, 'a third candidate waits');
    stops[1]!.resolve();
    await r1;
    await within(started[2]!.promise, 'e2 leads after e1 stepped down');
    assert.equal(leading, 2);
    stops[0]!.resolve();
    stops[2]!.resolve();
    await Promise.all([r0, r2.promise]);
    assert.equal(maxLeading, 2);
    assert.throws(() => new Election(zks[0]!, path, { leaders: 0 }), InvalidArgumentError);
  });

  test("the leader's session is lost (real expiry): its signal fires, isLeader false, another candidate leads", async (t) => {
    const zkLeader = await connect(t, server);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('election');
    const leader = new Election(zkLeader, path, { identifier: 'leader' });
    const section = new CriticalSection();
    const leaderRun = leader.run(async ({ signal }) => {
      section.enter('leader');
      const reason = await aborted(signal);
      section.leave('leader'); // stops acting as leader as soon as told
      return reason;
    });
    await eventually(() => leader.isLeader, 'leader leads');
    const other = new Election(zkOther, path, { identifier: 'other' });
    const otherLed = new Deferred();
    const otherRun = other.run(async ({ signal }) => {
      section.enter('other');
      otherLed.resolve();
      await aborted(signal);
      section.leave('other');
    });
    await contendersReach(other, 2);
    await server.expireSession(zkLeader);
    const reason = await within(leaderRun, "the old leader's function ends on its signal");
    assert.ok(reason instanceof Error, `abort reason, got ${String(reason)}`);
    await within(otherLed.promise, 'the other candidate leads');
    await eventually(
      () => zkLeader.state === ConnectionState.CONNECTED && !leader.isLeader,
      'old leader: LOST then reconnected',
    );
    assert.equal(leader.isLeader, false);
    assert.equal(other.isLeader, true);
    assert.deepEqual(await other.contenders(), ['other']);
    assert.deepEqual(section.overlaps, []);
    const lockView = new Lock(zkLeader, path);
    assert.equal(
      await lockView.acquire({ blocking: false }),
      false,
      'an Election and a Lock on one path compete',
    );
    await zkOther.close();
    await within(otherRun, "the other leader's function ends when its client closes");
  });

  test("SUSPENDED (proxy drop): the leader's signal fires (not with ownershipLostOn: 'LOST'); leadership survives the reconnect, a waiting candidate keeps waiting", async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const zkOther = await connect(t, server);
    const path = uniqueRoot('election');
    const strict = new Election(zk, path, { identifier: 'strict' });
    const lenient = new Election(zk, uniqueRoot('election'), {
      identifier: 'lenient',
      ownershipLostOn: 'LOST',
    });
    const stop = new Deferred();
    const signals: Record<string, AbortSignal> = {};
    const runs = [strict, lenient].map((election, i) =>
      election.run(async ({ signal }) => {
        signals[i === 0 ? 'strict' : 'lenient'] = signal;
        await stop.promise;
      }),
    );
    await eventually(() => strict.isLeader && lenient.isLeader, 'both lead');
    const other = new Election(zkOther, path, { identifier: 'other' });
    const otherRun = probe(other.run(() => 'led'));
    await contendersReach(other, 2);

    const { suspended, reconnected: connected } = dropConnection(zk, proxy);
    await suspended;
    assert.equal(signals.strict!.aborted, true, 'the default policy fires on SUSPENDED');
    assert.ok(
      signals.strict!.reason instanceof ConnectionLossError,
      `ConnectionLossError, got ${String(signals.strict!.reason)}`,
    );
    assert.equal(signals.lenient!.aborted, false, "ownershipLostOn: 'LOST' does not fire on SUSPENDED");
    await connected;
    assert.equal(strict.isLeader, true, 'the same session: still the leader');
    assert.equal(strict.signal.aborted, false, 'a fresh, live signal after CONNECTED');
    assert.equal(lenient.signal, signals.lenient, 'the same signal');
    assert.equal(lenient.signal.aborted, false);
    assert.deepEqual(await other.contenders(), ['strict', 'other'], 'the leader kept its node');
    assert.equal(otherRun.settled, false, 'the other candidate does not lead meanwhile');

    stop.resolve();
    await within(Promise.all(runs), 'the leaders step down');
    assert.equal(await within(otherRun.promise, 'the other candidate leads next'), 'led');
  });
});
