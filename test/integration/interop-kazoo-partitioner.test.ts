/**
 * SetPartitioner / DataWatch / ChildrenWatch interop with real kazoo 2.8 processes (Debian's
 * `/usr/bin/python3`, `test/interop/kazoo_partitioner.py`): kazoo's own default partition
 * function and ours agree on many inputs (numbers, strings, code-point order); a kazoo
 * SetPartitioner and ours split one set without overlap, each taking exactly kazoo's share, also
 * after a member joins and after the kazoo member finishes; kazoo's DataWatch / ChildrenWatch
 * and ours report the same values for the same writes. Skipped when kazoo is not installed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ChildrenWatch,
  DataWatch,
  kazooPartition,
  SetPartitioner,
  type ZooKeeperClient,
} from '../../src/index.js';
import { connect, serverForFile, uniqueRoot } from '../support/client.js';
import { interopScript, KazooPeer, runPythonJson } from '../support/kazoo.js';
import { children } from '../support/recipes.js';
import { Recorder } from '../support/recorder.js';
import { eventually, safety } from '../support/wait.js';

const SCRIPT = interopScript('kazoo_partitioner.py');

const server = await serverForFile();

/** kazoo's `_partitioner` on many cases at once. */
function kazooSplit(
  cases: { identifier: string; members: string[]; items: (string | number)[] }[],
): unknown[] {
  return runPythonJson([SCRIPT, 'split'], { input: JSON.stringify(cases) });
}

/** The kazoo peer's share while its loop last saw ACQUIRED, else undefined. */
function kazooCurrent(peer: KazooPeer): number[] | undefined {
  const states = peer.lines.filter((line) => line.startsWith('STATE '));
  if (states.at(-1) !== 'STATE ACQUIRED') return undefined;
  const line = peer.lines.filter((l) => l.startsWith('ACQUIRED ')).at(-1);
  return line === undefined ? undefined : (JSON.parse(line.split(' ').slice(2).join(' ')) as number[]);
}

/** Lock holders' sessions per item. */
async function holderSessions(
  zk: ZooKeeperClient,
  path: string,
  items: number[],
): Promise<Map<number, bigint | undefined>> {
  const result = new Map<number, bigint | undefined>();
  for (const item of items) {
    const dir = `${path}/locks/${item}`;
    const nodes = (await children(zk, dir)).sort((a, b) => (a.slice(-10) < b.slice(-10) ? -1 : 1));
    result.set(
      item,
      nodes[0] === undefined ? undefined : (await zk.exists(`${dir}/${nodes[0]}`))?.ephemeralOwner,
    );
  }
  return result;
}

