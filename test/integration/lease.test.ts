/**
 * NonBlockingLease and MultiNonBlockingLease against a real ZooKeeper 3.8: kazoo's
 * `NonBlockingLeaseTests` and `MultiNonBlockingLeaseTest` (kazoo/tests/test_lease.py, mock clock
 * starting at epoch 10 s), the byte format shared with kazoo, cancel/timeout cleanup, the
 * default identifier (pitfall P10), session loss, and interop with Debian's kazoo 2.8.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import {
  AbortError,
  Lock,
  MultiNonBlockingLease,
  NonBlockingLease,
  RecipeMismatchError,
  encodeLease,
  decodeLease,
  type ZooKeeperClient,
} from '../../src/index.js';
import { formatLeaseEnd } from '../../src/recipes/lease/non-blocking-lease.js';
import { FaultProxy, timing } from '../../src/testing/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { runKazoo } from '../support/kazoo.js';
import { eventually, within } from '../support/wait.js';

const server = await serverForFile();

const LIMIT = timing(20_000);
const INDEX_URL = new URL('../../src/index.js', import.meta.url).href;

/** kazoo's MockClock: a UTC clock the test moves by hand, starting at `epoch` seconds. */
class MockClock {
  constructor(private epoch = 0) {}
  forward(seconds: number): void {
    this.epoch += seconds;
  }
  readonly now = (): Date => new Date(this.epoch * 1000);
}

const seconds = (s: number) => s * 1000;

/** Wait until `path` has exactly `count` children. */
function childCount(zk: ZooKeeperClient, path: string, count: number): Promise<unknown> {
  return eventually(
    async () => (await zk.getChildren(path).catch(() => [])).length === count,
    `${count} children of ${path}`,
    LIMIT,
  );
}

