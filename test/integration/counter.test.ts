/**
 * Counter against a real ZooKeeper server: kazoo's KazooCounterTests (kazoo 2.8
 * kazoo/tests/test_counter.py, in our own words), the byte encodings (kazoo `repr` text,
 * Python's float spelling checked against Python itself, Curator int32), exactly-once updates
 * when the write's reply is lost (the frame-aware FaultProxy swallows it and cuts the
 * connection, or partitions until the session is LOST), the typed "outcome unknown" error where
 * exactly-once cannot be proven, and interop with Debian's kazoo 2.8.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import {
  ConnectionState,
  Counter,
  decodeCounterValue,
  encodeCounterValue,
  InvalidArgumentError,
  OutcomeUnknownError,
  pythonFloatRepr,
  RecipeMismatchError,
  type ZooKeeperClient,
} from '../../src/index.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import { connect, loseSessionAfter, nextState, serverForFile, uniqueRoot } from '../support/client.js';
import { KazooPeer, runPython } from '../support/kazoo.js';
import { testRandom } from '../support/random.js';
import { children } from '../support/recipes.js';
import { eventually, probe, rejectsWithin, safety, within } from '../support/wait.js';

const server = await serverForFile();

async function raw(zk: ZooKeeperClient, path: string): Promise<string> {
  return (await zk.get(path)).data.toString('latin1');
}

/** kazoo's test_int_counter steps: 0; +2, +1 → 3; −3, −1 → −1. */
async function countToMinusOne(counter: Counter): Promise<void> {
  assert.equal(await counter.value, 0);
  await counter.add(2);
  await counter.add(1);
  assert.equal(await counter.value, 3);
  await counter.subtract(3);
  await counter.subtract(1);
  assert.equal(await counter.value, -1);
}