describe('kazoo 2.8 interop: SetPartitioner', () => {
  test("kazoo's partition function and ours agree (numbers, strings, code points, not-a-member)", async () => {
    const words = ['a', 'B', 'b', 'é', 'z', '\uFF5E', '\u{1F600}', 'a-b', '10', '9', 'Ω'];
    const cases: { identifier: string; members: string[]; items: (string | number)[] }[] = [];
    for (let n = 0; n < 60; n++) {
      const memberCount = 1 + (n % 5);
      const members = Array.from(
        { length: memberCount },
        (_, i) => words[(n * 7 + i * 3) % words.length]! + (i % 2 ? String(i) : ''),
      );
      const unique = [...new Set(members)];
      const identifier = n % 13 === 0 ? 'not-a-member' : unique[n % unique.length]!;
      const items: (string | number)[] =
        n % 2 === 0
          ? Array.from({ length: n % 17 }, (_, i) => (i * 37 + n) % 101)
          : Array.from({ length: n % 11 }, (_, i) => words[(i + n) % words.length]! + String(i));
      cases.push({ identifier, members: unique, items: [...new Set(items)] });
    }
    const expected = kazooSplit(cases);
    const ours = cases.map(({ identifier, members, items }) => {
      try {
        return kazooPartition(identifier, members, items);
      } catch (error) {
        return {
          error:
            error instanceof Error && /not in the member list/.test(error.message)
              ? 'ValueError'
              : String(error),
        };
      }
    });
    assert.deepEqual(ours, expected);
  });

  test("a kazoo member and ours split one set without overlap, each taking kazoo's share; then a join and a finish", async (t) => {
    const path = uniqueRoot('sp-interop');
    const items = Array.from({ length: 10 }, (_, i) => i);
    const zk = await connect(t, server);
    const kazoo = await KazooPeer.start(
      t,
      'kazoo_partitioner.py',
      ['peer', server.connectString, path, 'kazoo-k', JSON.stringify(items), '0.3'],
      'partitioner',
    );
    const kazooSession = kazoo.session.sessionId;
    const ours = new SetPartitioner(zk, path, items, { identifier: 'ts-1', timeBoundary: 300 });
    t.after(() => ours.finish());

    // Both settle on the 2-member split (either may see a 1-member split first).
    const expectTwo = {
      k: kazooPartition('kazoo-k', ['kazoo-k', 'ts-1'], items),
      t: kazooPartition('ts-1', ['kazoo-k', 'ts-1'], items),
    };
    let kazooItems: number[] | undefined;
    await eventually(
      async () => {
        if (ours.released) await ours.release();
        kazooItems = kazooCurrent(kazoo);
        return (
          ours.acquired &&
          JSON.stringify(kazooItems) === JSON.stringify(expectTwo.k) &&
          JSON.stringify([...ours.items]) === JSON.stringify(expectTwo.t)
        );
      },
      `2-way split: kazoo ${JSON.stringify(kazooItems)} ours ${JSON.stringify([...ours.items])}`,
      safety(30_000),
    );
    kazooItems = expectTwo.k;
    assert.deepEqual(
      [...kazooItems, ...ours.items].sort((a, b) => a - b),
      items,
      'union = the set, disjoint',
    );
    let holders = await holderSessions(zk, path, items);
    for (const item of expectTwo.k)
      assert.equal(holders.get(item), kazooSession, `kazoo holds the lock of ${item}`);
    for (const item of expectTwo.t)
      assert.equal(holders.get(item), zk.sessionId, `we hold the lock of ${item}`);
    const members = await zk.getChildren(`${path}/party`);
    assert.deepEqual(members.map((m) => m.slice(33)).sort(), ['kazoo-k', 'ts-1']);

    // A second TypeScript member joins: everybody re-partitions three ways.
    const zk2 = await connect(t, server);
    const ours2 = new SetPartitioner(zk2, path, items, { identifier: 'ts-2', timeBoundary: 300 });
    t.after(() => ours2.finish());
    const three = ['kazoo-k', 'ts-1', 'ts-2'];
    await eventually(
      async () => {
        kazooItems = kazooCurrent(kazoo);
        for (const p of [ours, ours2]) if (p.released) await p.release();
        return (
          ours.acquired &&
          ours2.acquired &&
          JSON.stringify(kazooItems) === JSON.stringify(kazooPartition('kazoo-k', three, items)) &&
          JSON.stringify([...ours.items]) === JSON.stringify(kazooPartition('ts-1', three, items)) &&
          JSON.stringify([...ours2.items]) === JSON.stringify(kazooPartition('ts-2', three, items))
        );
      },
      '3-way split agreed by all',
      safety(30_000),
    );
    holders = await holderSessions(zk, path, items);
    for (const item of kazooPartition('kazoo-k', three, items)) assert.equal(holders.get(item), kazooSession);
    for (const item of ours2.items) assert.equal(holders.get(item), zk2.sessionId);

    // kazoo finishes: the two of us take everything.
    kazoo.send('finish');
    await kazoo.next(/^FINISHED$/);
    const two = ['ts-1', 'ts-2'];
    await eventually(
      async () => {
        for (const p of [ours, ours2]) if (p.released) await p.release();
        return (
          ours.acquired &&
          ours2.acquired &&
          JSON.stringify([...ours.items]) === JSON.stringify(kazooPartition('ts-1', two, items)) &&
          JSON.stringify([...ours2.items]) === JSON.stringify(kazooPartition('ts-2', two, items))
        );
      },
      'the TS members re-balance after kazoo left',
      safety(30_000),
    );
    assert.deepEqual(
      [...ours.items, ...ours2.items].sort((a, b) => a - b),
      items,
    );
  });
});

describe('kazoo 2.8 interop: DataWatch / ChildrenWatch', () => {
  test('kazoo and ours see the same data values and child lists for the same writes', async (t) => {
    const zk = await connect(t, server);
    const path = uniqueRoot('watch-interop');
    await zk.create(path, 'v0');
    const kazoo = await KazooPeer.start(
      t,
      'kazoo_partitioner.py',
      ['watch', server.connectString, path],
      'watch',
    );
    const data = new Recorder<string | null>();
    const kids = new Recorder<string[]>();
    const dw = new DataWatch(zk, path, (value) => data.push(value === null ? null : value.toString('utf8')));
    const cw = new ChildrenWatch(zk, path, (names) => kids.push([...names].sort()));
    t.after(() => Promise.all([dw.stop(), cw.stop()]));
    const kazooData = async () => JSON.parse((await kazoo.next(/^DATA /)).slice(5)) as string | null;
    const kazooChildren = async () => JSON.parse((await kazoo.next(/^CHILDREN /)).slice(9)) as string[];
    assert.equal(await kazooData(), 'v0');
    assert.deepEqual(await kazooChildren(), []);
    assert.equal(await data.nth(1), 'v0');
    assert.deepEqual(await kids.nth(1), []);

    await zk.set(path, 'v1');
    assert.equal(await kazooData(), 'v1');
    assert.equal(await data.nth(2), 'v1');
    await zk.set(path, 'v1'); // identical bytes: both report it (mzxid changed)
    assert.equal(await kazooData(), 'v1');
    assert.equal(await data.nth(3), 'v1');
    await zk.create(`${path}/a`);
    assert.deepEqual(await kazooChildren(), ['a']);
    assert.deepEqual(await kids.nth(2), ['a']);
    await zk.create(`${path}/b`);
    assert.deepEqual(await kazooChildren(), ['a', 'b']);
    assert.deepEqual(await kids.nth(3), ['a', 'b']);
    assert.deepEqual(data.calls, ['v0', 'v1', 'v1']);
  });
});