describe('NonBlockingLease', () => {
  // kazoo's fixture: client (default identity), client2 and client3 (other identities).
  let client: ZooKeeperClient;
  let client2: ZooKeeperClient;
  let client3: ZooKeeperClient;
  let path: string;
  let clock: MockClock;

  async function setUp(t: TestContext): Promise<void> {
    client = await connect(t, server);
    client2 = await connect(t, server);
    client3 = await connect(t, server);
    path = uniqueRoot('lease');
    clock = new MockClock(10);
  }

  /** kazoo's `NonBlockingLease(zk, path, timedelta(seconds=3), utcnow=clock)`; no identifier: the default. */
  function obtain(zk: ZooKeeperClient, identifier?: string): Promise<NonBlockingLease> {
    return NonBlockingLease.obtain(zk, path, seconds(3), { identifier, utcnow: clock.now });
  }

  /** kazoo's `MultiNonBlockingLease(zk, count, path, timedelta(seconds=s), utcnow=clock)`. */
  function obtainSlot(
    zk: ZooKeeperClient,
    count: number,
    durationSeconds: number,
    identifier?: string,
  ): Promise<MultiNonBlockingLease> {
    return MultiNonBlockingLease.obtain(zk, count, path, seconds(durationSeconds), {
      identifier,
      utcnow: clock.now,
    });
  }

  describe('kazoo NonBlockingLeaseTests', () => {
    test('test_renew', async (t) => {
      await setUp(t);
      const lease = await obtain(client);
      assert.equal(lease.obtained, true);
      assert.equal(lease.holder, NonBlockingLease.defaultIdentifier);
      assert.equal(lease.end?.toISOString(), '1970-01-01T00:00:13.000Z');
      clock.forward(2);
      const renewed = await obtain(client);
      assert.equal(renewed.obtained, true);
      assert.equal(renewed.end?.toISOString(), '1970-01-01T00:00:15.000Z');
      assert.equal(lease.isHeld, true); // same clock: 12 s < 13 s
      // Layout: <path> persistent and empty; lease_holder persistent; no lock node left.
      assert.deepEqual(await client.getChildren(path), ['lease_holder']);
      const { data, stat } = await client.get(`${path}/lease_holder`);
      assert.equal(stat.ephemeralOwner, 0n);
      assert.equal(
        data.toString('utf8'),
        `{"version": 1, "holder": "${NonBlockingLease.defaultIdentifier}", "end": "1970-01-01T00:00:15"}`,
      );
      assert.equal((await client.get(path)).data.length, 0);
    });

    test('test_busy', async (t) => {
      await setUp(t);
      assert.equal((await obtain(client)).obtained, true);
      clock.forward(2);
      const foreigner = await obtain(client2, 'some.other.host');
      assert.equal(foreigner.obtained, false);
      assert.equal(foreigner.isHeld, false);
      assert.equal(foreigner.holder, NonBlockingLease.defaultIdentifier);
      assert.equal(foreigner.end?.toISOString(), '1970-01-01T00:00:13.000Z');
    });

    test('test_overtake', async (t) => {
      await setUp(t);
      assert.equal((await obtain(client)).obtained, true);
      clock.forward(4);
      const foreigner = await obtain(client2, 'some.other.host');
      assert.equal(foreigner.obtained, true);
      assert.equal(foreigner.holder, 'some.other.host');
    });

    test('test_renew_no_overtake', async (t) => {
      await setUp(t);
      assert.equal((await obtain(client)).obtained, true);
      clock.forward(2);
      assert.equal((await obtain(client)).obtained, true);
      clock.forward(2);
      const foreigner = await obtain(client2, 'some.other.host');
      assert.equal(foreigner.obtained, false);
    });

    test('test_overtaker_renews', async (t) => {
      await setUp(t);
      assert.equal((await obtain(client)).obtained, true);
      clock.forward(4);
      const foreigner = new NonBlockingLease(client2, path, seconds(3), {
        identifier: 'some.other.host',
        utcnow: clock.now,
      });
      assert.equal(await foreigner.obtain(), true);
      clock.forward(2);
      assert.equal(await foreigner.obtain(), true); // the same object renews
      assert.equal(foreigner.end?.toISOString(), '1970-01-01T00:00:19.000Z');
    });

    test('test_overtake_refuse_first', async (t) => {
      await setUp(t);
      assert.equal((await obtain(client)).obtained, true);
      clock.forward(4);
      assert.equal((await obtain(client2, 'some.other.host')).obtained, true);
      clock.forward(2);
      const firstAgain = await obtain(client);
      assert.equal(firstAgain.obtained, false);
      assert.equal(firstAgain.holder, 'some.other.host');
    });

    test('test_old_version: a lease written in a newer format is not taken, even expired', async (t) => {
      await setUp(t);
      // kazoo bumps NonBlockingLease._version; we write what such a version would.
      await client.create(
        `${path}/lease_holder`,
        encodeLease(NonBlockingLease.defaultIdentifier, '1970-01-01T00:00:13', 2),
        { makePath: true },
      );
      clock.forward(4);
      const foreigner = await obtain(client2, 'some.other.host');
      assert.equal(foreigner.obtained, false);
      assert.equal(decodeLease((await client.get(`${path}/lease_holder`)).data).version, 2); // untouched
    });
  });

  describe('kazoo MultiNonBlockingLeaseTest', () => {
    test('test_1_renew', async (t) => {
      await setUp(t);
      const ls = await obtainSlot(client, 1, 4);
      assert.equal(ls.obtained, true);
      assert.equal(ls.slot, 0);
      clock.forward(2);
      assert.equal((await obtainSlot(client, 1, 4)).obtained, true);
      assert.deepEqual(await client.getChildren(path), ['0']);
      assert.deepEqual(await client.getChildren(`${path}/0`), ['lease_holder']);
    });

    test('test_1_reject', async (t) => {
      await setUp(t);
      assert.equal((await obtainSlot(client, 1, 4)).obtained, true);
      clock.forward(2);
      const ls2 = await obtainSlot(client2, 1, 4, 'some.other.host');
      assert.equal(ls2.obtained, false);
      assert.equal(ls2.slot, undefined);
      assert.equal(ls2.isHeld, false);
    });

    test('test_2_renew', async (t) => {
      await setUp(t);
      const a = () => obtainSlot(client, 2, 7);
      const b = () => obtainSlot(client2, 2, 7, 'host2');
      assert.equal((await a()).slot, 0);
      clock.forward(2);
      assert.equal((await b()).slot, 1);
      clock.forward(2);
      assert.equal((await a()).slot, 0);
      clock.forward(2);
      assert.equal((await b()).slot, 1);
    });

    test('test_2_reject', async (t) => {
      await setUp(t);
      assert.equal((await obtainSlot(client, 2, 7)).obtained, true);
      clock.forward(2);
      assert.equal((await obtainSlot(client2, 2, 7, 'host2')).obtained, true);
      clock.forward(2);
      const ls3 = await obtainSlot(client3, 2, 7, 'host3');
      assert.equal(ls3.obtained, false);
    });

    test('test_2_handover', async (t) => {
      await setUp(t);
      assert.equal((await obtainSlot(client, 2, 4)).slot, 0); // 10 s → ends 14
      clock.forward(2);
      assert.equal((await obtainSlot(client2, 2, 4, 'host2')).slot, 1); // 12 → 16
      clock.forward(3);
      assert.equal((await obtainSlot(client3, 2, 4, 'host3')).slot, 0); // 15: slot 0 expired
      clock.forward(2);
      const ls4 = await obtainSlot(client, 2, 4); // 17: slot 0 busy, slot 1 expired
      assert.equal(ls4.obtained, true);
      assert.equal(ls4.slot, 1);
      assert.equal(ls4.end?.toISOString(), '1970-01-01T00:00:21.000Z');
    });
  });

  describe("beyond kazoo's tests", () => {
    test('the default identifier is unique per process, not the host name (pitfall P10)', async (t) => {
      const id = NonBlockingLease.defaultIdentifier;
      assert.notEqual(id, hostname());
      assert.ok(id.startsWith(`${hostname()}-${process.pid}-`), id);
      assert.match(id.slice(`${hostname()}-${process.pid}-`.length), /^[0-9a-f]{8}$/);
      const child = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { NonBlockingLease } from ${JSON.stringify(INDEX_URL)}; console.log(NonBlockingLease.defaultIdentifier);`,
        ],
        { encoding: 'utf8', timeout: LIMIT },
      );
      assert.equal(child.status, 0, child.stderr);
      const other = child.stdout.trim();
      assert.ok(other.startsWith(`${hostname()}-`), other);
      assert.notEqual(other, id);
      // Two processes on one host with default identities do not share the lease.
      const zk = await connect(t, server);
      const path = uniqueRoot('lease');
      assert.equal((await NonBlockingLease.obtain(zk, path, seconds(60))).obtained, true);
      const theirs = encodeLease(other, formatLeaseEnd(Date.now() + seconds(60)));
      await zk.set(`${path}/lease_holder`, theirs);
      const mine = await NonBlockingLease.obtain(zk, path, seconds(60), { identifier: '' }); // '' means the default
      assert.equal(mine.obtained, false);
      assert.equal(mine.holder, other);
    });

    test('scenario 6: a 30-day lease is held and its signal is not aborted (no clamped 1 ms timer)', async (t) => {
      const zk = await connect(t, server);
      const lease = await NonBlockingLease.obtain(zk, uniqueRoot('lease'), 30 * 24 * 3600_000);
      assert.equal(lease.obtained, true);
      await delay(timing(300));
      assert.equal(lease.signal.aborted, false, String(lease.signal.reason));
      assert.equal(lease.isHeld, true);
    });

    test('encodeLease writes Python json.dumps bytes; decodeLease reads them back', () => {
      assert.equal(
        encodeLease('me\u00e9', '2026-11-23T01:17:17').toString('latin1'),
        '{"version": 1, "holder": "me\\u00e9", "end": "2026-11-23T01:17:17"}',
      );
      assert.equal(
        encodeLease('a"b\\c\n\t\u0001\u007f\u{1f600}', 'E').toString('latin1'),
        '{"version": 1, "holder": "a\\"b\\\\c\\n\\t\\u0001\\u007f\\ud83d\\ude00", "end": "E"}',
      );
      assert.deepEqual(decodeLease(encodeLease('x\u00e9\u{1f600}', '2026-01-02T03:04:05')), {
        version: 1,
        holder: 'x\u00e9\u{1f600}',
        end: '2026-01-02T03:04:05',
      });
      assert.equal(formatLeaseEnd(Date.UTC(2026, 10, 23, 1, 17, 14, 999) + 3000), '2026-11-23T01:17:17'); // truncated, not rounded
      assert.throws(() => decodeLease(Buffer.from('not json')), RecipeMismatchError);
      assert.throws(
        () => decodeLease(Buffer.from('{"holder": "x", "end": "2026-01-02T03:04:05"}')),
        RecipeMismatchError,
      );
      assert.throws(
        () => decodeLease(Buffer.from('{"version": 1, "holder": "x", "end": "tomorrow"}')),
        RecipeMismatchError,
      );
      assert.equal(decodeLease(Buffer.from('{"version": "1"}')).version, NaN); // another format: refused, as kazoo does
    });

    test('a malformed lease node is a RecipeMismatchError and leaves no lock node', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('lease');
      await zk.create(`${path}/lease_holder`, 'garbage', { makePath: true });
      await assert.rejects(new NonBlockingLease(zk, path, seconds(3)).obtain(), RecipeMismatchError);
      assert.deepEqual(await zk.getChildren(path), ['lease_holder']);
    });

    test('timeout and abort while another obtainer holds the lock: false / AbortError, no node left', async (t) => {
      const zk = await connect(t, server);
      const other = await connect(t, server);
      const path = uniqueRoot('lease');
      const busy = new Lock(other, path, { identifier: 'mid-obtain' }); // another obtainer's critical section
      assert.equal(await busy.acquire(), true);
      const lease = new NonBlockingLease(zk, path, seconds(60), { identifier: 'me' });
      assert.equal(await lease.obtain({ timeout: 500 }), false);
      assert.equal(lease.obtained, false);
      assert.equal((await zk.getChildren(path)).length, 1);
      const controller = new AbortController();
      const pending = lease.obtain({ signal: controller.signal });
      await childCount(zk, path, 2);
      controller.abort();
      await assert.rejects(within(pending, 'the aborted obtain', LIMIT), AbortError);
      assert.equal((await zk.getChildren(path)).length, 1);
      assert.equal(await zk.exists(`${path}/lease_holder`), null);
      await busy.release();
      assert.equal(await lease.obtain(), true);
      assert.deepEqual(await zk.getChildren(path), ['lease_holder']);
      const multi = new MultiNonBlockingLease(zk, 2, uniqueRoot('lease'), seconds(60));
      await assert.rejects(multi.obtain({ signal: AbortSignal.abort() }), AbortError);
    });

    test("a lease survives the loss of its holder's session (it is data, not an ephemeral)", async (t) => {
      const zk = await connect(t, server);
      const other = await connect(t, server);
      const path = uniqueRoot('lease');
      const lease = await NonBlockingLease.obtain(zk, path, seconds(600), { identifier: 'survivor' });
      assert.equal(lease.isHeld, true);
      await server.expireSession(zk);
      assert.equal(lease.isHeld, true);
      const rival = await NonBlockingLease.obtain(other, path, seconds(600), { identifier: 'rival' });
      assert.equal(rival.obtained, false);
      assert.equal(rival.holder, 'survivor');
      assert.equal(await lease.obtain(), true); // renew from the new session
    });

    test('concurrent obtainers with distinct identities: exactly one gets the lease', async (t) => {
      const path = uniqueRoot('lease');
      const clients = await Promise.all(Array.from({ length: 5 }, () => connect(t, server)));
      const results = await Promise.all(
        clients.map((zk, i) => NonBlockingLease.obtain(zk, path, seconds(600), { identifier: `p${i}` })),
      );
      const winners = results.filter((lease) => lease.obtained);
      assert.equal(winners.length, 1);
      for (const lease of results) assert.equal(lease.holder, winners[0]!.identifier);
      assert.deepEqual(await clients[0]!.getChildren(path), ['lease_holder']);
    });
  });

  describe('interop with kazoo 2.8', () => {
    const TRICKY = 'me\u00e9 "q" \\ back\nline\ttab \u007f \u{1f600} end';

    test('lease JSON round trip, byte for byte, both ways', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('lease');
      // kazoo writes (its clock: 2026-11-23 01:17:14.999999, 3 s lease) …
      const kazoo = runKazoo(
        server.connectString,
        `
lease = NonBlockingLease(zk, args['path'], datetime.timedelta(seconds=3), identifier=args['id'],
                         utcnow=lambda: datetime.datetime(2026, 11, 23, 1, 17, 14, 999999))
out['obtained'] = lease.obtained
out['raw'] = zk.get(args['path'] + '/lease_holder')[0].hex()
`,
        { path, id: TRICKY },
      );
      assert.equal(kazoo.out['obtained'], true);
      const kazooBytes = Buffer.from(kazoo.out['raw'] as string, 'hex');
      // … we encode the same lease to the same bytes, and read kazoo's.
      assert.deepEqual(encodeLease(TRICKY, '2026-11-23T01:17:17'), kazooBytes);
      assert.deepEqual(decodeLease(kazooBytes), { version: 1, holder: TRICKY, end: '2026-11-23T01:17:17' });
      // Our obtain with the same identity and clock (renewal) writes exactly kazoo's bytes.
      const ours = await NonBlockingLease.obtain(zk, path, seconds(3), {
        identifier: TRICKY,
        utcnow: () => new Date(Date.UTC(2026, 10, 23, 1, 17, 14, 999)),
      });
      assert.equal(ours.obtained, true);
      assert.deepEqual((await zk.get(`${path}/lease_holder`)).data, kazooBytes);
      // We write another identity; kazoo parses it, re-dumps identical bytes, and honours it.
      const otherPath = uniqueRoot('lease');
      assert.equal(
        (
          await NonBlockingLease.obtain(zk, otherPath, seconds(3), {
            identifier: TRICKY + '2',
            utcnow: () => new Date(Date.UTC(2026, 10, 23, 1, 17, 14)),
          })
        ).obtained,
        true,
      );
      const reread = runKazoo(
        server.connectString,
        `
import json
raw = zk.get(args['path'] + '/lease_holder')[0]
data = json.loads(raw.decode('utf-8'))
out['same_bytes'] = json.dumps(data).encode('utf-8') == raw
out['data'] = data
lease = NonBlockingLease(zk, args['path'], datetime.timedelta(seconds=3), identifier='kazoo-other',
                         utcnow=lambda: datetime.datetime(2026, 11, 23, 1, 17, 16))
out['obtained'] = lease.obtained
`,
        { path: otherPath },
      );
      assert.equal(reread.out['same_bytes'], true);
      assert.deepEqual(reread.out['data'], { version: 1, holder: TRICKY + '2', end: '2026-11-23T01:17:17' });
      assert.equal(reread.out['obtained'], false);
    });

    test('a lease obtained by kazoo is held for us; ours is held for kazoo; the same identity renews across libraries', async (t) => {
      const zk = await connect(t, server);
      const path = uniqueRoot('lease');
      const kazoo = runKazoo(
        server.connectString,
        `
out['obtained'] = NonBlockingLease(zk, args['path'], datetime.timedelta(minutes=5), identifier='kazoo-holder').obtained
`,
        { path },
      );
      assert.equal(kazoo.out['obtained'], true);
      const ours = await NonBlockingLease.obtain(zk, path, seconds(300), { identifier: 'ts-holder' });
      assert.equal(ours.obtained, false);
      assert.equal(ours.holder, 'kazoo-holder');
      const end = ours.end!.getTime();
      assert.ok(end > Date.now() + seconds(200) && end <= Date.now() + seconds(300), ours.end?.toISOString());
      // The reverse, on another path.
      const path2 = uniqueRoot('lease');
      assert.equal(
        (await NonBlockingLease.obtain(zk, path2, seconds(300), { identifier: 'ts-holder' })).obtained,
        true,
      );
      const reverse = runKazoo(
        server.connectString,
        `
out['other'] = NonBlockingLease(zk, args['path'], datetime.timedelta(minutes=5), identifier='kazoo-other').obtained
out['same'] = NonBlockingLease(zk, args['path'], datetime.timedelta(minutes=5), identifier='ts-holder').obtained
out['children'] = zk.get_children(args['path'])
out['multi'] = MultiNonBlockingLease(zk, 2, args['multi'], datetime.timedelta(minutes=5), identifier='kazoo-m').obtained
`,
        { path: path2, multi: `${path2}-multi` },
      );
      assert.equal(reverse.out['other'], false);
      assert.equal(reverse.out['same'], true);
      assert.deepEqual(reverse.out['children'], ['lease_holder']);
      assert.equal(reverse.out['multi'], true);
      // kazoo took slot 0 of the multi-lease; we get slot 1, and a third identity nothing.
      assert.equal(
        (await MultiNonBlockingLease.obtain(zk, 2, `${path2}-multi`, seconds(300), { identifier: 'ts-m' }))
          .slot,
        1,
      );
      assert.equal(
        (await MultiNonBlockingLease.obtain(zk, 2, `${path2}-multi`, seconds(300), { identifier: 'ts-n' }))
          .obtained,
        false,
      );
    });
  });

  describe('lost replies (frame proxy)', () => {
    test('an obtain whose commit reply is lost resolves true once: the lease node is ours, the lock node removed', async (t) => {
      await using proxy = await FaultProxy.start(server.connectString);
      const zk = await connect(t, proxy.connectString);
      const observer = await connect(t, server);
      const path = uniqueRoot('lease');
      const lease = new NonBlockingLease(zk, path, seconds(60), { identifier: 'me' });
      const swallowed = proxy.swallowReply({ op: 'multi', path: lease.holderPath });
      assert.equal(await within(lease.obtain(), 'obtain', LIMIT), true);
      assert.equal(swallowed.fired, 1, 'the reply was lost');
      assert.equal(decodeLease((await observer.get(lease.holderPath)).data).holder, 'me');
      assert.equal(lease.fencingToken, (await observer.exists(lease.holderPath))?.czxid);
      await eventually(
        async () => (await observer.getChildren(path)).join() === 'lease_holder',
        'only the lease node is left',
        LIMIT,
      );
      assert.equal(
        await new NonBlockingLease(observer, path, seconds(60), { identifier: 'rival' }).obtain(),
        false,
        'held by us',
      );
    });
  });
});