describe('Counter: kazoo KazooCounterTests', () => {
  test('test_int_counter: 0; +2, +1 → 3; −3, −1 → −1', async (t) => {
    const zk = await connect(t, server);
    const counter = new Counter(zk, uniqueRoot('counter'));
    await countToMinusOne(counter);
    assert.equal(await raw(zk, counter.path), '-1');
  });

  test('test_int_curator_counter: the same in int32 big-endian, up to 2147483647 and down to −2147483647', async (t) => {
    const zk = await connect(t, server);
    const counter = new Counter(zk, uniqueRoot('counter'), { curator: true });
    await countToMinusOne(counter);
    assert.deepEqual((await zk.get(counter.path)).data, Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await counter.add(1);
    await counter.add(2147483647);
    assert.equal(await counter.value, 2147483647);
    await counter.subtract(2147483647);
    await counter.subtract(2147483647);
    assert.equal(await counter.value, -2147483647);
    assert.deepEqual((await zk.get(counter.path)).data, Buffer.from([0x80, 0x00, 0x00, 0x01]));
    await assert.rejects(
      counter.subtract(2),
      InvalidArgumentError,
      'int32 overflow is refused before writing',
    );
    assert.equal(await counter.value, -2147483647);
  });

  test('test_float_counter: 0.0; +2.1 → 2.1; −3.1 → −1.0 (stored as Python repr text)', async (t) => {
    const zk = await connect(t, server);
    const counter = new Counter(zk, uniqueRoot('counter'), { type: 'float' });
    assert.equal(await counter.value, 0);
    await counter.add(2.1);
    assert.equal(await counter.value, 2.1);
    assert.equal(await raw(zk, counter.path), '2.1');
    await counter.subtract(3.1);
    assert.equal(await counter.value, -1.0);
    assert.equal(await raw(zk, counter.path), '-1.0');
  });

  test('test_errors: int counter + 2.1 or + "a" → InvalidArgumentError; curator with a float counter → InvalidArgumentError', async (t) => {
    const zk = await connect(t, server);
    const counter = new Counter(zk, uniqueRoot('counter'));
    assert.throws(() => counter.add(2.1), InvalidArgumentError);
    assert.throws(() => counter.add('a' as unknown as number), InvalidArgumentError);
    assert.throws(
      () => new Counter(zk, uniqueRoot('counter'), { default: 0.5, curator: true }),
      InvalidArgumentError,
    );
    assert.throws(
      () => new Counter(zk, uniqueRoot('counter'), { type: 'float', curator: true }),
      InvalidArgumentError,
    );
    assert.equal(await counter.value, 0, 'nothing was written');
  });

  test('test_pre_post_values: undefined before a change; 0/2 after +2; 2/−1 after −3', async (t) => {
    const zk = await connect(t, server);
    const counter = new Counter(zk, uniqueRoot('counter'));
    assert.equal(await counter.value, 0);
    assert.equal(counter.preValue, undefined);
    assert.equal(counter.postValue, undefined);
    assert.deepEqual(await counter.add(2), { pre: 0, post: 2 });
    assert.equal(counter.preValue, 0);
    assert.equal(counter.postValue, 2);
    assert.deepEqual(await counter.subtract(3), { pre: 2, post: -1 });
    assert.equal(counter.preValue, 2);
    assert.equal(counter.postValue, -1);
  });
});

describe('Counter: encodings', () => {
  test("pythonFloatRepr matches Python's repr() for tricky values", (t) => {
    const values = [
      0,
      -0,
      1,
      -1,
      2.1,
      -1.0,
      0.1,
      1 / 3,
      1e15,
      1e16,
      1.5e16,
      1e16 + 2,
      123456789012345680,
      1e21,
      1e22,
      1e100,
      1.7976931348623157e308,
      1e-4,
      1e-5,
      0.00012345,
      1.2345e-5,
      5e-324,
      2.2250738585072014e-308,
      100,
      12345.678,
      Number.MAX_SAFE_INTEGER,
      0.3,
      2 ** 53,
      -(2 ** 60),
      Infinity,
      -Infinity,
      NaN,
    ];
    const random = testRandom(t);
    for (let i = 0; i < 200; i++) values.push((random() - 0.5) * 10 ** Math.floor(random() * 40 - 20));
    const script = 'import sys, json\nfor v in json.loads(sys.argv[1]): print(repr(float(v)))';
    const args = values.map((v) =>
      Number.isNaN(v)
        ? 'nan'
        : v === Infinity
          ? 'inf'
          : v === -Infinity
            ? '-inf'
            : Object.is(v, -0)
              ? '-0.0'
              : v.toPrecision(17),
    );
    const expected = runPython(['-c', script, JSON.stringify(args)], { limitMs: timing(10_000) })
      .trim()
      .split('\n');
    assert.deepEqual(
      values.map((v) => pythonFloatRepr(v)),
      expected,
    );
  });

  test('known spellings both ways: int digits, float repr, inf/nan, Curator bytes; foreign spellings Python accepts', () => {
    assert.equal(encodeCounterValue(5, 'int').toString(), '5');
    assert.equal(encodeCounterValue(-9007199254740991, 'int').toString(), '-9007199254740991');
    assert.equal(encodeCounterValue(3, 'float').toString(), '3.0');
    assert.equal(encodeCounterValue(1e16, 'float').toString(), '1e+16');
    assert.equal(encodeCounterValue(1.0000000000000002e16, 'float').toString(), '1.0000000000000002e+16');
    assert.equal(encodeCounterValue(1e-5, 'float').toString(), '1e-05');
    assert.equal(encodeCounterValue(Infinity, 'float').toString(), 'inf');
    assert.equal(encodeCounterValue(NaN, 'float').toString(), 'nan');
    assert.deepEqual(encodeCounterValue(-3, 'int', true), Buffer.from([0xff, 0xff, 0xff, 0xfd]));
    assert.throws(() => encodeCounterValue(2 ** 31, 'int', true), InvalidArgumentError);
    assert.throws(() => encodeCounterValue(2 ** 53, 'int'), InvalidArgumentError);
    const float = (text: string) => decodeCounterValue(Buffer.from(text), 'float', false, 0);
    assert.equal(float('3'), 3);
    assert.equal(float(' 1e+16 '), 1e16);
    assert.equal(float('-inf'), -Infinity);
    assert.equal(float('Infinity'), Infinity);
    assert.ok(Number.isNaN(float('nan')));
    assert.equal(float('1_000.5'), 1000.5);
    const int = (text: string) => decodeCounterValue(Buffer.from(text), 'int', false, 7);
    assert.equal(int(''), 7, 'empty data is the default');
    assert.equal(int(' -12 '), -12);
    assert.throws(() => int('3.0'), RecipeMismatchError, "an int counter rejects '3.0' like Python's int()");
    assert.throws(() => float('0x10'), RecipeMismatchError);
    assert.equal(decodeCounterValue(Buffer.alloc(0), 'int', true, 4), 4);
    assert.throws(() => decodeCounterValue(Buffer.from('12'), 'int', true, 0), RecipeMismatchError);
  });

  test('layout: <path> persistent, created empty on first use (reads as the default)', async (t) => {
    const zk = await connect(t, server);
    const counter = new Counter(zk, `${uniqueRoot('counter')}/nested/c`, { default: 10 });
    assert.equal(await counter.get(), 10);
    const { data, stat } = await zk.get(counter.path);
    assert.equal(data.length, 0);
    assert.equal(stat.ephemeralOwner, 0n);
    assert.deepEqual(await counter.add(5), { pre: 10, post: 15 });
    assert.equal(await raw(zk, counter.path), '15');
    await eventually(
      async () => (await zk.getChildren(counter.path)).length === 0,
      'the marker is removed after the update',
    );
  });
});

describe('Counter: concurrency and exactly-once', () => {
  test('5 clients × 20 concurrent increments → exactly 100 (version conflicts are retried)', async (t) => {
    const path = uniqueRoot('counter');
    const clients = await Promise.all([0, 1, 2, 3, 4].map(() => connect(t, server)));
    await within(
      Promise.all(
        clients.map(async (zk) => {
          const counter = new Counter(zk, path);
          for (let i = 0; i < 20; i++) await counter.add(1);
        }),
      ),
      'all increments',
      safety(30_000),
    );
    assert.equal(await new Counter(clients[0]!, path).get(), 100);
  });

  /**
   * Rounds of "add, whose write's reply is lost with the connection" (the frame proxy swallows
   * it, then cuts). Returns how many of those writes were applied (the lost-reply window) and
   * the outcomes.
   */
  async function dropRounds(zk: ZooKeeperClient, proxy: FaultProxy, counter: Counter, rounds: number) {
    await counter.get(); // the node is ensured: an add is now one read then one write
    let hits = 0;
    let successes = 0;
    let unknown = 0;
    for (let round = 0; round < rounds; round++) {
      const lost = proxy.swallowReply({ op: counter.markers ? 'multi' : 'setData', path: counter.path });
      const outcome = await within(
        counter.add(1).then(
          () => ({ ok: true as const }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
        `add of round ${round}`,
      );
      assert.equal(lost.fired, 1, `round ${round}: a write's reply was lost`);
      if ((await lost.happened).reply?.err === 0) hits++;
      if (outcome.ok) successes++;
      else if (outcome.error instanceof OutcomeUnknownError) unknown++;
      else throw outcome.error;
      await eventually(() => zk.state === ConnectionState.CONNECTED, 'reconnected');
    }
    return { hits, successes, unknown };
  }

  test('exactly-once across drops in the lost-reply window: final value = successful adds (markers)', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const counter = new Counter(zk, uniqueRoot('counter'));
    const sessionBefore = zk.sessionId;
    const { hits, successes, unknown } = await dropRounds(zk, proxy, counter, 6);
    t.diagnostic(`lost-reply window hit in ${hits} of 6 rounds`);
    assert.ok(hits >= 1, `the lost-reply window was hit at least once (hits: ${hits})`);
    assert.equal(unknown, 0, 'the session survived: every outcome is decided');
    assert.equal(successes, 6);
    assert.equal(zk.sessionId, sessionBefore, 'same session throughout');
    assert.equal(
      await new Counter(observer, counter.path).get(),
      successes,
      'no increment applied twice, none lost',
    );
    await eventually(
      async () => (await children(observer, counter.path)).length === 0,
      'every marker removed',
    );
  });

  test('markers: false (kazoo footprint): ambiguous lost replies reject with OutcomeUnknownError, never double-apply', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const counter = new Counter(zk, uniqueRoot('counter'), { markers: false });
    const { hits, successes, unknown } = await dropRounds(zk, proxy, counter, 6);
    t.diagnostic(`lost-reply window hit in ${hits} of 6 rounds; ${unknown} outcome(s) unknown`);
    assert.ok(hits >= 1, `the lost-reply window was hit at least once (hits: ${hits})`);
    assert.ok(unknown >= 1, 'a lone writer whose own value is found at v+1 cannot prove it was its write');
    assert.equal(successes + unknown, 6);
    // Single writer: every unknown outcome was in fact applied once (none twice).
    assert.equal(await new Counter(observer, counter.path).get(), successes + unknown);
    assert.deepEqual(await children(observer, counter.path), [], 'no children ever');
  });

  test('exactly-once with a competing writer: drops on one side, increments on the other → exact total', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('counter');
    let stop = false;
    let competing = 0;
    const competitor = (async () => {
      const other = new Counter(observer, path);
      while (!stop) {
        await other.add(1);
        competing++;
        await delay(20);
      }
    })();
    const { hits, successes, unknown } = await dropRounds(zk, proxy, new Counter(zk, path), 5);
    stop = true;
    await within(competitor, 'competitor stops');
    assert.equal(unknown, 0);
    assert.equal(
      await new Counter(observer, path).get(),
      successes + competing,
      `exact total (window hits: ${hits})`,
    );
  });

  test('counter: a swallowed reply + LOST: the write was applied, its marker went with the old session, the version moved → OutcomeUnknownError, applied once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 2000 });
    const observer = await connect(t, server);
    const path = uniqueRoot('counter');
    const counter = new Counter(zk, path);
    await counter.add(1);
    const oldSession = zk.sessionId;
    const swallowed = proxy.swallowReply({ op: 'multi', path }, { then: 'blackhole' });
    const adding = probe(counter.add(1));
    await loseSessionAfter(zk, proxy, swallowed, async () => {
      await eventually(
        async () => (await children(observer, path)).length === 0,
        'the old session expired, and its marker with it',
      );
      await new Counter(observer, path).add(10); // the version moves past our attempt's
    });
    assert.notEqual(zk.sessionId, oldSession);
    const error = await rejectsWithin(adding.promise, 'add after the session was lost');
    assert.ok(error instanceof OutcomeUnknownError, `OutcomeUnknownError, got ${String(error)}`);
    assert.equal(await new Counter(observer, path).get(), 12, 'applied once, not retried');
  });

  test('a swallowed reply + LOST, the old session still alive at the settle: its marker proves the write, resolved once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString, { sessionTimeout: 4000 });
    const observer = await connect(t, server);
    const path = uniqueRoot('counter');
    const counter = new Counter(zk, path);
    await counter.add(1);
    const swallowed = proxy.swallowReply({ op: 'multi', path }, { then: 'blackhole' });
    const adding = probe(counter.add(1));
    await loseSessionAfter(zk, proxy, swallowed);
    // The client declares LOST on its own timer; the server expires the session later (rounded up
    // to its tick), so the marker is normally still there. If not, the outcome is unknown, never doubled.
    await within(
      adding.promise.catch(() => {}),
      'add settles in the new session',
    );
    if (adding.error === undefined) assert.deepEqual(adding.value, { pre: 1, post: 2 });
    else assert.ok(adding.error instanceof OutcomeUnknownError, `got ${String(adding.error)}`);
    assert.equal(await new Counter(observer, path).get(), 2, 'applied exactly once');
    await eventually(async () => (await children(observer, path)).length === 0, 'no marker left');
  });

  test('LOST before the write reached the server: the retry in the new session is exclusive by version → exactly once', async (t) => {
    await using proxy = await FaultProxy.start(server.connectString);
    const zk = await connect(t, proxy.connectString);
    const observer = await connect(t, server);
    const path = uniqueRoot('counter');
    const counter = new Counter(zk, path);
    await counter.add(1);
    const D = timing(100);
    proxy.setDelay(D); // the read answers at 2D; the write is sent then and would land at 3D
    const adding = probe(counter.add(1));
    await delay(Math.round(2.5 * D));
    proxy.blackhole(); // the write, still in the proxy, is discarded
    await delay(D);
    assert.equal(await new Counter(observer, path).get(), 1, 'the write never arrived');
    const lost = nextState(zk, ConnectionState.LOST, safety());
    proxy.refuse();
    proxy.drop();
    proxy.heal();
    proxy.setDelay(0);
    await server.expireSession(zk);
    proxy.accept();
    await lost;
    assert.deepEqual(await within(adding.promise, 'add in the new session'), { pre: 1, post: 2 });
    assert.equal(await new Counter(observer, path).get(), 2);
  });
});

describe('Counter: interop with kazoo 2.8', () => {
  test('a counter node created by us reads as the default in kazoo (empty data, not null: kazoo would fail on None)', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const path = `${uniqueRoot('counter')}/nested`;
    assert.equal(await new Counter(zk, path).get(), 0);
    assert.deepEqual(
      (await peer.request('null_data', { paths: [path, path.slice(0, path.lastIndexOf('/'))] }))['nulls'],
      [],
    );
    assert.equal((await peer.request('counter_value', { path }))['value'], '0');
    assert.equal(
      (await peer.request('counter_value', { path: uniqueRoot('counter'), float: true }))['value'],
      '0.0',
    );
  });

  test('kazoo and TS increment the same counter concurrently: the total is exact', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const path = uniqueRoot('counter');
    await new Counter(zk, path).get(); // we create the node (the race kazoo lost before empty data was used)
    const kazoo = peer.request('counter_add', { path, delta: 1, times: 50 }, { limitMs: safety(60_000) });
    const counter = new Counter(zk, path);
    for (let i = 0; i < 50; i++) await counter.add(1);
    const answer = await kazoo;
    assert.ok(Number(answer['value']) >= 50);
    assert.equal(await counter.get(), 100);
    assert.equal((await peer.request('counter_value', { path }))['value'], '100');
  });

  test('float counter: TS writes read by kazoo and kazoo writes read by TS, same bytes', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const path = uniqueRoot('counter');
    const counter = new Counter(zk, path, { type: 'float' });
    await counter.add(2.1);
    assert.deepEqual(await peer.request('counter_value', { path, float: true }), {
      id: 1,
      ok: true,
      value: '2.1',
      raw: Buffer.from('2.1').toString('hex'),
    });
    const kazoo = await peer.request('counter_add', { path, delta: 1e16, float: true });
    assert.equal(kazoo['value'], repr(2.1 + 1e16));
    assert.equal(await counter.get(), 2.1 + 1e16);
    await counter.subtract(1e16 + 2.1);
    assert.equal(
      (await peer.request('counter_value', { path, float: true }))['value'],
      repr(2.1 + 1e16 - (1e16 + 2.1)),
    );
    assert.equal(await raw(zk, path), pythonFloatRepr(2.1 + 1e16 - (1e16 + 2.1)));
  });

  test('int counter: kazoo reads our digits; curator mode: the same int32 bytes on both sides', async (t) => {
    const zk = await connect(t, server);
    const peer = await KazooPeer.start(t, 'kazoo_recipes.py', [server.connectString]);
    const path = uniqueRoot('counter');
    await new Counter(zk, path).subtract(3);
    assert.equal((await peer.request('counter_value', { path }))['raw'], Buffer.from('-3').toString('hex'));
    await peer.request('counter_add', { path, delta: 10 });
    assert.equal(await new Counter(zk, path).get(), 7);
    const curatorPath = uniqueRoot('counter');
    await new Counter(zk, curatorPath, { curator: true }).subtract(3);
    const answer = await peer.request('counter_value', { path: curatorPath, curator: true });
    assert.equal(answer['value'], '-3');
    assert.equal(answer['raw'], 'fffffffd');
    await peer.request('counter_add', { path: curatorPath, curator: true, delta: 2147483647 });
    assert.equal(await new Counter(zk, curatorPath, { curator: true }).get(), 2147483644);
  });
});

function repr(value: number): string {
  return pythonFloatRepr(value);
}
